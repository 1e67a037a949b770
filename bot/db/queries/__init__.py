"""Query functions of the data layer, one module per concern.

Every function takes an open :class:`sqlalchemy.orm.Session` as its first argument and returns
plain dataclasses (never ORM objects), so callers can use the result after the session has
closed; the action server runs them in a worker thread through ``actions.db.run_db``. None of
them commits: the caller's ``session_scope()`` does, so a failure leaves nothing half-done.

- :mod:`.cases`: case status lookup with the second factor, rate limit and audit.
- :mod:`.names`: holders of a full name in the resident registry.
- :mod:`.callbacks`: messages left for officers (留言) and their call-back deadline.
- :mod:`.audit`: the sensitive-lookup audit.
- :mod:`.directory`: counties, windows, service points.
- :mod:`.workdays`: working days from the ``holidays`` table (the rule is :mod:`bot.workdays`).
- :mod:`.slots`: free and bookable slots within the booking horizon.
- :mod:`.booking`: booking, looking up, cancelling and moving a place (imports :mod:`.slots`).
- :mod:`.throttle`, :mod:`.feedback`, :mod:`.revocations`: lookup limits, ratings, revoked ids.
"""
