"""Held-out NLU evaluation with full retrieval labels (``faq/id_card_fees``, not just ``faq``).

Rasa's own ``rasa test nlu`` scores the intent classifier and the response selector
separately; a citizen only gets the right answer when both are right, so this module scores
the combined label, and counts ``nlu_fallback`` as a miss.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Prediction:
    """One held-out example and what the model made of it."""

    text: str
    expected: str
    predicted: str
    confidence: float
    seconds: float


@dataclass
class EvaluationReport:
    """Accuracy, macro-F1 and per-label errors over a held-out set."""

    predictions: list[Prediction] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """Share of examples whose full label was predicted."""
        if not self.predictions:
            return 0.0
        hits = sum(p.expected == p.predicted for p in self.predictions)
        return hits / len(self.predictions)

    @property
    def macro_f1(self) -> float:
        """Macro-averaged F1 over the expected labels."""
        from sklearn.metrics import f1_score

        labels = sorted({p.expected for p in self.predictions})
        return float(
            f1_score(
                [p.expected for p in self.predictions],
                [p.predicted for p in self.predictions],
                labels=labels,
                average="macro",
                zero_division=0,
            )
        )

    def errors(self) -> list[Prediction]:
        """The misclassified examples."""
        return [p for p in self.predictions if p.expected != p.predicted]

    def latencies_ms(self) -> list[float]:
        """Parse latency of each example in milliseconds."""
        return [p.seconds * 1000 for p in self.predictions]


def full_label(parse: dict[str, Any]) -> tuple[str, float]:
    """Return the combined label of a parse result and its intent confidence.

    Args:
        parse: Rasa parse data (``intent``, ``response_selector`` …).

    Returns:
        ``("faq/id_card_fees", 0.93)`` for retrieval intents, ``("greet", 0.99)`` otherwise.
    """
    intent = parse.get("intent") or {}
    name = str(intent.get("name") or "")
    confidence = float(intent.get("confidence") or 0.0)
    selectors = parse.get("response_selector") or {}
    # One ResponseSelector for all retrieval intents publishes its result under "default".
    selector = selectors.get(name) or selectors.get("default")
    if selector:
        ranking = selector.get("ranking") or []
        retrieval_intents = {str(r.get("intent_response_key", "")).split("/")[0] for r in ranking}
        key = (selector.get("response") or {}).get("intent_response_key")
        # Rasa's utter_<retrieval intent> action answers with the selector's choice.
        if key and name in retrieval_intents:
            return str(key), confidence
    return name, confidence


def load_examples(path: str | Path) -> list[tuple[str, str]]:
    """Load ``(text, full label)`` pairs from a Rasa NLU YAML file."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    pairs = []
    for message in data.intent_examples:
        label = message.get("intent_response_key") or message.get("intent")
        pairs.append((str(message.get("text")), str(label)))
    return pairs


def dev_set_paths(root: str | Path) -> list[Path]:
    """The dev set's files (``tests/nlu/dev*.yml`` under ``root``), in a fixed order.

    The dev set is what settings and training data are tuned on: ``dev.yml`` and the fresh
    items written later from the label definitions (``dev_fresh*.yml``). The frozen test set
    (``test.yml``) is not part of it.
    """
    return sorted((Path(root) / "tests" / "nlu").glob("dev*.yml"))


def score(
    parse: Callable[[str], dict[str, Any]], examples: Iterable[tuple[str, str]]
) -> EvaluationReport:
    """Parse every example with ``parse`` and score the full labels.

    Args:
        parse: returns Rasa parse data for a text (in process or over HTTP).
        examples: ``(text, expected full label)`` pairs.

    Returns:
        The report (with the time each parse took).
    """
    report = EvaluationReport()
    for text, expected in examples:
        start = time.perf_counter()
        data = parse(text)
        elapsed = time.perf_counter() - start
        predicted, confidence = full_label(data)
        report.predictions.append(Prediction(text, expected, predicted, confidence, elapsed))
    return report


def http_parser(base_url: str, token: str, timeout: float = 30.0) -> Callable[[str], dict]:
    """A ``parse`` function that asks a running Rasa server (``POST /model/parse``).

    Args:
        base_url: e.g. ``http://127.0.0.1:5005``.
        token: the server's ``--auth-token``.
        timeout: seconds per request.

    Returns:
        The function.
    """
    url = f"{base_url.rstrip('/')}/model/parse?token={urllib.parse.quote(token)}"

    def parse(text: str) -> dict[str, Any]:
        body = json.dumps({"text": text}).encode("utf-8")
        request = urllib.request.Request(
            url, data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return dict(json.loads(response.read()))

    return parse


async def evaluate_async(
    model_path: str | Path, examples: Iterable[tuple[str, str]]
) -> EvaluationReport:
    """Load the model in this process, parse every example and score it.

    Args:
        model_path: a trained ``.tar.gz`` model.
        examples: ``(text, expected full label)`` pairs.

    Returns:
        The report.
    """
    from rasa.core.agent import Agent

    agent = Agent.load(str(model_path))
    report = EvaluationReport()
    for text, expected in examples:
        start = time.perf_counter()
        parse = await agent.parse_message(text)
        elapsed = time.perf_counter() - start
        predicted, confidence = full_label(parse)
        report.predictions.append(Prediction(text, expected, predicted, confidence, elapsed))
    return report


def evaluate(model_path: str | Path, heldout: str | Path) -> EvaluationReport:
    """Synchronous wrapper: evaluate ``model_path`` on the held-out file."""
    return asyncio.run(evaluate_async(model_path, load_examples(heldout)))
