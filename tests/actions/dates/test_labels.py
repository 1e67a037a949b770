"""Days and times as replies show them (actions.dates.labels)."""

from __future__ import annotations

import datetime as dt

from actions.dates import format_day, format_time, half_day_of

D = dt.date


def test_format_day_and_half_day() -> None:
    assert format_day(D(2026, 12, 4), D(2026, 12, 2)) == "后天 12月4日（周五）"
    assert format_day(D(2026, 12, 9), D(2026, 12, 2)) == "12月9日（周三）"
    assert half_day_of(dt.time(9, 0)) == "morning"
    assert half_day_of(dt.time(12, 30)) == "noon"
    assert half_day_of(dt.time(15, 0)) == "afternoon"


def test_near_days_are_named_and_times_are_two_digit() -> None:
    assert format_day(D(2026, 12, 2), D(2026, 12, 2)) == "今天 12月2日（周三）"
    assert format_day(D(2026, 12, 3), D(2026, 12, 2)) == "明天 12月3日（周四）"
    assert format_time(dt.time(9, 5)) == "09:05"


def test_officers_reword_dates_in_the_data_files(tmp_path, monkeypatch) -> None:
    """星期五 instead of 周五, 12/4 instead of 12月4日: a data change, no code change."""
    import shutil

    import yaml

    from bot.knowledge import PROJECT_ROOT
    from bot.workdays import half_day_names

    kdir, rdir = tmp_path / "knowledge", tmp_path / "responses"
    shutil.copytree(PROJECT_ROOT / "data" / "knowledge", kdir)
    shutil.copytree(PROJECT_ROOT / "data" / "responses", rdir)
    calendar = yaml.safe_load((kdir / "calendar.yml").read_text(encoding="utf-8"))
    calendar["weekdays"] = [f"星期{c}" for c in "一二三四五六日"]
    calendar["half_days"]["afternoon"] = "午后"
    (kdir / "calendar.yml").write_text(yaml.safe_dump(calendar, allow_unicode=True), "utf-8")
    common = rdir / "common.yml"
    text = common.read_text(encoding="utf-8").replace(
        '"{month}月{day}日（{weekday}）"', '"{month}/{day} {weekday}"'
    )
    common.write_text(text, encoding="utf-8")
    monkeypatch.setenv("KNOWLEDGE_DIR", str(kdir))
    monkeypatch.setenv("RESPONSES_DIR", str(rdir))
    assert format_day(D(2026, 12, 4), D(2026, 12, 3)) == "明天 12/4 星期五"
    assert half_day_names()["afternoon"] == "午后"
