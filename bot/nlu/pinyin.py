"""Pinyin of Chinese text, so that a homophone slip looks like the right character.

Citizens type with pinyin input methods, so a wrong character is usually a homophone
(户叩 for 户口, 身分证 for 身份证). :class:`bot.nlu.linear.LinearIntentClassifier` adds TF-IDF
features over the toneless pinyin syllables of the text (``grams``: syllable unigrams and
bigrams), so a homophone slip looks the same to it as the right character; bench/perturb.py
uses the table to make homophone slips.

The pinyin comes from the shipped 《通用规范汉字表》 (``data/knowledge/
tongyong-guifan-hanzi-8105.tsv``, first reading of each character); characters outside it are
their own "syllable".
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
    """Character -> toneless pinyin of its first reading, from the 8105 table."""
    table: Dict[str, str] = {}
    path = Path(knowledge_dir) / TABLE
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and len(parts[1]) == 1:
            table[parts[1]] = _toneless(parts[2])
    return table


def syllables(text: str, table: Dict[str, str]) -> List[str]:
    """The pinyin syllables of the Chinese characters in ``text`` (others are skipped)."""
    out = []
    for char in text:
        if unicodedata.name(char, "").startswith("CJK UNIFIED"):
            out.append(table.get(char, char))
    return out


def grams(units: List[str]) -> List[str]:
    """Syllable unigrams and bigrams."""
    return units + [f"{a}_{b}" for a, b in zip(units, units[1:], strict=False)]
