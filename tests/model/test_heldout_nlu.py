"""Held-out NLU evaluation: the model must understand unseen citizen questions.

Parses every utterance of ``tests/nlu/dev.yml`` (never trained on) through the running
bot's ``/model/parse`` and scores the full label (``faq/id_card_fees``, not just ``faq``).
"""

import json
from pathlib import Path

import pytest

from bot.nlu.evaluate import http_parser, load_examples, score
from tests.servers import ChatServer

pytestmark = pytest.mark.needs_model

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = ROOT / "tests" / "nlu" / "dev.yml"
MIN_ACCURACY = 0.92


def test_heldout_intent_accuracy(bot: ChatServer) -> None:
    report = score(http_parser(bot.base_url, bot.api_token), load_examples(HELDOUT))
    out = ROOT / "var" / "test-results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "heldout_errors.json").write_text(
        json.dumps(
            {
                "accuracy": report.accuracy,
                "macro_f1": report.macro_f1,
                "n": len(report.predictions),
                "errors": [
                    {"text": p.text, "expected": p.expected, "predicted": p.predicted}
                    for p in report.errors()
                ],
            },
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    assert len(report.predictions) >= 300
    assert report.accuracy >= MIN_ACCURACY, (
        f"held-out accuracy {report.accuracy:.3f} < {MIN_ACCURACY}; "
        f"first errors: {[(p.text, p.expected, p.predicted) for p in report.errors()[:15]]}"
    )
