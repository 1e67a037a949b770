"""Window names (actions/booking/windows.py): short names, button labels, typed names."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from actions.booking import windows as w


@dataclass
class Offered:
    window_id: int
    window_name: str
    county: str


def test_the_sample_marker_is_dropped_from_a_window_name() -> None:
    assert w.short_window("固安县公安局户政服务大厅（示例）") == "固安县公安局户政服务大厅"


@pytest.mark.parametrize(
    ("name", "county", "short"),
    [
        ("固安县公安局户政服务大厅（示例）", "固安县", "户政服务大厅"),
        ("三河市公安局燕郊派出所户籍窗口（示例）", "三河市", "燕郊派出所"),
        ("廊坊市公安局广阳分局户政服务大厅（示例）", "广阳区", "广阳分局户政服务大厅"),
    ],
)
def test_window_labels_fit_a_button(name: str, county: str, short: str) -> None:
    assert w.window_label(name, county) == short


GUAN = [
    Offered(1, "固安县公安局户政服务大厅（示例）", "固安县"),
    Offered(2, "固安县公安局固安镇派出所户籍窗口（示例）", "固安县"),
]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("户政服务大厅", 1),
        ("12月3号去户政大厅", 1),
        ("派出所那个就行", 2),
        ("12月3号", None),  # names no window
        ("随便哪个", None),
        ("", None),
    ],
)
def test_a_typed_text_names_at_most_one_offered_window(typed: str, expected: int | None) -> None:
    assert w.named_window(GUAN, typed) == expected


def test_a_name_two_windows_share_equally_names_neither() -> None:
    two_stations = [
        Offered(1, "三河市公安局燕郊派出所户籍窗口", "三河市"),
        Offered(2, "三河市公安局泃阳派出所户籍窗口", "三河市"),
    ]
    assert w.named_window(two_stations, "去派出所") is None
    assert w.named_window(two_stations, "燕郊那个") == 1
