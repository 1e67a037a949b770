// The mini-program chat page against the REAL bot (rasa run + action server with a trained
// model): what a citizen sees in WeChat, rendered by WeChat's miniprogram-simulate.
// `MP_API_BASE` is the bot's /webhooks/webchat, `MP_DEAD_BASE` an address nobody listens on,
// `MP_OUT` a JSON file for the Python side (conversation id and the rated message).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const h = require('./mp_harness.js');

const BASE = process.env.MP_API_BASE;
const DEAD = process.env.MP_DEAD_BASE;
const out = {};
let page;

test.after(() => { if (process.env.MP_OUT) fs.writeFileSync(process.env.MP_OUT, JSON.stringify(out)); });

const token = () => h.storage.get('ehz.webchat.token') || '';
const users = () => h.rows(page).filter((r) => r.role === 'user').map((r) => r.text);
const rated = (row) => h.within(page, row, '.fb').length === 2;

test('opens with the welcome, its quick replies and the sample-data notice', async () => {
  page = h.openPage(BASE);
  await h.settled();
  assert.ok(token().startsWith('v1.'));
  assert.deepEqual(h.texts(page, '.qr').slice(-1), ['转人工/留言']);
  assert.match(h.text(page.querySelector('.notice')), /^示例数据/);
});

test('a quick reply: the title is shown, the bot asks with county buttons (no 👍/👎)', async () => {
  const [question] = await h.tapReply(page, '户籍窗口');
  assert.equal(users().pop(), '户籍窗口');
  assert.match(question.text, /哪个区县/);
  const counties = h.within(page, question, '.qr').map(h.text);
  assert.equal(counties.length, 12);
  assert.ok(counties.includes('固安县'));
  assert.ok(!rated(question), 'a question is not rated');
});

test('the answer: location cards that open the map, rated once at its end', async () => {
  const reply = await h.tapReply(page, '固安县');
  assert.equal(users().pop(), '固安县');
  const cards = reply.filter((r) => h.within(page, r, '.place').length);
  assert.ok(cards.length >= 1, 'at least one window card');
  const name = h.text(h.within(page, cards[0], '.place-name')[0]);
  assert.match(name, /固安/);
  assert.match(h.text(h.within(page, cards[0], '.place')[0]), /地址：/);
  assert.ok(!cards[0].text.includes('uri.amap.com'), 'no raw map URL');
  assert.deepEqual(reply.map(rated), reply.map((_, i) => i === reply.length - 1));
  h.calls.length = 0;
  await h.tap(h.within(page, cards[0], '.place')[0]);
  const open = h.calls.find((c) => c.name === 'openLocation');
  assert.ok(open, 'tapping the card calls wx.openLocation');
  assert.equal(open.options.name, name);
  assert.ok(open.options.latitude > 38 && open.options.latitude < 41, 'Langfang latitude');
  assert.ok(open.options.longitude > 115 && open.options.longitude < 118, 'Langfang longitude');
  if (process.env.MP_SNAPSHOT) h.snapshot(page, process.env.MP_SNAPSHOT);
  const closing = reply[reply.length - 1];
  assert.ok(h.within(page, closing, '.qr').map(h.text).includes('预约办理'));
  await h.tap(h.within(page, closing, '.fb.up')[0]);
  await h.waitFor(() => h.hasClass(h.within(page, closing, '.fb.up')[0], 'on'), 'the 👍 to stick');
});

test('a typed question gets a policy answer with buttons; 👎 sends what was wrong', async () => {
  const reply = await h.send(page, '身份证丢了怎么补办');
  const answer = reply.find((r) => /补领|补办/.test(r.text));
  assert.ok(answer, 'an answer about replacing the ID card: ' + reply.map((r) => r.text));
  assert.ok(rated(answer));
  assert.ok(h.within(page, answer, '.qr').length >= 1, 'with follow-up buttons');
  await h.tap(h.within(page, answer, '.fb.down')[0]);
  await h.waitFor(() => page.querySelector('.reasons'), 'the reason chooser');
  await h.tap(h.all(page, '.chip').find((c) => h.text(c) === '没解决问题'));
  await h.tap(page.querySelector('.reason-submit'));
  await h.waitFor(() => !page.querySelector('.reasons'), 'the chooser to close');
  const item = page.data.items.filter((i) => i.rating === 'down').pop();
  out.conversation = token().split('.')[1];
  out.rated = item.id;
});

test('转人工 offers to leave a message (a question: no 👍/👎)', async () => {
  const before = h.botRows(page).length;
  await h.tap(page.querySelector('.handoff'));
  const reply = await h.waitReply(page, before);
  assert.equal(users().pop(), '转人工/留言');
  const offer = reply.find((r) => /留言|民警/.test(r.text));
  assert.ok(offer, 'the hand-off offer: ' + reply.map((r) => r.text));
  assert.ok(!rated(offer));
  assert.ok(h.within(page, offer, '.qr').length >= 1);
});

test('network lost: the message fails with 重试; back online, 重试 delivers it', async () => {
  h.setApiBase(DEAD);
  h.type(page, '户口迁入需要什么材料');
  await h.simulate.sleep(0);
  await h.tap(page.querySelector('.send'));
  await h.waitFor(() => page.querySelector('.msg-error'), 'the error');
  assert.equal(h.text(page.querySelector('.msg-error-text')), '发送失败：无法连接服务器，请检查网络后重试。');
  assert.equal(page.data.pending, false);
  h.setApiBase(BASE);
  const before = h.botRows(page).length;
  await h.tap(page.querySelector('.retry'));
  const reply = await h.waitReply(page, before);
  assert.ok(reply.length >= 1 && reply.every((r) => r.text || h.within(page, r, '.qr').length));
  assert.equal(h.all(page, '.msg-error').length, 0);
});

test('re-opened, the conversation is still there; 重新开始 clears it', async () => {
  const before = token();
  page = h.openPage(BASE);
  await h.settled();
  assert.equal(token(), before);
  assert.equal(h.text(page.querySelector('.divider')), '以下是您之前的对话');
  assert.ok(users().includes('固安县') && users().includes('转人工/留言'));
  assert.equal(h.all(page, '.fb.down').filter((n) => h.hasClass(n, 'on')).length, 1, 'the 👎 is kept');
  await h.tap(page.querySelector('.restart'));
  await h.waitFor(() => token() && token() !== before, 'a new conversation');
  await h.waitFor(() => h.rows(page).length === 1, 'only the welcome');
});
