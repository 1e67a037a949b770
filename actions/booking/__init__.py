"""Appointment booking at registration windows (预约服务).

- :mod:`~actions.booking.parsing`: what a message tries to fill (no database, no rasa state);
- :mod:`~actions.booking.rules`: whether it can be booked (pure functions over a session);
- :mod:`~actions.booking.prompts`: the questions, offering only what is bookable;
- :mod:`~actions.booking.form`: the forms' ``extract_<slot>`` / ``validate_<slot>``;
- :mod:`~actions.booking.book`: booking the confirmed slot, leaving the form;
- :mod:`~actions.booking.verify`: booking code + phone, limited in the database;
- :mod:`~actions.booking.lookup`: my booking, cancel (confirmed first), reschedule;
- :mod:`~actions.booking.view`: how a booking is described to its owner.

Dialogue (``booking_form``): business -> county -> day -> (window) -> time -> name -> phone ->
confirmation, then ``action_book_slot`` books atomically and answers with a booking code.
Privacy: the name is kept masked (``张某``) from the moment it is validated; the phone becomes
``{"masked": "138****5678", "hash": <HMAC>}`` at validation and is cleared after use.
"""
