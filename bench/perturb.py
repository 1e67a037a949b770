"""Deterministic perturbations of evaluation utterances (typos, homophones, traditional,
full-width, emoji), for the robustness part of `make bench` (bench/bench_nlu.py).

Every variant is a pure function of the utterance, its index and the kind, so two runs score
exactly the same perturbed set. Homophones come from the pinyin column of the shipped
《通用规范汉字表》 (data/knowledge/tongyong-guifan-hanzi-8105.tsv): a character is replaced by
the most common other character with the same toneless pinyin.
"""

from __future__ import annotations

import functools
import random
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.nlu.normalize import opencc_characters  # noqa: E402
from bot.nlu.pinyin import pinyin_table  # noqa: E402

HANZI_TABLE = ROOT / "data" / "knowledge" / "tongyong-guifan-hanzi-8105.tsv"
KINDS = ("typo", "homophone", "traditional", "fullwidth", "emoji")
EMOJI = ("😊", "🙏", "👍", "😭", "🤔", "💪", "❤️", "😅")
MIN_HAN_FOR_EDITS = 4  # shorter items lose their meaning when a character is changed


@functools.lru_cache(maxsize=1)
def _homophones() -> dict[str, list[str]]:
    table = pinyin_table(str(HANZI_TABLE.parent))  # table order: level 1 (most common) first
    by_sound: dict[str, list[str]] = defaultdict(list)
    for char, sound in table.items():
        by_sound[sound].append(char)
    return {char: [c for c in by_sound[sound] if c != char] for char, sound in table.items()}


def _is_han(char: str) -> bool:
    return unicodedata.name(char, "").startswith("CJK UNIFIED")


def _han_positions(text: str) -> list[int]:
    return [i for i, c in enumerate(text) if _is_han(c)]


def typo(text: str, rng: random.Random) -> str:
    """Delete, double or swap one Chinese character (the kind of slip a phone keyboard makes)."""
    positions = _han_positions(text)
    if len(positions) < MIN_HAN_FOR_EDITS:
        return text
    i = rng.choice(positions[1:])  # keep the first character: it often carries the topic
    op = rng.choice(("delete", "double", "swap"))
    if op == "delete":
        return text[:i] + text[i + 1 :]
    if op == "double":
        return text[:i] + text[i] + text[i:]
    j = i - 1
    return text[:j] + text[i] + text[j] + text[i + 1 :]


def homophone(text: str, rng: random.Random) -> str:
    """Replace one Chinese character by its most common homophone (pinyin input slip)."""
    positions = _han_positions(text)
    if len(positions) < MIN_HAN_FOR_EDITS:
        return text
    table = _homophones()
    rng.shuffle(positions)
    for i in positions:
        others = table.get(text[i])
        if others:
            return text[:i] + others[0] + text[i + 1 :]
    return text


def traditional(text: str, rng: random.Random) -> str:
    """Write the whole utterance in traditional characters."""
    table = opencc_characters("STCharacters.txt")
    return "".join(table.get(c, c) for c in text)


def fullwidth(text: str, rng: random.Random) -> str:
    """Full-width Latin letters, digits and punctuation, and a full-width question mark."""
    out = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
    return out if out[-1:] in "？！。～" else out + "？"


def emoji(text: str, rng: random.Random) -> str:
    """Insert one or two emoji (at the end, or after a word)."""
    symbol = rng.choice(EMOJI)
    if rng.random() < 0.5 or len(text) < 3:
        return text + symbol * rng.choice((1, 2))
    i = rng.randrange(1, len(text))
    return text[:i] + symbol + text[i:]


FUNCTIONS = {
    "typo": typo,
    "homophone": homophone,
    "traditional": traditional,
    "fullwidth": fullwidth,
    "emoji": emoji,
}


def perturb(text: str, index: int, kind: str) -> str:
    """The ``kind`` variant of the ``index``-th utterance (same input, same output)."""
    rng = random.Random(f"{kind}:{index}:{text}")
    return FUNCTIONS[kind](text, rng)


def perturbed_sets(
    examples: list[tuple[str, str]],
) -> dict[str, list[tuple[int, str, str]]]:
    """For each kind, the items it really changes: ``(index, perturbed text, label)``."""
    sets: dict[str, list[tuple[int, str, str]]] = {}
    for kind in KINDS:
        sets[kind] = [
            (i, variant, label)
            for i, (text, label) in enumerate(examples)
            if (variant := perturb(text, i, kind)) != text
        ]
    return sets
