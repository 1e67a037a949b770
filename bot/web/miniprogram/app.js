// 廊坊e户政 智能客服 — sample mini-program. The only setting is API_BASE in config.js.
App({});
