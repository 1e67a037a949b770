"""Text preparation for the date and time parsers: normalisation and numerals.

Chinese numerals (十二, 二十五, 廿五, 二〇二六) are read by the ``cn2an`` library; this module
only adds the two forms it lacks (○ for zero and 卅 for thirty) and the Arabic digits.
"""

from __future__ import annotations

import re
import unicodedata

import cn2an

#: A numeral of up to four digits or five Chinese numeral characters.
NUM = r"(?:\d{1,4}|[零〇○一二两三四五六七八九十廿卅]{1,5})"
#: A numeral of up to two digits (months, days, hours, minutes).
NUM2 = r"(?:\d{1,2}|[零〇一二两三四五六七八九十廿卅]{1,3})"


def normalize(text: str) -> str:
    """Normalise text for parsing: NFKC (full-width -> half-width), lower case, no spaces.

    Args:
        text: the user's text.

    Returns:
        The normalised text.

    """
    value = unicodedata.normalize("NFKC", text or "").lower()
    value = value.replace("礼拜", "星期").replace("禮拜", "星期")
    value = re.sub(r"\s+", " ", value).strip()
    # Keep a space only between two digits ("12/5 9:30"); elsewhere it carries no meaning.
    return re.sub(r"(?<!\d) | (?!\d)", "", value)


def cn_to_int(token: str) -> int | None:
    """Convert Arabic or Chinese numerals (``12``, ``十二``, ``二十五``, ``二〇二六``) to int.

    Args:
        token: the numeral.

    Returns:
        The value, or None if the token is not a (well-formed) whole numeral.

    """
    token = token.strip()
    if not token:
        return None
    if token.isdecimal():
        return int(token)
    try:
        value = cn2an.cn2an(token.replace("○", "〇").replace("卅", "三十"), "normal")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    return int(value)
