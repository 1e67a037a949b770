// 廊坊e户政 智能客服 — sample native mini-program page (pages/chat/chat).
//
// SAMPLE ONLY: this page cannot be run in this repository; copy bot/web/miniprogram/* into a
// WeChat mini-program project (pages/chat/) and open it in WeChat DevTools. It follows the
// contract in docs/webchat-api.md with wx.request; the H5 page (bot/web/) is the same
// contract in a browser.
//
// Before use:
//   1. set API_BASE to the public HTTPS address of the Rasa server's web-chat channel;
//   2. add that domain to the mini-program's "request 合法域名" in the WeChat admin console.

const API_BASE = 'https://bot.example.gov.cn/webhooks/webchat'; // SAMPLE: replace
const TOKEN_KEY = 'ehz.webchat.token';
const TIMEOUT_MS = 30000;
const MAX_CHARS = 500;
const HANDOFF = { title: '转人工/留言', payload: '/human_handoff' };
const WELCOME = {
  text: '您好！我是廊坊e户政智能客服，可以解答户籍、身份证、居住证等业务问题，' +
    '也能帮您查办理进度、查新生儿重名、预约窗口办理。请问有什么可以帮您？',
  buttons: [
    { title: '身份证补领', payload: '身份证丢了怎么补办' },
    { title: '户口迁入', payload: '/ask_move_in' },
    { title: '查办理进度', payload: '/query_case_status' },
    { title: '新生儿重名', payload: '/check_name' },
    { title: '预约办理', payload: '/book_appointment' },
    { title: '户籍窗口', payload: '/find_window' },
    HANDOFF
  ]
};
const URL_RE = /(https?:\/\/[^\s<>"'\u3000-\u303f\uff00-\uffef]+)/g;

let seq = 0;
const nextKey = () => 'm' + (++seq);

/** Split bot text into text and link segments (WXML renders them; nothing is parsed as HTML). */
function segments(text) {
  const out = [];
  let last = 0;
  let m;
  URL_RE.lastIndex = 0;
  while ((m = URL_RE.exec(text || '')) !== null) {
    const url = m[1].replace(/[.,;:!?)\]]+$/, '');
    if (m.index > last) out.push({ type: 'text', value: text.slice(last, m.index) });
    out.push({ type: 'link', value: url });
    last = m.index + url.length;
    URL_RE.lastIndex = last;
  }
  if (last < (text || '').length) out.push({ type: 'text', value: text.slice(last) });
  return out;
}

/** wx.request as a promise: resolves {statusCode, data}; rejects {kind: 'timeout'|'network'}. */
function call(method, path, data, token) {
  const header = { 'content-type': 'application/json' };
  if (token) header.Authorization = 'Bearer ' + token;
  return new Promise((resolve, reject) => {
    wx.request({
      url: API_BASE + '/' + path,
      method,
      data,
      header,
      timeout: TIMEOUT_MS,
      success: (res) => resolve({ statusCode: res.statusCode, data: res.data }),
      fail: (err) => reject({ kind: /timeout/i.test(err.errMsg || '') ? 'timeout' : 'network' })
    });
  });
}

function describe(failure) {
  if (failure && failure.kind === 'timeout') return '服务器响应超时，请稍后重试。';
  if (failure && failure.kind === 'network') return '无法连接服务器，请检查网络后重试。';
  if (failure && failure.data && failure.data.message) return failure.data.message;
  return '系统繁忙，请稍后重试。';
}

function botItem(m) {
  return {
    key: nextKey(),
    role: 'bot',
    id: m.id || null,
    segments: segments(m.text || (m.custom && m.custom.text) || ''),
    buttons: m.buttons || [],
    image: m.image || '',
    location: m.custom && m.custom.type === 'location' ? m.custom : null,
    fallback: !!m.fallback,
    rating: m.rating || ''
  };
}

