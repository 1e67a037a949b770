"""Export of annotations as Rasa NLU data (merged, deduplicated, cleaned)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.console.config import ConsoleSettings
from bot.console.db import ConsoleDB
from bot.console.export import clean_example, export_annotations
from bot.console.ingest import Syncer
from bot.console.intents import load_catalog
from bot.console.review import Review, ReviewError, apply_review
from bot.db.session import PROJECT_ROOT
from tests.console.conftest import (
    MASKED_ID,
    PHONE,
    items_by_text,
    now_utc,
    seed_standard,
)
from tests.console.helpers import Client, TrackerWriter, Turn, find, run_cli


def test_annotation_exports_valid_merged_nlu_without_duplicates(
    db: ConsoleDB, writer: TrackerWriter, settings: ConsoleSettings
) -> None:
    seed_standard(writer, settings)
    writer.write("dup", [Turn("我要预约", "nlu_fallback", 0.55)], now_utc())  # already in data/nlu
    Syncer(db).sync()
    catalog = load_catalog(settings.project_dir, settings.nlu_export_path)
    assert "faq/id_card_lost_online" in catalog.assignable
    assert "greet" in catalog.assignable
    assert "nlu_fallback" not in catalog.assignable and "faq" not in catalog.assignable
    items = items_by_text(db)

    def annotate(texts: list[str], intent: str, edits: dict[str, str] | None = None) -> None:
        with db.session() as session:
            ids = [items[t].id for t in texts]
            edited = {items[t].id: v for t, v in (edits or {}).items()}
            apply_review(session, ids, Review("annotate", intent, edited), catalog, "officer1")
            export_annotations(session, settings, catalog)

    annotate(
        ["身份证掉了咋整", "身份证丢了咋办"],
        "faq/id_card_lost_online",
        {"身份证丢了咋办": "身份证丢了咋办呀"},
    )
    annotate(["我要预约"], "book_appointment")
    annotate([f"我的身份证号{MASKED_ID}丢了怎么补"], "faq/id_card_lost_online")
    path = settings.nlu_export_path
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["version"] == "3.1"
    examples = {e["intent"]: [x[2:] for x in e["examples"].splitlines()] for e in data["nlu"]}
    assert examples == {
        "faq/id_card_lost_online": [
            "身份证掉了咋整",
            "身份证丢了咋办呀",
            f"我的身份证号{MASKED_ID}丢了怎么补",
        ]
    }  # "我要预约" is already training data: not duplicated
    # Merge: a hand-added example survives; re-annotating moves an example, never duplicates it.
    text = path.read_text(encoding="utf-8").replace(
        "    - 身份证掉了咋整\n", "    - 身份证掉了咋整\n    - 身份证被偷了怎么办\n"
    )
    path.write_text(text, encoding="utf-8")
    annotate(["身份证掉了咋整"], "faq/id_card_lost_online")
    annotate([f"我的身份证号{MASKED_ID}丢了怎么补"], "faq/id_card_remote")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    examples = {e["intent"]: [x[2:] for x in e["examples"].splitlines()] for e in data["nlu"]}
    assert examples["faq/id_card_remote"] == [f"我的身份证号{MASKED_ID}丢了怎么补"]
    flat = [x for v in examples.values() for x in v]
    assert sorted(flat) == sorted(set(flat))
    assert "身份证被偷了怎么办" in examples["faq/id_card_lost_online"]
    # Marking an exported item not useful withdraws it.
    with db.session() as session:
        apply_review(session, [items["身份证掉了咋整"].id], Review("not_useful"), catalog, "o")
        export_annotations(session, settings, catalog)
    assert "身份证掉了咋整" not in path.read_text(encoding="utf-8")


def test_new_intent_is_proposed_not_trained_and_names_are_validated(
    db: ConsoleDB, writer: TrackerWriter, settings: ConsoleSettings
) -> None:
    seed_standard(writer, settings)
    Syncer(db).sync()
    catalog = load_catalog(settings.project_dir, settings.nlu_export_path)
    item = items_by_text(db)["集体户口怎么迁出？我电话138****5678"]
    with db.session() as session:
        for bad in ("集体户口", "AskThing", "faq", "ask thing", ""):
            with pytest.raises(ReviewError):
                apply_review(session, [item.id], Review("annotate", bad), catalog, "o")
        outcome = apply_review(
            session, [item.id], Review("annotate", "ask_collective_hukou"), catalog, "o"
        )
        assert outcome.is_new_intent
        report = export_annotations(session, settings, catalog)
    assert report.proposed == 1
    assert "ask_collective_hukou" not in settings.nlu_export_path.read_text(encoding="utf-8")
    proposed = yaml.safe_load(settings.proposed_intents_path.read_text(encoding="utf-8"))
    assert proposed == {
        "proposed_intents": [
            {"intent": "ask_collective_hukou", "examples": ["集体户口怎么迁出？我电话138****5678"]}
        ]
    }
    assert not settings.proposed_intents_path.is_relative_to(settings.project_dir / "data")


def test_examples_are_cleaned_for_rasa() -> None:
    assert clean_example(f"  我的号{PHONE}\n丢了 ") == "我的号138****5678 丢了"
    assert clean_example("[固安](county)的窗口") == "［固安］(county)的窗口"
    assert clean_example("/greet") == "greet"


RASA = str(Path(sys.executable).parent / "rasa")


def _validate(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            RASA,
            "data",
            "validate",
            "--fail-on-warnings",
            "--domain",
            "domain.yml",
            "--data",
            "data",
            "--config",
            "config.yml",
        ],
        capture_output=True,
        text=True,
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "RASA_TELEMETRY_ENABLED": "false"},
        timeout=600,
    )


def _problems(output: str) -> set[str]:
    lines = re.sub(r"\x1b\[[0-9;]*m", "", output).splitlines()
    return {
        re.sub(r"^\S+ \S+ ", "", line).strip()
        for line in lines
        if "WARNING" in line or "ERROR" in line or "UserWarning" in line
    }


def test_exported_file_passes_rasa_data_validate(
    officer: Client, writer: TrackerWriter, settings: ConsoleSettings
) -> None:
    seed_standard(writer, settings)
    baseline = _validate(settings.project_dir)
    inbox = officer.get("/inbox").text
    for label, intent in (
        ("身份证掉了咋整", "faq/id_card_lost_online"),
        ("今天天气怎么样", "out_of_scope/other"),
        ("户口迁入要什么材料", "ask_move_in"),
    ):
        key = find(rf'href="/groups/([0-9a-f]{{16}})">{label}', inbox)
        ids = re.findall(r'name="item_id" value="(\d+)"', officer.get(f"/groups/{key}").text)
        resp = officer.post_form(
            f"/groups/{key}/review", {"item_id": ids, "action": "annotate", "intent": intent}
        )
        assert resp.status_code == 303
    exported = settings.nlu_export_path.read_text(encoding="utf-8")
    assert "- intent: out_of_scope/other\n  examples: |\n    - 今天天气怎么样" in exported
    assert "- intent: ask_move_in\n  examples: |\n    - 户口迁入要什么材料" in exported
    after = _validate(settings.project_dir)
    new_problems = _problems(after.stdout + after.stderr) - _problems(
        baseline.stdout + baseline.stderr
    )
    assert not new_problems, new_problems
    if baseline.returncode == 0:
        assert after.returncode == 0, after.stdout[-3000:] + after.stderr[-3000:]
    # The CLI export writes the same file.
    done = run_cli(settings, "export")
    assert done.returncode == 0, done.stderr
    assert settings.nlu_export_path.read_text(encoding="utf-8") == exported
