"""The intents officers choose from, and their Chinese names (data/knowledge/intent_names.yml)."""

from __future__ import annotations

from pathlib import Path

from bot.console.config import ConsoleSettings
from bot.console.intents import load_catalog, load_display_names
from bot.db.session import PROJECT_ROOT
from tests.console.conftest import seed_standard
from tests.console.helpers import Client, TrackerWriter


def test_every_intent_and_answer_has_a_chinese_name() -> None:
    catalog = load_catalog(PROJECT_ROOT)
    names = load_display_names(PROJECT_ROOT)
    wanted = set(catalog.assignable) | catalog.retrieval_bases | {"nlu_fallback"}
    missing = sorted(wanted - set(names))
    assert not missing, f"add these to data/knowledge/intent_names.yml: {missing}"
    stale = sorted(set(names) - wanted)
    assert not stale, f"no such intent any more: {stale}"
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in name) for name in names.values())


def test_unknown_intents_show_their_raw_name(tmp_path: Path) -> None:
    catalog = load_catalog(tmp_path)  # no domain, no names file
    assert catalog.label("faq/brand_new") == "faq/brand_new"
    assert catalog.label(None) == "—"


def test_pages_and_intent_picker_use_the_chinese_names(
    officer: Client, writer: TrackerWriter, settings: ConsoleSettings
) -> None:
    seed_standard(writer, settings)
    inbox = officer.get("/inbox?view=items").text
    assert '<td class="intent" title="faq/id_card_lost_online">身份证丢失补领</td>' in inbox
    assert '<td class="intent" title="nlu_fallback">未识别（机器人反问澄清）</td>' in inbox
    intents = officer.get("/api/intents").json()
    fees = next(i for i in intents if i["intent"] == "faq/id_card_fees")
    assert fees["hint"].startswith("身份证费用")
