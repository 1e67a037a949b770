// Renders the mini-program chat page (bot/web/miniprogram/pages/chat) with WeChat's own
// miniprogram-simulate (j-component + the official wcc WXML compiler) in jsdom, with
// wx.request bridged to real HTTP, so a test taps and types on the rendered page against a
// running server. Other wx.* calls a test wants to see (storage, toast, modal, openLocation,
// makePhoneCall, setClipboardData) are recorded in `calls`.
'use strict';

require('global-jsdom')(undefined, { url: 'https://servicewechat.com/' });
// Node has its own Event/CustomEvent, which jsdom's DOM refuses: use jsdom's.
global.Event = window.Event;
global.CustomEvent = window.CustomEvent;
const fs = require('fs');
const path = require('path');
const simulate = require('miniprogram-simulate');

const ROOT = path.resolve(__dirname, '..', '..', '..', 'bot', 'web', 'miniprogram');
const config = require(path.join(ROOT, 'config.js'));

const calls = [];
const storage = new Map();
let inflight = 0;

function record(name) {
  return (options = {}) => {
    calls.push({ name, options });
    if (typeof options.success === 'function') {
      options.success(name === 'showModal' ? { confirm: true, cancel: false } : { errMsg: name + ':ok' });
    }
    return Promise.resolve({ errMsg: name + ':ok' });
  };
}

/** wx.request over Node's fetch, with WeChat's success/fail semantics. */
function request(options) {
  const method = (options.method || 'GET').toUpperCase();
  const headers = Object.assign({}, options.header || {});
  const init = { method, headers, signal: AbortSignal.timeout(options.timeout || 60000) };
  if (method !== 'GET' && options.data !== undefined) init.body = JSON.stringify(options.data);
  calls.push({ name: 'request', options: { method, url: options.url, data: options.data } });
  inflight += 1;
  fetch(options.url, init).then(async (res) => {
    const raw = await res.text();
    let data = raw;
    try { data = JSON.parse(raw); } catch (e) { /* WeChat gives the string */ }
    inflight -= 1;
    options.success && options.success({ statusCode: res.status, data, header: {}, errMsg: 'request:ok' });
  }, (err) => {
    inflight -= 1;
    const timeout = err && (err.name === 'TimeoutError' || err.name === 'AbortError');
    options.fail && options.fail({ errMsg: timeout ? 'request:fail timeout' : 'request:fail ' + err });
  });
}

Object.assign(global.wx, {
  request,
  getStorageSync: (key) => (storage.has(key) ? storage.get(key) : ''),
  setStorageSync: (key, value) => { storage.set(key, value); },
  removeStorageSync: (key) => { storage.delete(key); },
  showToast: record('showToast'),
  showModal: record('showModal'),
  openLocation: record('openLocation'),
  makePhoneCall: record('makePhoneCall'),
  setClipboardData: record('setClipboardData'),
  previewImage: record('previewImage')
});

let pageId = null;
let current = null;

/** Open (or re-open, like a relaunch: storage is kept) the chat page against `apiBase`. */
function openPage(apiBase) {
  config.API_BASE = apiBase;
  if (!pageId) {
    pageId = simulate.load(path.join(ROOT, 'pages', 'chat', 'chat'), { rootPath: ROOT, compiler: 'official' });
  }
  if (current) current.detach();
  current = simulate.render(pageId);
  current.attach(document.createElement('parent-wrapper'));
  return current;
}

/** Wait until the page has no request in flight (session, history, config loaded). */
async function settled(timeout = 60000) {
  await simulate.sleep(0);
  await waitFor(() => inflight === 0, 'requests to finish', timeout);
  await simulate.sleep(20);
}

/** Point the open page at another server (the network comes back, or goes away). */
function setApiBase(apiBase) {
  config.API_BASE = apiBase;
}

/** Poll `check` until it returns a truthy value (or fail after `timeout` ms). */
async function waitFor(check, what, timeout = 60000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what);
    await simulate.sleep(50);
  }
}

const text = (node) => node.dom.textContent.trim();
/** Whether a rendered node has a WXML class (the simulator prefixes classes: main--on). */
const hasClass = (node, cls) => node.dom.className.split(/\s+/).some((c) => c === cls || c.endsWith('--' + cls));
const all = (page, selector) => page.querySelectorAll(selector);
/** The nodes matching `selector` inside one message row. */
const within = (page, row, selector) => all(page, selector).filter((n) => row.node.dom.contains(n.dom));
const texts = (page, selector) => all(page, selector).map(text);

/** Message rows as the user sees them, in order: {role, text (of the bubble), node}. */
function rows(page) {
  return all(page, '.row').map((node) => {
    const role = hasClass(node, 'user') ? 'user' : hasClass(node, 'typing-row') ? 'typing' : 'bot';
    const bubble = node.dom.querySelector('[class*="bubble"]');
    return { role, text: bubble ? bubble.textContent.trim() : '', node };
  });
}

const botRows = (page) => rows(page).filter((r) => r.role === 'bot');

/** Tap a node (the simulator delivers events asynchronously: wait for it). */
async function tap(node) {
  node.dispatchEvent('tap');
  await simulate.sleep(10);
}

/** Type into the composer and tap 发送. */
function type(page, value) {
  page.querySelector('.input').dispatchEvent('input', { detail: { value } });
}

async function send(page, value) {
  const before = botRows(page).length;
  type(page, value);
  await simulate.sleep(0);
  page.querySelector('.send').dispatchEvent('tap');
  return waitReply(page, before);
}

/** Tap the last quick reply with this title and wait for the answer. */
async function tapReply(page, title) {
  const before = botRows(page).length;
  const button = all(page, '.qr').filter((b) => text(b) === title).pop();
  if (!button) throw new Error('no quick reply ' + title + ' in ' + texts(page, '.qr'));
  button.dispatchEvent('tap');
  return waitReply(page, before);
}

/** Wait until new bot rows arrived and nothing is pending; return the new rows. */
async function waitReply(page, before) {
  await waitFor(() => !page.data.pending && botRows(page).length > before, 'the bot reply');
  return botRows(page).slice(before);
}

/** Write the rendered page (its DOM and the compiled WXSS) to an HTML file, to look at. */
function snapshot(page, file) {
  const styles = Array.from(document.querySelectorAll('style')).map((s) => s.outerHTML).join('\n');
  const base = fs.readFileSync(path.join(__dirname, 'wx-builtins.css'), 'utf8');
  fs.writeFileSync(file, '<!doctype html><html><head><meta charset="utf-8"><style>' + base +
    '</style>' + styles + '</head><body>' + page.dom.outerHTML + '</body></html>');
}

module.exports = {
  snapshot,
  ROOT, calls, storage, simulate, openPage, settled, setApiBase, tap, waitFor, within, rows, botRows, type, send, tapReply,
  waitReply, text, texts, all, hasClass
};
