"""spaCy EntityRuler over a blank Chinese pipeline, with patterns from the knowledge files.

Kept free of Rasa imports so it can be unit-tested and reused (e.g. by the actions).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.nlu.normalize import normalize_text

# Vocabularies (canonical value -> surface forms) live in data/knowledge/vocab.yml; counties
# and move-in situations in counties.yml and move_in.yml, so officers can extend them.
VOCAB_ENTITIES: tuple[tuple[str, str], ...] = (
    ("business_type", "business_types"),
    ("point_type", "point_types"),
    ("gender", "genders"),
)

# 12 digits in one piece first ("sl202611050123 5678" carries the factor after the number),
# else digits with spaces inside ("sl 2026 1105 0123").
CASE_NUMBER_RE = re.compile(
    r"(?<![a-z0-9])sl\s?(\d{12}(?![0-9])|\d[\d\s]{10,16}\d(?![0-9]))", re.IGNORECASE
)
PHONE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


@dataclass
class _Pattern:
    label: str
    value: str
    surface: str


def _knowledge_patterns(knowledge_dir: str | None) -> list[_Pattern]:
    from bot import knowledge

    previous = os.environ.get("KNOWLEDGE_DIR")
    if knowledge_dir:
        os.environ["KNOWLEDGE_DIR"] = str(Path(knowledge_dir))
    try:
        patterns: list[_Pattern] = []
        for county in knowledge.counties():
            for form in {county.name, *county.aliases}:
                patterns.append(_Pattern("county", county.name, form))
        for situation in knowledge.situations():
            for form in {situation.name, *situation.aliases}:
                patterns.append(_Pattern("move_in_situation", situation.code, form))
        vocab = knowledge.load_file("vocab.yml")
        for label, key in VOCAB_ENTITIES:
            for value, forms in (vocab.get(key) or {}).items():
                patterns.extend(_Pattern(label, str(value), str(form)) for form in forms or [])
    finally:
        if knowledge_dir:
            if previous is None:
                os.environ.pop("KNOWLEDGE_DIR", None)
            else:
                os.environ["KNOWLEDGE_DIR"] = previous
    return patterns


class EntityRulerMatcher:
    """A blank ``zh`` spaCy pipeline with an ``EntityRuler`` (character segmentation).

    Longer patterns win over shorter ones on overlapping spans (spaCy's ruler keeps the
    longest match), so ``廊坊经济技术开发区`` beats ``开发区`` and ``男孩`` beats ``男``.
    """

    def __init__(self, patterns: list[_Pattern]) -> None:
        """Build the spaCy pipeline.

        Args:
            patterns: (label, canonical value, surface form) triples.
        """
        import spacy

        self._nlp = spacy.blank("zh")  # default segmenter is "char": works offline
        ruler: Any = self._nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "TEXT"})
        seen: set[tuple[str, str]] = set()
        specs = []
        for pattern in patterns:
            surface = normalize_text(pattern.surface).strip()
            if not surface or (pattern.label, surface) in seen:
                continue
            seen.add((pattern.label, surface))
            specs.append({"label": pattern.label, "pattern": surface, "id": pattern.value})
        ruler.add_patterns(specs)
        self.pattern_count = len(specs)

    @classmethod
    def from_knowledge(cls, knowledge_dir: str | None = None) -> EntityRulerMatcher:
        """Build the matcher from the knowledge files (counties, situations, vocab.yml)."""
        return cls(_knowledge_patterns(knowledge_dir))

    def extract(self, text: str) -> list[dict[str, Any]]:
        """Find entities in (raw or normalised) text.

        Args:
            text: the message text; offsets refer to this string.

        Returns:
            Rasa-style entity dicts: ``entity``, ``value`` (canonical), ``start``, ``end``,
            ``confidence_entity``.
        """
        normalized = normalize_text(text)  # same length as text: offsets carry over
        entities: list[dict[str, Any]] = []
        doc = self._nlp(normalized)
        for ent in doc.ents:
            entities.append(
                {
                    "entity": ent.label_,
                    "value": ent.ent_id_ or ent.text,
                    "start": ent.start_char,
                    "end": ent.end_char,
                    "confidence_entity": 1.0,
                }
            )
        for match in CASE_NUMBER_RE.finditer(normalized):
            digits = re.sub(r"\s", "", match.group(1))
            if len(digits) == 12:
                entities.append(_regex_entity("case_number", f"SL{digits}", match))
        for match in PHONE_RE.finditer(normalized):
            entities.append(_regex_entity("phone_number", match.group(0), match))
        # A bare 男/女 inside a longer word (男朋友, 妇女) is not a gender answer, and an alias
        # inside a longer word ("大城市", "没有房") is not the county or situation.
        from bot.knowledge import is_false_friend

        return [
            e
            for e in entities
            if not _is_spurious_gender(e, normalized)
            and not is_false_friend(normalized, e["start"], e["end"])
        ]


def _regex_entity(label: str, value: str, match: re.Match[str]) -> dict[str, Any]:
    return {
        "entity": label,
        "value": value,
        "start": match.start(),
        "end": match.end(),
        "confidence_entity": 1.0,
    }


def _is_spurious_gender(entity: dict[str, Any], text: str) -> bool:
    if entity["entity"] != "gender" or entity["end"] - entity["start"] > 1:
        return False
    before = text[entity["start"] - 1] if entity["start"] > 0 else " "
    after = text[entity["end"]] if entity["end"] < len(text) else " "
    # Accept "男" / "女" standing alone or as "男的/是女的/男,": reject inside words (男朋友).
    return not (after in " ,，。.!！的" and before in " ,，:：是")
