// Runs the sample mini-program page (bot/web/miniprogram/chat.js) under Node with a minimal
// stand-in for the WeChat runtime: Page() and wx.* (wx.request does real HTTP with fetch).
// Usage: node miniprogram_harness.js <chat.js> <api_base>  — prints the page states as JSON.
'use strict';
const fs = require('fs');
const vm = require('vm');

const [, , file, base] = process.argv;
const source = fs.readFileSync(file, 'utf8')
  .replace(/const API_BASE = '[^']*'/, 'const API_BASE = ' + JSON.stringify(base));

const storage = {};
const toasts = [];
let inflight = 0;
let definition = null;

const wx = {
  request({ url, method, data, header, success, fail }) {
    inflight += 1;
    const init = { method, headers: header };
    if (method !== 'GET' && data !== undefined) init.body = JSON.stringify(data);
    fetch(url, init)
      .then(async (res) => {
        const text = await res.text();
        let body;
        try { body = JSON.parse(text); } catch (e) { body = text; }
        success({ statusCode: res.status, data: body });
      })
      .catch((err) => fail({ errMsg: 'request:fail ' + err.message }))
      .finally(() => { inflight -= 1; });
  },
  getStorageSync: (k) => storage[k] || '',
  setStorageSync: (k, v) => { storage[k] = v; },
  removeStorageSync: (k) => { delete storage[k]; },
  showToast: (o) => toasts.push(o.title),
  showModal: (o) => o.success({ confirm: true }),
  setClipboardData() {},
  openLocation() {},
  previewImage() {}
};

vm.runInNewContext(source, { wx, Page: (def) => { definition = def; }, console });

function setPath(target, path, value) {
  const keys = path.replace(/\[(\d+)\]/g, '.$1').split('.');
  let node = target;
  keys.slice(0, -1).forEach((k) => { node = node[k]; });
  node[keys[keys.length - 1]] = value;
}

function newPage() {
  const page = Object.create(definition);
  page.data = JSON.parse(JSON.stringify(definition.data));
  page.setData = function (changes) {
    Object.keys(changes).forEach((k) => setPath(this.data, k, changes[k]));
  };
  return page;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function idle() {
  let quiet = 0;
  while (quiet < 3) {
    await sleep(40);
    quiet = inflight === 0 ? quiet + 1 : 0;
  }
}

function snapshot(page) {
  return { items: page.data.items, banner: page.data.banner, pending: page.data.pending,
    token: storage['ehz.webchat.token'] || '', toasts: toasts.slice() };
}

async function main() {
  const states = {};
  let page = newPage();
  page.onLoad();
  await idle();
  states.loaded = snapshot(page);
  if (!states.loaded.token) { console.log(JSON.stringify(states)); return; }

  page.onInput({ detail: { value: '身份证丢了怎么办' } });
  page.onSend();
  await idle();
  states.asked = snapshot(page);

  page.onQuickReply({ currentTarget: { dataset: { payload: '/check_name', title: '新生儿重名' } } });
  await idle();
  states.quickReply = snapshot(page);

  const rated = page.data.items.find((i) => i.role === 'bot' && i.id);
  page.onRate({ currentTarget: { dataset: { key: rated.key, id: rated.id, rating: 'down' } } });
  await idle();
  states.rated = Object.assign(snapshot(page), { ratedId: rated.id });

  page = newPage(); // "reload": a new page instance with the same storage
  page.onLoad();
  await idle();
  states.reloaded = snapshot(page);

  page.onRestart();
  await idle();
  states.restarted = snapshot(page);
  console.log(JSON.stringify(states));
}

async function mainOffline() {
  const page = newPage();
  page.onLoad();
  await idle();
  const loaded = snapshot(page);
  page.onInput({ detail: { value: '你好' } });
  page.onSend();
  await idle();
  console.log(JSON.stringify({ loaded, sent: snapshot(page) }));
}

(process.argv[4] === 'offline' ? mainOffline() : main()).catch((err) => {
  console.error(err);
  process.exit(1);
});
