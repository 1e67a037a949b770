"""The web-chat input channel: the H5 chat page and the JSON API the mini-program talks to.

Registered in ``credentials.yml``::

    bot.channels.webchat.WebChatInput:
      # all optional:
      token_max_age_days: 30      # how long a conversation token stays valid
      reply_timeout: 25           # seconds before the user gets a "系统繁忙" reply
      max_message_chars: 500      # longest accepted user message

Rasa mounts it at ``/webhooks/webchat/``:

==========================  =====================================================
``GET  /``                  the chat page (``bot/web/index.html``)
``GET  /static/<file>``     the page's assets (``bot/web/static/``)
``GET  /health``            ``{"status": "ok", "ready": true}``
``GET  /config``            the page's wording: sample-data notice, 👎 reasons
``POST /session``           issue a new conversation id and its signed token
``POST /message``           send one user message, get the bot's messages back
``GET  /history``           the conversation's visible history (personal numbers masked)
``POST /feedback``          👍/👎 on one rateable bot message (a 👎 with a reason)
``POST /restart``           abandon the conversation and start a fresh one
==========================  =====================================================

Every call except ``/session`` carries ``Authorization: Bearer <token>``. A token is the
conversation id, its issue time and an HMAC-SHA256 signature made with a server secret
(``WEBCHAT_SECRET`` or, if unset, a random secret generated into ``var/webchat_secret``), so
conversation ids are unguessable and no client can read or write another conversation.
Errors are JSON ``{"error": <code>, "message": <中文说明>}`` with a 4xx status (503 when a
dependency is down); the channel never answers 500. The full contract, for native
mini-program pages, is ``docs/webchat-api.md``.

The package: :mod:`.constants` (limits and defaults), :mod:`.tokens` (conversation ids and
signed tokens), :mod:`.inputs` (request bodies, messages, JSON errors), :mod:`.history` (bot
messages as the client sees them), :mod:`.stores` (ratings and revoked conversations in the
database) and :mod:`.channel` (the Rasa input channel).
"""

from bot.channels.webchat.channel import WebChatInput

__all__ = ["WebChatInput"]