Page({
  data: {
    items: [],
    input: '',
    maxChars: MAX_CHARS,
    pending: false,
    banner: '',
    scrollTo: ''
  },

  token: '',

  onLoad() {
    this.push(botItem(WELCOME));
    this.token = wx.getStorageSync(TOKEN_KEY) || '';
    if (this.token) this.loadHistory(); else this.ensureSession().catch((e) => this.showBanner(e));
  },

  // ---------------------------------------------------------------- session & history
  saveSession(data) {
    this.token = data.token;
    wx.setStorageSync(TOKEN_KEY, data.token);
    if (data.max_message_chars) this.setData({ maxChars: data.max_message_chars });
  },

  ensureSession() {
    if (this.token) return Promise.resolve(this.token);
    return call('POST', 'session', {}).then((res) => {
      if (res.statusCode !== 201) throw res;
      this.saveSession(res.data);
      this.setData({ banner: '' });
      return this.token;
    });
  },

  loadHistory() {
    call('GET', 'history', undefined, this.token).then((res) => {
      if (res.statusCode === 401) {
        this.token = '';
        wx.removeStorageSync(TOKEN_KEY);
        return this.ensureSession();
      }
      if (res.statusCode !== 200) throw res;
      const entries = (res.data && res.data.messages) || [];
      if (entries.length) this.push({ key: nextKey(), role: 'divider', text: '以下是您之前的对话' });
      entries.forEach((e) => this.push(e.role === 'user'
        ? { key: nextKey(), role: 'user', text: e.text }
        : botItem(e)));
      this.setData({ banner: '' });
    }).catch((e) => this.showBanner(e, 'history'));
  },

  showBanner(failure, what) {
    this.retryBanner = what === 'history' ? () => this.loadHistory() : () => this.ensureSession();
    this.setData({ banner: describe(failure) });
  },

  onBannerRetry() {
    this.setData({ banner: '' });
    if (this.retryBanner) this.retryBanner();
  },

  // ---------------------------------------------------------------- list helpers
  push(item) {
    const items = this.data.items.concat([item]);
    this.setData({ items, scrollTo: item.key });
  },

  update(key, patch) {
    const index = this.data.items.findIndex((i) => i.key === key);
    if (index < 0) return;
    const changes = {};
    Object.keys(patch).forEach((k) => { changes['items[' + index + '].' + k] = patch[k]; });
    this.setData(changes);
  },

  remove(key) {
    this.setData({ items: this.data.items.filter((i) => i.key !== key) });
  },

  // ---------------------------------------------------------------- sending
  onInput(e) {
    this.setData({ input: e.detail.value });
  },

  onSend() {
    const text = (this.data.input || '').trim();
    if (!text) return;
    if (this.send(text)) this.setData({ input: '' });
  },

  onQuickReply(e) {
    const { payload, title } = e.currentTarget.dataset;
    this.send(payload, title);
  },

  onHandoff() {
    this.send(HANDOFF.payload, HANDOFF.title);
  },

  send(text, title) {
    if (this.data.pending) {
      wx.showToast({ title: '请等待上一条回复', icon: 'none' });
      return false;
    }
    const key = nextKey();
    this.push({ key, role: 'user', text: title || text, error: '', message: text, title: title || '' });
    this.deliver(key, text, title, false);
    return true;
  },

  deliver(key, text, title, renewed) {
    const typing = nextKey();
    this.update(key, { error: '' });
    this.setData({ pending: true });
    this.push({ key: typing, role: 'typing' });
    const body = title ? { message: text, title } : { message: text };
    this.ensureSession()
      .then(() => call('POST', 'message', body, this.token))
      .then((res) => {
        this.remove(typing);
        this.setData({ pending: false });
        if (res.statusCode === 401 && !renewed) { // token expired: new conversation, send again
          this.token = '';
          wx.removeStorageSync(TOKEN_KEY);
          return this.deliver(key, text, title, true);
        }
        if (res.statusCode !== 200) throw res;
        res.data.messages.forEach((m) => this.push(botItem(m)));
      })
      .catch((failure) => {
        this.remove(typing);
        this.setData({ pending: false });
        const retryable = !failure.statusCode || failure.statusCode >= 500;
        this.update(key, { error: '发送失败：' + describe(failure), retryable });
      });
  },

  onRetry(e) {
    const item = this.data.items.find((i) => i.key === e.currentTarget.dataset.key);
    if (item && !this.data.pending) this.deliver(item.key, item.message, item.title, false);
  },

  // ---------------------------------------------------------------- feedback, links, places
  onRate(e) {
    const { key, id, rating } = e.currentTarget.dataset;
    call('POST', 'feedback', { message_id: id, rating }, this.token).then((res) => {
      if (res.statusCode !== 200) throw res;
      this.update(key, { rating });
      wx.showToast({ title: rating === 'down' ? '感谢反馈，我们会改进' : '感谢您的评价', icon: 'none' });
    }).catch((failure) => wx.showToast({ title: describe(failure), icon: 'none' }));
  },

  onLink(e) {
    // Mini-programs cannot open arbitrary web pages: copy the link for the browser.
    wx.setClipboardData({ data: e.currentTarget.dataset.url });
  },

  onLocation(e) {
    const place = e.currentTarget.dataset.place;
    if (place && place.lat && place.lng) {
      wx.openLocation({
        latitude: Number(place.lat),
        longitude: Number(place.lng),
        name: place.name,
        address: place.address || ''
      });
    }
  },

  onPreviewImage(e) {
    wx.previewImage({ urls: [e.currentTarget.dataset.src] });
  },

  // ---------------------------------------------------------------- restart
  onRestart() {
    wx.showModal({
      title: '重新开始对话？',
      content: '当前的对话记录将不再显示。',
      success: (r) => {
        if (!r.confirm) return;
        const reset = () => {
          this.setData({ items: [], banner: '' });
          this.push(botItem(WELCOME));
        };
        call('POST', 'restart', {}, this.token).then((res) => {
          if (res.statusCode === 201) this.saveSession(res.data); else throw res;
        }).catch(() => {
          this.token = '';
          wx.removeStorageSync(TOKEN_KEY); // a new session is created with the next message
        }).then(reset);
      }
    });
  }
});
