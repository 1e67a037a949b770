// The ONE setting of this mini-program: the public HTTPS address of the bot's web-chat channel
// (…/webhooks/webchat, see docs/webchat-api.md). Its domain must be a "request 合法域名" of the
// mini-program (WeChat admin console → 开发管理 → 服务器域名). In DevTools you may tick
// "不校验合法域名" and use http://127.0.0.1:5005/webhooks/webchat against `make run`.
module.exports = {
  API_BASE: 'https://bot.example.gov.cn/webhooks/webchat'
};
