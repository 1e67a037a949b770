// The mini-program chat page's mechanics against the web-chat stub server (no model needed):
// `MP_API_BASE` is the stub's /webhooks/webchat, `MP_DEAD_BASE` an address nobody listens on,
// `MP_OUT` a JSON file where the conversation ids go for the Python side to check the database.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const h = require('./mp_harness.js');

const BASE = process.env.MP_API_BASE;
const DEAD = process.env.MP_DEAD_BASE;
const out = {};

test.after(() => { if (process.env.MP_OUT) fs.writeFileSync(process.env.MP_OUT, JSON.stringify(out)); });

const token = () => h.storage.get('ehz.webchat.token') || '';

test('welcome, quick replies, sample-data notice and a session', async () => {
  const page = h.openPage(BASE);
  assert.deepEqual(h.texts(page, '.qr'), [
    '身份证补领', '户口迁入', '查办理进度', '新生儿重名', '预约办理', '户籍窗口', '转人工/留言'
  ]);
  assert.match(h.botRows(page)[0].text, /廊坊e户政智能客服/);
  await h.waitFor(() => token().startsWith('v1.'), 'a session token');
  await h.waitFor(() => page.querySelector('.notice'), 'the sample-data notice');
  assert.match(h.text(page.querySelector('.notice')), /^示例数据/);
  assert.equal(h.all(page, '.fb').length, 0, 'nothing to rate on the welcome');
});

test('typing and sending; a quick reply shows its title; 👍/👎 only under answers', async () => {
  const page = h.openPage(BASE);
  await h.settled();
  h.type(page, '   ');
  await h.simulate.sleep(0);
  page.querySelector('.send').dispatchEvent('tap');
  await h.simulate.sleep(50);
  assert.equal(h.rows(page).filter((r) => r.role === 'user').length, 0, 'blank input is not sent');
  const [echo] = await h.send(page, '你好，请问怎么预约');
  assert.equal(echo.text, '收到：你好，请问怎么预约');
  assert.equal(page.data.input, '', 'the box is emptied after sending');
  const [question] = await h.tapReply(page, '新生儿重名');
  const users = h.rows(page).filter((r) => r.role === 'user').map((r) => r.text);
  assert.equal(users[users.length - 1], '新生儿重名', 'the title, not the payload /check_name');
  assert.match(question.text, /请问宝宝的性别是/);
  assert.equal(h.within(page, question, '.fb').length, 0, 'a question is not rated');
  assert.deepEqual(h.within(page, question, '.qr').map(h.text), ['男孩', '女孩']);
  assert.equal(h.within(page, echo, '.fb').length, 2, 'an answer is rated');
});

test('👎 asks what was wrong, then sends the reason and the comment', async () => {
  const page = h.openPage(BASE);
  await h.settled();
  const [answer] = await h.send(page, '身份证丢了怎么补办');
  await h.tap(h.within(page, answer, '.fb.down')[0]);
  await h.waitFor(() => page.querySelector('.reasons'), 'the reason chooser');
  assert.match(h.text(page.querySelector('.reasons-question')), /哪里不满意/);
  assert.deepEqual(h.texts(page, '.chip'), ['答非所问', '信息有误', '看不明白', '没解决问题', '其他']);
  await h.tap(h.all(page, '.chip')[1]);
  page.querySelector('.reason-comment').dispatchEvent('input', { detail: { value: '邮寄费不对，回电13900001111' } });
  await h.simulate.sleep(0);
  await h.tap(page.querySelector('.reason-submit'));
  await h.waitFor(() => !page.querySelector('.reasons'), 'the chooser to close');
  assert.match(h.text(h.within(page, answer, '.fb-note')[0]), /感谢反馈/);
  assert.ok(h.hasClass(h.within(page, answer, '.fb.down')[0], 'on'));
  const rated = page.data.items.filter((i) => i.rating === 'down').pop();
  out.rated = { conversation: token().split('.')[1], message_id: rated.id };
});

test('a place is a card; tapping it opens the map, the phone can be called', async () => {
  const page = h.openPage(BASE);
  await h.settled();
  const reply = await h.send(page, '固安县户籍窗口在哪');
  assert.equal(reply.length, 3);
  const place = h.within(page, reply[1], '.place')[0];
  assert.equal(h.text(h.within(page, reply[1], '.place-name')[0]), '固安县户政服务大厅（示例）');
  assert.match(h.text(place), /地址：固安县新源街99号/);
  assert.deepEqual(reply.map((r) => h.within(page, r, '.fb').length), [0, 0, 2]);
  h.calls.length = 0;
  await h.tap(place);
  const open = h.calls.find((c) => c.name === 'openLocation');
  assert.ok(open, 'wx.openLocation was called');
  assert.equal(open.options.latitude, 39.438);
  assert.equal(open.options.longitude, 116.299);
  assert.equal(open.options.name, '固安县户政服务大厅（示例）');
  await h.tap(h.within(page, reply[1], '.place-call')[0]);
  assert.deepEqual(h.calls.filter((c) => c.name === 'makePhoneCall').map((c) => c.options.phoneNumber), ['0316-0000000']);
  assert.equal(h.calls.filter((c) => c.name === 'openLocation').length, 1, 'calling does not open the map too');
});

test('re-opening shows the earlier conversation; 重新开始 starts a fresh one', async () => {
  const before = token();
  const page = h.openPage(BASE);
  await h.waitFor(() => page.querySelector('.divider'), 'the history');
  assert.equal(h.text(page.querySelector('.divider')), '以下是您之前的对话');
  assert.ok(h.rows(page).some((r) => r.role === 'user' && r.text === '新生儿重名'), 'button titles in the history');
  const pressed = h.all(page, '.fb.down').filter((n) => h.hasClass(n, 'on'));
  assert.equal(pressed.length, 1, 'the earlier 👎 is shown');
  await h.tap(page.querySelector('.restart'));
  await h.waitFor(() => token() && token() !== before, 'a new token');
  await h.waitFor(() => h.rows(page).length === 1, 'only the welcome');
  assert.equal(h.calls.filter((c) => c.name === 'showModal').length >= 1, true, 'asked to confirm');
});

test('server unreachable: an error under the message with 重试, which delivers it later', async () => {
  const page = h.openPage(DEAD);
  await h.waitFor(() => page.data.banner, 'the banner');
  assert.equal(h.text(page.querySelector('.banner-text')), '无法连接服务器，请检查网络后重试。');
  h.type(page, '身份证丢了怎么补办');
  await h.simulate.sleep(0);
  page.querySelector('.send').dispatchEvent('tap');
  await h.waitFor(() => page.querySelector('.msg-error'), 'the error under the message');
  assert.equal(h.text(page.querySelector('.msg-error-text')), '发送失败：无法连接服务器，请检查网络后重试。');
  assert.equal(h.all(page, '.typing').length, 0, 'no typing indicator left behind');
  assert.equal(page.data.pending, false);
  // The network is back: 重试 sends the same message.
  h.setApiBase(BASE);
  const before = h.botRows(page).length;
  await h.tap(page.querySelector('.retry'));
  const reply = await h.waitReply(page, before);
  assert.match(reply[0].text, /工本费40元/);
  assert.equal(h.all(page, '.msg-error').length, 0);
});
