"""How a booking is described to its owner (values for the booking responses)."""

from __future__ import annotations

import datetime as dt

from actions.booking.windows import short_window
from actions.dates import format_day
from bot.db.queries.booking import BookingView


def booking_values(view: BookingView, today: dt.date) -> dict[str, str]:
    """The placeholders of the booking responses (masked name and phone only)."""
    return {
        "code": view.code,
        "business": view.business_name,
        "day": format_day(view.day, today),
        "time": view.time_label,
        "window": short_window(view.window_name),
        "address": view.address,
        "window_phone": view.window_phone,
        "name": view.name_masked,
        "phone": view.phone_masked,
    }
