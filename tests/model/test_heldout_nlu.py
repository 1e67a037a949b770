"""Held-out NLU evaluation: the model must understand unseen citizen questions."""

import json
from pathlib import Path

import pytest

from bot.nlu.evaluate import evaluate

pytestmark = pytest.mark.needs_model

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = ROOT / "tests" / "nlu" / "heldout.yml"
MIN_ACCURACY = 0.92


def test_heldout_intent_accuracy(model_path):
    report = evaluate(model_path, HELDOUT)
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
