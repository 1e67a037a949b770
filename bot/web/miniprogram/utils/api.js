// The web-chat API over wx.request (contract: docs/webchat-api.md).
const config = require('../config.js');

const TIMEOUT_MS = 30000;

/**
 * One API call. Resolves {statusCode, data} for every HTTP answer (4xx/5xx included);
 * rejects {kind: 'timeout'|'network'} when no answer came.
 */
function call(method, path, data, token) {
  const header = { 'content-type': 'application/json' };
  if (token) header.Authorization = 'Bearer ' + token;
  return new Promise((resolve, reject) => {
    wx.request({
      url: config.API_BASE.replace(/\/+$/, '') + '/' + path,
      method,
      data,
      header,
      timeout: TIMEOUT_MS,
      success: (res) => resolve({ statusCode: res.statusCode, data: res.data }),
      fail: (err) => reject({ kind: /timeout/i.test((err && err.errMsg) || '') ? 'timeout' : 'network' })
    });
  });
}

/** What to tell the user about a failed call (a rejection or a non-2xx answer). */
function describe(failure) {
  if (failure && failure.kind === 'timeout') return '服务器响应超时，请稍后重试。';
  if (failure && failure.kind === 'network') return '无法连接服务器，请检查网络后重试。';
  if (failure && failure.data && typeof failure.data.message === 'string') return failure.data.message;
  return '系统繁忙，请稍后重试。';
}

/** Whether sending again may help (no answer, a server error, an expired session). */
function retryable(failure) {
  return !failure || !!failure.kind || !failure.statusCode || failure.statusCode >= 500 ||
    failure.statusCode === 429;
}

module.exports = { call, describe, retryable };
