"""Near-copy detection between an evaluation set and the training data.

A test item that is one or two characters away from a training example (or identical to one
after the normaliser) measures memory, not understanding. ``near_copies`` finds such pairs:

- both texts go through ``bot.nlu.normalize.normalize_text`` (full-width, traditional,
  emoji, case) and lose whitespace and punctuation;
- a pair is a near copy when the edit distance is at most 2 (at most 1 when the shorter text
  has 3-4 characters, 0 when it has 1-2: two edits turn any 2-character reply into any other)
  or when ``difflib.SequenceMatcher.ratio()`` is at least 0.85.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from bot.nlu.normalize import normalize_text

MAX_EDITS = 2
MAX_RATIO = 0.85


def comparison_key(text: str) -> str:
    """Normalise ``text`` and keep only letters and digits."""
    folded = normalize_text(text)
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in {"L", "N"})


def edit_bound(a: str, b: str) -> int:
    """The edit distance up to which two keys count as near copies."""
    shorter = min(len(a), len(b))
    if shorter <= 2:
        return 0
    if shorter <= 4:
        return 1
    return MAX_EDITS


def within_edits(a: str, b: str, bound: int) -> bool:
    """Whether the Levenshtein distance of ``a`` and ``b`` is at most ``bound``."""
    if abs(len(a) - len(b)) > bound:
        return False
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            current[j] = min(
                previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)
            )
        if min(current) > bound:
            return False
        previous = current
    return previous[-1] <= bound


@dataclass(frozen=True)
class NearCopy:
    """An evaluation item and the training example it nearly copies."""

    item: str
    training: str
    ratio: float


def near_copies(items: Iterable[str], training: Iterable[str]) -> list[NearCopy]:
    """Every evaluation item that is a near copy of some training example.

    Args:
        items: evaluation utterances.
        training: training utterances.

    Returns:
        One ``NearCopy`` per offending item (its closest offending training example).
    """
    train_keys = sorted({comparison_key(t): t for t in training}.items())
    found = []
    for item in items:
        key = comparison_key(item)
        if not key:
            continue
        matcher = difflib.SequenceMatcher(None, autojunk=False)
        matcher.set_seq2(key)
        best: NearCopy | None = None
        for other, original in train_keys:
            matcher.set_seq1(other)
            if matcher.real_quick_ratio() < MAX_RATIO and abs(len(other) - len(key)) > MAX_EDITS:
                continue
            ratio = matcher.ratio() if matcher.quick_ratio() >= MAX_RATIO else 0.0
            if ratio >= MAX_RATIO or within_edits(key, other, edit_bound(key, other)):
                if best is None or ratio > best.ratio:
                    best = NearCopy(item, original, round(ratio, 3))
        if best is not None:
            found.append(best)
    return found
