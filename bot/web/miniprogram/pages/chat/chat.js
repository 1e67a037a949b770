// 廊坊e户政 智能客服 — the native chat page (pages/chat/chat), built with Component().
//
// Talks to the bot's web-chat channel with wx.request (utils/api.js; the address is the one
// setting in config.js), following docs/webchat-api.md — the same contract as the H5 page.
// Tested with WeChat's miniprogram-simulate against a real bot (tests/web/js/).

const api = require('../../utils/api.js');
const { segments } = require('../../utils/text.js');

const TOKEN_KEY = 'ehz.webchat.token';
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

let seq = 0;
const nextKey = () => 'm' + (++seq);

function botItem(m) {
  const custom = m.custom && typeof m.custom === 'object' ? m.custom : null;
  const location = custom && custom.type === 'location' && custom.name ? custom : null;
  const buttons = Array.isArray(m.buttons) ? m.buttons : [];
  return {
    key: nextKey(),
    role: 'bot',
    id: m.id || '',
    segments: segments(m.text || (custom && !location && custom.text) || ''),
    buttons: buttons.filter((b) => b && b.title && b.payload),
    links: buttons.filter((b) => b && b.title && !b.payload && b.url),
    image: typeof m.image === 'string' && /^https:\/\//.test(m.image) ? m.image : '',
    location,
    fallback: !!m.fallback,
    rateable: !!(m.id && m.rateable),
    rating: m.rating || '',
    reasonOpen: false,
    reason: '',
    comment: '',
    note: ''
  };
}

