"""Numerals for the date parsers (actions.dates.text, Chinese numerals via cn2an)."""

from __future__ import annotations

import pytest

from actions.dates import cn_to_int, normalize


@pytest.mark.parametrize(
    ("token", "value"),
    [
        ("12", 12),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("二十五", 25),
        ("三十一", 31),
        ("廿五", 25),
        ("两", 2),
        ("二〇二六", 2026),
        ("卅一", 31),  # the forms cn2an lacks
        ("二○二六", 2026),
        ("１２", 12),
        ("一百零一", 101),
        ("一点五", None),  # not a whole number
        ("²", None),
        ("十二十", None),
        ("abc", None),
        ("", None),
    ],
)
def test_cn_to_int(token: str, value: int | None) -> None:
    assert cn_to_int(token) == value


def test_normalize_makes_full_width_half_width_and_drops_spaces_except_between_digits() -> None:
    assert normalize("１２ 月 ５ 日 礼拜五") == "12月5日星期五"
    assert normalize("12/5 9:30") == "12/5 9:30"
