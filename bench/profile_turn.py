"""Where a turn's time goes: py-spy's raw (collapsed) stacks of one replica, by component.

Each sample is put in the first category whose rule matches its stack (root to leaf), so a
SQL call made by the tracker store counts as "tracker store", TensorFlow under
``parse_message`` as "NLU". Samples of idle threads are not recorded by py-spy.
"""

from __future__ import annotations

from collections import Counter

#: (category, substrings: any of them in the stack puts the sample there), in priority order.
RULES: list[tuple[str, tuple[str, ...]]] = [
    ("tracker store (SQL, masking)", ("tracker_store.py",)),
    ("lock store (Redis)", ("lock_store.py",)),
    ("event broker (RabbitMQ)", ("brokers/", "cluster/broker.py", "aio_pika/", "aiormq/")),
    ("NLU (parse_message: tokenizer, linear classifier, entity ruler)", ("parse_message",)),
    ("policies (next action prediction)", ("_predict_next_with_tracker", "predict_next_action")),
    ("action server call (HTTP)", ("utils/endpoints.py",)),
    ("responses and other actions", ("_run_action", "run_action")),
    ("channel (web chat, Sanic, HTTP)", ("webchat.py", "sanic/", "httptools")),
]
OTHER = "other (event loop, logging, GC …)"


def categorise(raw: str) -> dict[str, float]:
    """Percent of samples per category (collapsed stacks ``frame;frame;… count``)."""
    counts: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, number = line.rpartition(" ")
        if not stack or not number.isdigit():
            continue
        category = next((c for c, keys in RULES if any(k in stack for k in keys)), OTHER)
        counts[category] += int(number)
    total = sum(counts.values()) or 1
    return {c: round(100 * n / total, 1) for c, n in counts.most_common()} | {
        "samples": float(total)
    }