Component({
  data: {
    items: [],
    input: '',
    maxChars: 500,
    pending: false,
    banner: '',
    notice: '',
    feedback: null,
    scrollTo: ''
  },

  lifetimes: {
    attached() {
      this.token = wx.getStorageSync(TOKEN_KEY) || '';
      this.push(botItem(WELCOME));
      this.loadConfig();
      if (this.token) this.loadHistory();
      else this.ensureSession().catch((e) => this.showBanner(e, 'session'));
    }
  },

  methods: {
    // -------------------------------------------------------------- config, session, history
    loadConfig() {
      api.call('GET', 'config').then((res) => {
        if (res.statusCode !== 200 || !res.data) return;
        this.setData({
          notice: res.data.sample_notice || '',
          feedback: res.data.feedback && res.data.feedback.reasons ? res.data.feedback : null
        });
      }).catch(() => { /* the page works without it */ });
    },

    saveSession(data) {
      this.token = data.token;
      wx.setStorageSync(TOKEN_KEY, data.token);
      if (data.max_message_chars) this.setData({ maxChars: data.max_message_chars });
    },

    dropSession() {
      this.token = '';
      wx.removeStorageSync(TOKEN_KEY);
    },

    ensureSession() {
      if (this.token) return Promise.resolve(this.token);
      return api.call('POST', 'session', {}).then((res) => {
        if (res.statusCode !== 201) throw res;
        this.saveSession(res.data);
        this.setData({ banner: '' });
        return this.token;
      });
    },

    loadHistory() {
      api.call('GET', 'history', undefined, this.token).then((res) => {
        if (res.statusCode === 401) {
          this.dropSession();
          return this.ensureSession();
        }
        if (res.statusCode !== 200) throw res;
        const entries = (res.data && res.data.messages) || [];
        if (entries.length) this.push({ key: nextKey(), role: 'divider', text: '以下是您之前的对话' });
        entries.forEach((e) => this.push(e.role === 'user'
          ? { key: nextKey(), role: 'user', text: e.text, error: '' }
          : botItem(e)));
        this.setData({ banner: '' });
        return null;
      }).catch((e) => this.showBanner(e, 'history'));
    },

    showBanner(failure, what) {
      this.retryBanner = what === 'history' ? () => this.loadHistory()
        : () => this.ensureSession().catch((e) => this.showBanner(e, 'session'));
      this.setData({ banner: api.describe(failure) });
    },

    onBannerRetry() {
      this.setData({ banner: '' });
      if (this.retryBanner) this.retryBanner();
    },

    // -------------------------------------------------------------- list helpers
    push(item) {
      this.setData({ items: this.data.items.concat([item]), scrollTo: item.key });
    },

    find(key) {
      return this.data.items.findIndex((i) => i.key === key);
    },

    update(key, patch) {
      const index = this.find(key);
      if (index < 0) return;
      const changes = {};
      Object.keys(patch).forEach((k) => { changes['items[' + index + '].' + k] = patch[k]; });
      this.setData(changes);
    },

    remove(key) {
      this.setData({ items: this.data.items.filter((i) => i.key !== key) });
    },

    // -------------------------------------------------------------- sending
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
      this.update(key, { error: '', retryable: false });
      this.setData({ pending: true });
      this.push({ key: typing, role: 'typing' });
      const body = title ? { message: text, title } : { message: text };
      const done = () => {
        this.remove(typing);
        this.setData({ pending: false });
      };
      this.ensureSession()
        .then(() => api.call('POST', 'message', body, this.token))
        .then((res) => {
          done();
          if (res.statusCode === 401 && !renewed) { // expired: a new conversation, send again
            this.dropSession();
            this.deliver(key, text, title, true);
            return;
          }
          if (res.statusCode !== 200) throw res;
          (res.data.messages || []).forEach((m) => this.push(botItem(m)));
        })
        .catch((failure) => {
          done();
          this.update(key, {
            error: '发送失败：' + api.describe(failure),
            retryable: api.retryable(failure)
          });
        });
    },

    onRetry(e) {
      const index = this.find(e.currentTarget.dataset.key);
      if (index < 0 || this.data.pending) return;
      const item = this.data.items[index];
      this.deliver(item.key, item.message, item.title, false);
    },

    // -------------------------------------------------------------- 👍/👎 and what was wrong
    onRate(e) {
      const { key, rating } = e.currentTarget.dataset;
      const item = this.data.items[this.find(key)];
      if (!item || !item.rateable || item.rating === rating) return;
      api.call('POST', 'feedback', { message_id: item.id, rating }, this.token).then((res) => {
        if (res.statusCode !== 200) throw res;
        const asks = rating === 'down' && !!this.data.feedback;
        this.update(key, {
          rating,
          reasonOpen: asks,
          reason: '',
          comment: '',
          note: rating === 'up' ? '感谢您的评价！' : asks ? '' : '感谢反馈，我们会改进。'
        });
      }).catch((failure) => wx.showToast({ title: api.describe(failure), icon: 'none' }));
    },

    onReasonPick(e) {
      this.update(e.currentTarget.dataset.key, { reason: e.currentTarget.dataset.code });
    },

    onReasonInput(e) {
      this.update(e.currentTarget.dataset.key, { comment: e.detail.value });
    },

    onReasonSubmit(e) {
      const key = e.currentTarget.dataset.key;
      const item = this.data.items[this.find(key)];
      if (!item || !item.reason) return;
      const body = { message_id: item.id, rating: 'down', reason: item.reason };
      if ((item.comment || '').trim()) body.comment = item.comment.trim();
      api.call('POST', 'feedback', body, this.token).then((res) => {
        if (res.statusCode !== 200) throw res;
        this.update(key, { reasonOpen: false, note: this.data.feedback.thanks || '感谢反馈。' });
      }).catch((failure) => wx.showToast({ title: api.describe(failure), icon: 'none' }));
    },

    // -------------------------------------------------------------- links, places, images
    onLink(e) {
      // A mini-program cannot open arbitrary web pages: copy the link for the browser.
      wx.setClipboardData({ data: e.currentTarget.dataset.url });
    },

    onLocation(e) {
      const item = this.data.items[this.find(e.currentTarget.dataset.key)];
      const place = item && item.location;
      if (!place) return;
      if (typeof place.lat === 'number' && typeof place.lng === 'number') {
        wx.openLocation({
          latitude: place.lat,
          longitude: place.lng,
          name: place.name,
          address: place.address || '',
          scale: 16
        });
      } else if (place.address) {
        wx.setClipboardData({ data: place.name + ' ' + place.address });
      }
    },

    onCall(e) {
      wx.makePhoneCall({ phoneNumber: e.currentTarget.dataset.phone });
    },

    onPreviewImage(e) {
      wx.previewImage({ urls: [e.currentTarget.dataset.src] });
    },

    // -------------------------------------------------------------- restart
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
          api.call('POST', 'restart', {}, this.token).then((res) => {
            if (res.statusCode !== 201) throw res;
            this.saveSession(res.data);
          }).catch(() => this.dropSession()) // a new session comes with the next message
            .then(reset);
        }
      });
    }
  }
});
