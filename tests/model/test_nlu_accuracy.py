"""NLU accuracy against the running bot: the frozen test set must hold what we claim.

Parses every utterance of ``tests/nlu/test.yml`` (frozen, never trained or tuned on) and of the
dev set (``tests/nlu/dev*.yml``: ``dev.yml`` and the fresh ``dev_fresh*.yml`` items, as in
``bench/bench_nlu.py``) through the bot's ``/model/parse`` and scores the full label
(``faq/id_card_fees``, not just ``faq``). The claimed figures live in ``bench/claims.json``
(measured by ``make bench``, quoted in the README): the test set may fall at most one point
below its claim; the dev set is a regression check.
"""

import json
from pathlib import Path

import pytest

from bot.nlu.evaluate import EvaluationReport, dev_set_paths, http_parser, load_examples, score
from tests.servers import ChatServer

pytestmark = pytest.mark.needs_model

ROOT = Path(__file__).resolve().parents[2]
CLAIMS = json.loads((ROOT / "bench" / "claims.json").read_text(encoding="utf-8"))
TOLERANCE = 0.01
DEV_FILES = tuple(path.name for path in dev_set_paths(ROOT))


def _report(bot: ChatServer, name: str, *more: str) -> EvaluationReport:
    examples = [pair for file in (name, *more) for pair in load_examples(ROOT / "tests/nlu" / file)]
    report = score(http_parser(bot.base_url, bot.api_token), examples)
    out = ROOT / "var" / "test-results"
    out.mkdir(parents=True, exist_ok=True)
    summary = {
        "accuracy": report.accuracy,
        "macro_f1": report.macro_f1,
        "n": len(report.predictions),
    }
    if name == "dev.yml":  # only dev errors are written out: nothing is tuned on the test set
        summary["errors"] = [
            {"text": p.text, "expected": p.expected, "predicted": p.predicted}
            for p in report.errors()
        ]
    (out / f"nlu_{name.removesuffix('.yml')}.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return report


def test_test_set_accuracy_holds_the_claim(bot: ChatServer) -> None:
    report = _report(bot, "test.yml")
    claim = CLAIMS["test_accuracy"]
    assert len(report.predictions) >= 600
    assert report.accuracy >= claim - TOLERANCE, (
        f"test accuracy {report.accuracy:.4f} < claimed {claim} - {TOLERANCE}"
    )


def test_dev_set_accuracy_does_not_regress(bot: ChatServer) -> None:
    report = _report(bot, *DEV_FILES)
    claim = CLAIMS["dev_accuracy"]
    assert len(report.predictions) >= 1100
    assert report.accuracy >= claim - TOLERANCE, (
        f"dev accuracy {report.accuracy:.4f} < {claim} - {TOLERANCE}; "
        f"first errors: {[(p.text, p.expected, p.predicted) for p in report.errors()[:15]]}"
    )
