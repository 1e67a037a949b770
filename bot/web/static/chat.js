/*
 * 廊坊e户政 智能客服 — the H5 chat page (plain ES2015, no build step, no external assets).
 *
 * Talks to the web-chat channel (bot/channels/webchat.py) next to this file:
 *   POST session  -> {conversation_id, token}      (token kept in localStorage)
 *   POST message  -> {messages: [{id, text, buttons, image, custom}]}
 *   GET  history  -> {messages: [{role, text, ...}]}
 *   POST feedback -> 👍/👎 on one rateable bot message (a 👎 may add a reason)
 *   POST restart  -> a fresh conversation
 *   GET  config   -> sample-data notice and the 👎 reasons (wording from data/responses)
 * Contract: docs/webchat-api.md. All bot text is inserted as text nodes (never innerHTML).
 */
(function () {
  'use strict';

  var script = document.currentScript;
  var BASE = script && script.src ? script.src.replace(/static\/chat\.js(\?.*)?$/, '') : './';
  var TOKEN_KEY = 'ehz.webchat.token';
  var REQUEST_TIMEOUT_MS = window.WEBCHAT_REQUEST_TIMEOUT_MS || 30000;  // embedders may shorten it
  var HANDOFF = { title: '转人工/留言', payload: '/human_handoff' };
  var WELCOME = {
    text: '您好！我是廊坊e户政智能客服，可以解答户籍、身份证、居住证等业务问题，' +
      '也能帮您查办理进度、查新生儿重名、预约窗口办理。请问有什么可以帮您？\n' +
      '您可以直接输入问题，或点击下面的常用服务：',
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
  var TEXT = {
    network: '无法连接服务器，请检查网络后重试。',
    timeout: '服务器响应超时，请稍后重试。',
    busy: '系统繁忙，请稍后重试。',
    expired: '会话已过期，已为您开始新的对话。',
    historyFailed: '历史记录加载失败：',
    sessionFailed: '暂时无法连接智能客服：',
    sendFailed: '发送失败：',
    wait: '请稍候，上一条消息还在回复中…',
    feedbackThanks: '感谢您的评价！',
    feedbackDown: '感谢反馈，民警会根据您的评价改进回答。',
    feedbackFailed: '评价未能保存：',
    feedbackSubmit: '提交',
    restartFailed: '已清空对话；网络恢复后即可继续咨询。',
    address: '地址：',
    phone: '电话：',
    hours: '时间：',
    map: '地图导航'
  };
  var config = { feedback: null };

  // ------------------------------------------------------------------ elements & state
  var $ = function (id) { return document.getElementById(id); };
  var els = {
    notice: $('notice'),
    messages: $('messages'), input: $('input'), send: $('send'), counter: $('counter'),
    composer: $('composer'), banner: $('banner'), bannerText: $('banner-text'),
    bannerRetry: $('banner-retry'), restart: $('restart-btn'), handoff: $('handoff-btn'),
    confirm: $('confirm'), confirmOk: $('confirm-ok'), confirmCancel: $('confirm-cancel'),
    toast: $('toast')
  };
  var state = { token: null, pending: false, sessionPromise: null, typingRow: null, toastTimer: 0 };

  // ------------------------------------------------------------------ storage
  var memoryStore = {};
  var storage = {
    get: function () {
      try { return window.localStorage.getItem(TOKEN_KEY); } catch (e) { return memoryStore[TOKEN_KEY] || null; }
    },
    set: function (v) {
      try { window.localStorage.setItem(TOKEN_KEY, v); } catch (e) { memoryStore[TOKEN_KEY] = v; }
    },
    remove: function () {
      try { window.localStorage.removeItem(TOKEN_KEY); } catch (e) { delete memoryStore[TOKEN_KEY]; }
    }
  };

  // ------------------------------------------------------------------ HTTP
  /** Call the API; resolves {status, data}, rejects {kind: 'network'|'timeout'}. */
  function api(method, path, body, useAuth) {
    var headers = { 'Accept': 'application/json' };
    if (body !== undefined) { headers['Content-Type'] = 'application/json'; }
    if (useAuth && state.token) { headers['Authorization'] = 'Bearer ' + state.token; }
    var controller = typeof AbortController === 'function' ? new AbortController() : null;
    var timedOut = false;
    var timer = setTimeout(function () {
      timedOut = true;
      if (controller) { controller.abort(); }
    }, REQUEST_TIMEOUT_MS);
    var options = { method: method, headers: headers, cache: 'no-store', credentials: 'omit' };
    if (body !== undefined) { options.body = JSON.stringify(body); }
    if (controller) { options.signal = controller.signal; }
    var request = fetch(BASE + path, options).then(function (res) {
      return res.text().then(function (raw) {
        var data = null;
        try { data = raw ? JSON.parse(raw) : null; } catch (e) { data = null; }
        return { status: res.status, data: data };
      });
    }, function () {
      throw { kind: timedOut ? 'timeout' : 'network' };
    });
    var timeout = new Promise(function (resolve, reject) {
      // Safety net for environments without AbortController.
      setTimeout(function () { reject({ kind: 'timeout' }); }, REQUEST_TIMEOUT_MS + 1000);
    });
    return Promise.race([request, timeout]).then(function (r) {
      clearTimeout(timer);
      return r;
    }, function (err) {
      clearTimeout(timer);
      throw err;
    });
  }

  /** A user-facing explanation for a failed call (rejection or non-2xx response). */
  function describe(failure) {
    if (failure && failure.kind === 'timeout') { return TEXT.timeout; }
    if (failure && failure.kind === 'network') { return TEXT.network; }
    if (failure && failure.data && typeof failure.data.message === 'string') { return failure.data.message; }
    return TEXT.busy;
  }

  function isRetryable(failure) {
    return !failure || failure.kind || failure.status >= 500 || failure.status === 429 ||
      failure.status === 401;
  }

  // ------------------------------------------------------------------ session
  function saveSession(data) {
    state.token = data.token;
    storage.set(data.token);
    if (data.max_message_chars) { els.input.maxLength = data.max_message_chars; updateCounter(); }
  }

  function dropSession() {
    state.token = null;
    storage.remove();
  }

  /** Resolve once a token exists, creating a session if needed (one request at a time). */
  function ensureSession() {
    if (state.token) { return Promise.resolve(state.token); }
    if (state.sessionPromise) { return state.sessionPromise; }
    state.sessionPromise = api('POST', 'session', {}, false).then(function (res) {
      if (res.status !== 201 && res.status !== 200) { throw res; }
      saveSession(res.data);
      hideBanner();
      return state.token;
    }).then(function (t) {
      state.sessionPromise = null;
      return t;
    }, function (err) {
      state.sessionPromise = null;
      throw err;
    });
    return state.sessionPromise;
  }

  function startSession() {
    ensureSession().catch(function (err) {
      showBanner(TEXT.sessionFailed + describe(err), startSession);
    });
  }

  function loadHistory() {
    api('GET', 'history', undefined, true).then(function (res) {
      if (res.status === 401) {
        dropSession();
        startSession();
        return;
      }
      if (res.status !== 200) { throw res; }
      hideBanner();
      var entries = (res.data && res.data.messages) || [];
      if (entries.length) { appendDivider('以下是您之前的对话'); }
      entries.forEach(function (entry) {
        if (entry.role === 'user') { appendUser(entry.text); } else { appendBot(entry); }
      });
      scrollToBottom();
    }).catch(function (err) {
      showBanner(TEXT.historyFailed + describe(err), loadHistory);
    });
  }

  // ------------------------------------------------------------------ rendering helpers
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  var URL_RE = /(https?:\/\/[^\s<>"'\u3000-\u303f\uff00-\uffef]+)/g;
  var BOLD_RE = /\*\*([^*\n]+)\*\*/g;

  /** Append plain text with **bold** spans as text nodes (never parsed as HTML). */
  function appendStyled(parent, text) {
    var last = 0;
    var match;
    BOLD_RE.lastIndex = 0;
    while ((match = BOLD_RE.exec(text)) !== null) {
      if (match.index > last) { parent.appendChild(document.createTextNode(text.slice(last, match.index))); }
      parent.appendChild(el('strong', null, match[1]));
      last = match.index + match[0].length;
    }
    if (last < text.length) { parent.appendChild(document.createTextNode(text.slice(last))); }
  }

  /** Render bot text: line breaks kept (CSS pre-wrap), URLs become links, nothing else is markup. */
  function renderRich(parent, text) {
    var last = 0;
    var match;
    URL_RE.lastIndex = 0;
    while ((match = URL_RE.exec(text)) !== null) {
      var url = match[1].replace(/[.,;:!?)\]]+$/, '');
      if (match.index > last) { appendStyled(parent, text.slice(last, match.index)); }
      var a = el('a', null, url);
      a.href = url;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      parent.appendChild(a);
      last = match.index + url.length;
      URL_RE.lastIndex = last;
    }
    if (last < text.length) { appendStyled(parent, text.slice(last)); }
  }

  function scrollToBottom() {
    els.messages.scrollTop = els.messages.scrollHeight;
  }

  function appendDivider(text) {
    els.messages.appendChild(el('div', 'divider', text));
  }

  function appendUser(text) {
    var row = el('div', 'row user');
    var stack = el('div', 'stack');
    stack.appendChild(el('div', 'bubble', text));
    row.appendChild(stack);
    els.messages.appendChild(row);
    scrollToBottom();
    return row;
  }

  function renderCustom(bubble, custom) {
    if (!custom || typeof custom !== 'object') { return false; }
    if (custom.type === 'location' && custom.name) {
      bubble.className += ' place';
      bubble.setAttribute('data-testid', 'place');
      bubble.appendChild(el('div', 'card-title', custom.name));
      if (custom.address) { bubble.appendChild(el('div', 'card-sub', TEXT.address + custom.address)); }
      if (custom.phone) {
        var phone = el('div', 'card-sub', TEXT.phone);
        var tel = el('a', null, custom.phone);
        tel.href = 'tel:' + custom.phone.replace(/[^0-9+]/g, '');
        phone.appendChild(tel);
        bubble.appendChild(phone);
      }
      if (custom.hours) { bubble.appendChild(el('div', 'card-sub', TEXT.hours + custom.hours)); }
      if (typeof custom.map_url === 'string' && /^https:\/\//.test(custom.map_url)) {
        var map = el('a', 'card-map', TEXT.map);
        map.href = custom.map_url;
        map.target = '_blank';
        map.rel = 'noopener noreferrer';
        bubble.appendChild(map);
      }
      return true;
    }
    if (typeof custom.text === 'string' && custom.text) {
      renderRich(bubble, custom.text);
      return true;
    }
    return false;
  }

  function appendBot(message) {
    var row = el('div', 'row bot');
    row.appendChild(el('span', 'avatar', '警'));
    var stack = el('div', 'stack');
    var bubble = el('div', message.fallback ? 'bubble fallback' : 'bubble');
    var shown = false;
    if (typeof message.text === 'string' && message.text) {
      renderRich(bubble, message.text);
      shown = true;
    }
    if (typeof message.image === 'string' && /^https?:\/\//.test(message.image)) {
      var img = el('img');
      img.src = message.image;
      img.alt = '图片';
      img.loading = 'lazy';
      bubble.appendChild(img);
      shown = true;
    }
    if (renderCustom(bubble, message.custom)) { shown = true; }
    if (shown) { stack.appendChild(bubble); }
    if (message.buttons && message.buttons.length) {
      stack.appendChild(renderButtons(message.buttons));
    }
    if (message.id && message.rateable) { stack.appendChild(renderFeedback(message.id, message.rating)); }
    if (!stack.childNodes.length) { return null; }
    row.appendChild(stack);
    if (message.id) { row.setAttribute('data-message-id', message.id); }
    els.messages.appendChild(row);
    scrollToBottom();
    return row;
  }

  function renderButtons(buttons) {
    var box = el('div', 'buttons');
    buttons.forEach(function (b) {
      if (!b || !b.title) { return; }
      if (!b.payload && b.url) {
        var link = el('a', 'qr', b.title);
        link.href = b.url;
        link.target = '_blank';
        link.rel = 'noopener noreferrer';
        box.appendChild(link);
        return;
      }
      var btn = el('button', b.payload === HANDOFF.payload ? 'qr handoff' : 'qr', b.title);
      btn.type = 'button';
      btn.addEventListener('click', function () { send(b.payload, b.title); });
      box.appendChild(btn);
    });
    return box;
  }

  function renderFeedback(messageId, rating) {
    var box = el('div', 'feedback');
    var up = el('button', 'fb up', '👍 有用');
    var down = el('button', 'fb down', '👎 没用');
    [up, down].forEach(function (btn) {
      btn.type = 'button';
      btn.setAttribute('aria-pressed', 'false');
    });
    up.setAttribute('aria-label', '这条回答有用');
    down.setAttribute('aria-label', '这条回答没用');
    if (rating === 'up') { up.setAttribute('aria-pressed', 'true'); }
    if (rating === 'down') { down.setAttribute('aria-pressed', 'true'); }
    up.addEventListener('click', function () { rate(messageId, 'up', up, down, box); });
    down.addEventListener('click', function () { rate(messageId, 'down', down, up, box); });
    box.appendChild(up);
    box.appendChild(down);
    return box;
  }

  function rate(messageId, rating, chosen, other, box) {
    if (chosen.getAttribute('aria-pressed') === 'true') { return; }
    chosen.disabled = true;
    postFeedback({ message_id: messageId, rating: rating }).then(function () {
      chosen.setAttribute('aria-pressed', 'true');
      other.setAttribute('aria-pressed', 'false');
      var note = box.querySelector('.fb-note') || box.appendChild(el('span', 'fb-note'));
      note.textContent = rating === 'down' ? '' : TEXT.feedbackThanks;
      var old = box.parentNode.querySelector('.fb-reasons');
      if (old) { old.parentNode.removeChild(old); }
      if (rating === 'down') {
        if (config.feedback) {
          box.parentNode.appendChild(renderReasons(messageId, note));
        } else {
          note.textContent = TEXT.feedbackDown;
        }
      }
    }).catch(function (err) {
      toast(TEXT.feedbackFailed + describe(err));
    }).then(function () {
      chosen.disabled = false;
    });
  }

  function postFeedback(body) {
    return api('POST', 'feedback', body, true).then(function (res) {
      if (res.status !== 200) { throw res; }
      return res;
    });
  }

  /** After a 👎: what was wrong (one choice) and optional words, sent with the rating. */
  function renderReasons(messageId, note) {
    var options = config.feedback;
    var form = el('form', 'fb-reasons');
    form.setAttribute('data-testid', 'feedback-reasons');
    form.appendChild(el('div', 'fb-question', options.question));
    var chips = el('div', 'fb-chips');
    var chosen = null;
    (options.reasons || []).forEach(function (reason) {
      var chip = el('button', 'fb-chip', reason.title);
      chip.type = 'button';
      chip.setAttribute('aria-pressed', 'false');
      chip.addEventListener('click', function () {
        chosen = reason.code;
        Array.prototype.forEach.call(chips.childNodes, function (c) { c.setAttribute('aria-pressed', 'false'); });
        chip.setAttribute('aria-pressed', 'true');
        submit.disabled = false;
      });
      chips.appendChild(chip);
    });
    form.appendChild(chips);
    var comment = el('textarea', 'fb-comment');
    comment.rows = 2;
    comment.maxLength = options.max_comment_chars || 200;
    comment.placeholder = options.comment_hint || '';
    comment.setAttribute('aria-label', options.comment_hint || '');
    form.appendChild(comment);
    var submit = el('button', 'fb-submit', TEXT.feedbackSubmit);
    submit.type = 'submit';
    submit.disabled = true;
    form.appendChild(submit);
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      if (!chosen) { return; }
      submit.disabled = true;
      var body = { message_id: messageId, rating: 'down', reason: chosen };
      if (comment.value.trim()) { body.comment = comment.value.trim(); }
      postFeedback(body).then(function () {
        form.parentNode.removeChild(form);
        note.textContent = options.thanks || TEXT.feedbackDown;
      }).catch(function (err) {
        submit.disabled = false;
        toast(TEXT.feedbackFailed + describe(err));
      });
    });
    return form;
  }

  /** The page's wording from the server: the sample-data notice and the 👎 reasons. */
  function loadConfig() {
    api('GET', 'config', undefined, false).then(function (res) {
      if (res.status !== 200 || !res.data) { return; }
      if (res.data.feedback && res.data.feedback.reasons) { config.feedback = res.data.feedback; }
      if (typeof res.data.map_link === 'string' && res.data.map_link) { TEXT.map = res.data.map_link; }
      if (typeof res.data.sample_notice === 'string' && res.data.sample_notice) {
        els.notice.textContent = res.data.sample_notice;
        els.notice.hidden = false;
      }
    }, function () { /* the page works without it */ });
  }

  function showTyping() {
    hideTyping();
    var row = el('div', 'row bot typing');
    row.setAttribute('data-testid', 'typing');
    row.setAttribute('aria-label', '客服正在输入');
    row.appendChild(el('span', 'avatar', '警'));
    var bubble = el('div', 'bubble');
    bubble.appendChild(el('span', 'dot'));
    bubble.appendChild(el('span', 'dot'));
    bubble.appendChild(el('span', 'dot'));
    row.appendChild(bubble);
    els.messages.appendChild(row);
    state.typingRow = row;
    scrollToBottom();
  }

  function hideTyping() {
    if (state.typingRow && state.typingRow.parentNode) {
      state.typingRow.parentNode.removeChild(state.typingRow);
    }
    state.typingRow = null;
  }

  function showBanner(text, retry) {
    els.bannerText.textContent = text;
    els.banner.hidden = false;
    els.bannerRetry.onclick = function () {
      hideBanner();
      retry();
    };
  }

  function hideBanner() {
    els.banner.hidden = true;
  }

  function toast(text) {
    els.toast.textContent = text;
    els.toast.hidden = false;
    clearTimeout(state.toastTimer);
    state.toastTimer = setTimeout(function () { els.toast.hidden = true; }, 3500);
  }

  // ------------------------------------------------------------------ sending
  function setPending(pending) {
    state.pending = pending;
    updateSendButton();
  }

  function updateSendButton() {
    els.send.disabled = state.pending || !els.input.value.trim();
  }

  function updateCounter() {
    var n = els.input.value.length;
    var max = els.input.maxLength > 0 ? els.input.maxLength : 500;
    // Shown near the limit only; the box itself (maxlength) never accepts more than max.
    els.counter.textContent = n >= max ? n + '/' + max + ' 已达字数上限' : n + '/' + max;
    els.counter.className = n >= max ? 'counter full' : 'counter';
    els.counter.hidden = n < Math.floor(max * 0.8);
  }

  function autosize() {
    els.input.style.height = '38px';
    if (els.input.scrollHeight > els.input.clientHeight) {
      els.input.style.height = Math.min(els.input.scrollHeight + 2, 120) + 'px';
    }
  }

  /** Send a typed message (title empty) or a quick reply (payload + title). */
  function send(text, title) {
    text = (text || '').trim();
    if (!text) { return false; }
    if (state.pending) {
      toast(TEXT.wait);
      return false;
    }
    var row = appendUser(title || text);
    deliver(row, text, title, false);
    return true;
  }

  function deliver(row, text, title, renewed) {
    clearError(row);
    row.classList.add('pending');
    setPending(true);
    showTyping();
    var body = { message: text };
    if (title) { body.title = title; }
    var outcome = ensureSession().then(function () {
      return api('POST', 'message', body, true);
    }).then(function (res) {
      if (res.status === 401 && !renewed) {
        dropSession();
        toast(TEXT.expired);
        return 'renew';
      }
      if (res.status !== 200) { throw res; }
      (res.data.messages || []).forEach(appendBot);
      hideBanner();
      return 'ok';
    });
    outcome.then(function (result) {
      row.classList.remove('pending');
      hideTyping();
      setPending(false);
      if (result === 'renew') { deliver(row, text, title, true); }
    }, function (err) {
      row.classList.remove('pending');
      hideTyping();
      setPending(false);
      showError(row, describe(err), isRetryable(err) ? function () { retry(row, text, title); } : null);
    });
  }

  function retry(row, text, title) {
    if (state.pending) {
      toast(TEXT.wait);
      return;
    }
    deliver(row, text, title, false);
  }

  function showError(row, message, onRetry) {
    clearError(row);
    var box = el('div', 'msg-error');
    box.setAttribute('role', 'alert');
    box.appendChild(el('span', null, TEXT.sendFailed + message));
    if (onRetry) {
      var btn = el('button', 'retry', '重试');
      btn.type = 'button';
      btn.addEventListener('click', onRetry);
      box.appendChild(btn);
    }
    row.querySelector('.stack').appendChild(box);
    scrollToBottom();
  }

  function clearError(row) {
    var old = row.querySelector('.msg-error');
    if (old) { old.parentNode.removeChild(old); }
  }

  // ------------------------------------------------------------------ restart
  function restart() {
    els.confirm.hidden = true;
    var done = function () {
      els.messages.textContent = '';
      hideBanner();
      appendWelcome();
      els.input.focus();
    };
    var request = state.token ? api('POST', 'restart', {}, true) : Promise.resolve({ status: 401 });
    request.then(function (res) {
      if (res.status === 201 || res.status === 200) {
        saveSession(res.data);
        return;
      }
      if (res.status === 401) {
        dropSession();
        return ensureSession();
      }
      throw res;
    }).then(done, function () {
      dropSession();  // a new session is created with the next message
      done();
      toast(TEXT.restartFailed);
    });
  }

  function appendWelcome() {
    var row = appendBot({ text: WELCOME.text, buttons: WELCOME.buttons });
    row.setAttribute('data-testid', 'welcome');
  }

  // ------------------------------------------------------------------ wiring
  els.composer.addEventListener('submit', function (event) {
    event.preventDefault();
    if (send(els.input.value)) {
      els.input.value = '';
      updateCounter();
      autosize();
      updateSendButton();
    }
  });
  els.input.addEventListener('keydown', function (event) {
    var composing = event.isComposing || event.keyCode === 229;
    if (event.key === 'Enter' && !event.shiftKey && !composing) {
      event.preventDefault();
      if (!els.send.disabled) { els.composer.requestSubmit ? els.composer.requestSubmit() : els.send.click(); }
    }
  });
  els.input.addEventListener('input', function () {
    updateCounter();
    autosize();
    updateSendButton();
  });
  els.handoff.addEventListener('click', function () { send(HANDOFF.payload, HANDOFF.title); });
  els.restart.addEventListener('click', function () {
    els.confirm.hidden = false;
    els.confirmOk.focus();
  });
  els.confirmCancel.addEventListener('click', function () { els.confirm.hidden = true; });
  els.confirmOk.addEventListener('click', restart);

  // ------------------------------------------------------------------ start
  loadConfig();
  appendWelcome();
  updateCounter();
  updateSendButton();
  state.token = storage.get();
  if (state.token) { loadHistory(); } else { startSession(); }
})();
