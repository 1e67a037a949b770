"""Pinyin of Chinese text, so that a homophone slip looks like the right character.

Citizens type with pinyin input methods, so a wrong character is usually a homophone
(户叩 for 户口, 身分证 for 身份证). :class:`bot.nlu.linear.LinearIntentClassifier` adds TF-IDF
features over the toneless pinyin syllables of the text (``grams``: syllable unigrams and
bigrams), so a homophone slip looks the same to it as the right character; bench/perturb.py
uses the table to make homophone slips.

Pinyin typed in Latin letters ("shenfenzheng gongbenfei多少", "xinshenger luohu") is split into
the same syllables (:func:`split_pinyin`), so a question typed half in pinyin shares its
features with the Chinese one. A run of letters that is not entirely pinyin (English words:
"ID card", "online") adds nothing.

The characters are those of the shipped 《通用规范汉字表》 (``data/knowledge/
tongyong-guifan-hanzi-8105.tsv``), each with its most common reading (pypinyin's dictionary,
shipped with the package); characters outside it are their own "syllable".
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path
from typing import Dict, List

TABLE = "tongyong-guifan-hanzi-8105.tsv"


def _toneless(reading: str) -> str:
    folded = unicodedata.normalize("NFKD", reading.split(",")[0].strip())
    return "".join(c for c in folded if not unicodedata.combining(c)).replace("ü", "v")


@functools.lru_cache(maxsize=4)
def pinyin_table(knowledge_dir: str) -> Dict[str, str]:
    """Character -> toneless pinyin of its most common reading, for the 8105 characters.

    The table lists a character's readings in alphabetical order (落: là, lào, luò), so its
    first reading is often the rare one; pypinyin's dictionary lists the most common first
    (落: luò), and is used wherever it knows the character.
    """
    from pypinyin.pinyin_dict import pinyin_dict

    table: Dict[str, str] = {}
    path = Path(knowledge_dir) / TABLE
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and len(parts[1]) == 1:
            table[parts[1]] = _toneless(pinyin_dict.get(ord(parts[1]), parts[2]))
    return table


#: Readings that are a lone consonant (嗯 n, 呣 m …): never part of typed pinyin here.
_NOT_TYPED = frozenset({"n", "ng", "m", "hm", "hng"})
#: Longer runs of letters are not pinyin a citizen typed (and are not worth splitting).
_LONGEST_RUN = 40


def typed_syllables(table: Dict[str, str]) -> frozenset[str]:
    """The syllables of ``table`` that a citizen can type as pinyin (for :func:`syllables`)."""
    return frozenset(v for v in table.values() if v.isascii() and v.isalpha()) - _NOT_TYPED


def split_pinyin(run: str, known: frozenset[str]) -> List[str] | None:
    """Split a run of lower-case letters into pinyin syllables, fewest syllables first.

    Args:
        run: letters only, e.g. ``"xinshenger"``.
        known: the toneless syllables (``"xin"``, ``"sheng"`` …).

    Returns:
        The syllables (``["xin", "sheng", "er"]``), or None when the run is not all pinyin.
    """
    if not run or len(run) > _LONGEST_RUN:
        return None
    best: List[List[str] | None] = [[]] + [None] * len(run)
    for end in range(1, len(run) + 1):
        for start in range(max(0, end - 6), end):
            before = best[start]
            piece = run[start:end]
            if before is not None and piece in known:
                if best[end] is None or len(before) + 1 < len(best[end] or []):
                    best[end] = [*before, piece]
    return best[len(run)]


def syllables(text: str, table: Dict[str, str], known: frozenset[str] | None = None) -> List[str]:
    """The pinyin syllables of ``text``: its Chinese characters and its typed pinyin.

    Args:
        text: normalised text (Latin letters in lower case).
        table: character -> toneless pinyin (:func:`pinyin_table`).
        known: ``typed_syllables(table)``, when the caller keeps it (computed otherwise).

    Returns:
        The syllables in order; other characters (digits, English words) are skipped.
    """
    if known is None:
        known = typed_syllables(table)
    out: List[str] = []
    letters: List[str] = []

    def flush() -> None:
        if letters:
            out.extend(split_pinyin("".join(letters), known) or [])
            letters.clear()

    for char in text:
        if "a" <= char <= "z":
            letters.append(char)
            continue
        flush()
        if unicodedata.name(char, "").startswith("CJK UNIFIED"):
            out.append(table.get(char, char))
    flush()
    return out


def grams(units: List[str]) -> List[str]:
    """Syllable unigrams and bigrams."""
    return units + [f"{a}_{b}" for a, b in zip(units, units[1:], strict=False)]
