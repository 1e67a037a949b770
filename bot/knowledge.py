"""Officer-editable knowledge files under ``data/knowledge/`` (counties, move-in catalogue, topics).

The files are read lazily and re-read when they change on disk, so an officer's edit to a
materials list is live on the next question without retraining or restarting anything.
"""

from __future__ import annotations

import os
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def knowledge_dir() -> Path:
    """Return the knowledge folder (``KNOWLEDGE_DIR`` env var, default ``data/knowledge``)."""
    return Path(os.environ.get("KNOWLEDGE_DIR", PROJECT_ROOT / "data" / "knowledge"))


def is_false_friend(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` lies inside a longer word that does not mean the alias.

    The words ("大城市" is not 大城县, "没有房" is not a home owner) are ``false_friends`` in
    ``vocabulary.yml``.
    """
    for word in load_file("vocabulary.yml").get("false_friends") or []:
        word = str(word)
        pos = text.find(word)
        while pos != -1:
            if pos <= start and end <= pos + len(word):
                return True
            pos = text.find(word, pos + 1)
    return False


def _find_alias(value: str, form: str) -> bool:
    pos = value.find(form)
    while pos != -1:
        if not is_false_friend(value, pos, pos + len(form)):
            return True
        pos = value.find(form, pos + 1)
    return False


_cache: dict[Path, tuple[float, Any]] = {}
_lock = threading.Lock()


def load_file(name: str) -> Any:
    """Load one YAML knowledge file, cached until its modification time changes.

    Args:
        name: file name inside the knowledge folder, e.g. ``"counties.yml"``.

    Returns:
        The parsed YAML document (``{}`` if the file does not exist).
    """
    path = knowledge_dir() / name
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return {}
    with _lock:
        cached = _cache.get(path)
        if cached and cached[0] == mtime:
            return cached[1]
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    with _lock:
        _cache[path] = (mtime, data)
    return data


@dataclass(frozen=True)
class County:
    """A county-level unit of Langfang (canonical name, aliases, urban flag)."""

    name: str
    aliases: tuple[str, ...] = ()
    urban: bool = False


def counties() -> list[County]:
    """Return the county-level units in file order."""
    data = load_file("counties.yml")
    result = []
    for item in data.get("counties", []) or []:
        result.append(
            County(
                name=str(item["name"]),
                aliases=tuple(str(a) for a in item.get("aliases", []) or []),
                urban=bool(item.get("urban", False)),
            )
        )
    return result


def canonical_county(text: str | None) -> str | None:
    """Map a county name or alias (e.g. ``开发区``, ``固安``) to its canonical name.

    Args:
        text: what the user or NLU gave, possibly with extra words like ``在固安``.

    Returns:
        The canonical county name, or ``None`` if no county is mentioned.
    """
    if not text:
        return None
    value = str(text).strip()
    best: tuple[int, str] | None = None
    for county in counties():
        for form in (county.name, *county.aliases):
            if form and _find_alias(value, form) and (best is None or len(form) > best[0]):
                best = (len(form), county.name)
    return best[1] if best else None


@dataclass(frozen=True)
class Situation:
    """A household move-in situation (合法稳定住所迁入 …) with its default materials."""

    code: str
    name: str
    label: str
    aliases: tuple[str, ...] = ()
    materials: tuple[str, ...] = ()
    note: str = ""


def situations() -> list[Situation]:
    """Return the move-in situations in file order."""
    data = load_file("move_in.yml")
    result = []
    for code, item in (data.get("situations", {}) or {}).items():
        result.append(
            Situation(
                code=str(code),
                name=str(item.get("name", code)),
                label=str(item.get("label", item.get("name", code))),
                aliases=tuple(str(a) for a in item.get("aliases", []) or []),
                materials=tuple(str(m) for m in item.get("materials", []) or []),
                note=str(item.get("note", "") or ""),
            )
        )
    return result


def canonical_situation(text: str | None) -> str | None:
    """Map a situation code, name or alias (``买的房`` -> ``housing``) to its code.

    Args:
        text: a code, a name or free text mentioning the situation.

    Returns:
        The situation code, or ``None``.
    """
    if not text:
        return None
    value = str(text).strip()
    best: tuple[int, str] | None = None
    for situation in situations():
        if value == situation.code:
            return situation.code
        for form in (situation.name, *situation.aliases):
            if form and _find_alias(value, form) and (best is None or len(form) > best[0]):
                best = (len(form), situation.code)
    return best[1] if best else None


@dataclass
class MoveInAnswer:
    """The materials list for one situation in one county."""

    county: str
    situation: Situation
    materials: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    window: str = ""


def move_in_materials(county: str, situation_code: str) -> MoveInAnswer | None:
    """Build the materials list for a situation in a county from ``move_in.yml``.

    Args:
        county: canonical county name.
        situation_code: one of the situation codes (``housing`` …).

    Returns:
        The answer, or ``None`` if the county or situation is unknown.
    """
    situation = next((s for s in situations() if s.code == situation_code), None)
    if situation is None or county not in {c.name for c in counties()}:
        return None
    data = load_file("move_in.yml")
    county_data = (data.get("counties", {}) or {}).get(county, {}) or {}
    specific = county_data.get(situation_code, {}) or {}
    materials = list(situation.materials) + [str(m) for m in specific.get("extra", []) or []]
    notes = [n for n in (str(specific.get("note", "") or ""), situation.note) if n]
    return MoveInAnswer(
        county=county,
        situation=situation,
        materials=materials,
        notes=notes,
        window=str(county_data.get("window", "") or ""),
    )


@dataclass(frozen=True)
class Topic:
    """A topic the assistant can answer.

    Attributes:
        key: intent or retrieval key (``faq/id_card_fees``).
        label: its clarification button's title.
        payload: what the button sends.
        business: the bookable business it is about (a booking right after its answer
            need not ask which business), or None.
    """

    key: str
    label: str
    payload: str
    business: str | None = None


def topics() -> dict[str, Topic]:
    """Return the topics keyed by intent or retrieval key (``faq/id_card_fees``)."""
    data = load_file("topics.yml")
    items = data.get("topics", data) if isinstance(data, dict) else data
    result: dict[str, Topic] = {}
    for item in items or []:
        if isinstance(item, dict) and "key" in item:
            result[str(item["key"])] = Topic(
                key=str(item["key"]),
                label=str(item.get("label", item["key"])),
                payload=str(item.get("payload", "")),
                business=str(item["business"]) if item.get("business") else None,
            )
    return result


# --------------------------------------------------------------------------- vocabularies


@dataclass(frozen=True)
class Term:
    """One entry of a vocabulary (a business type or a service-point type).

    Attributes:
        code: the internal code (entity value, database key).
        name: the display name.
        words: phrases that mean this term in any sentence (entity patterns).
        answer_words: looser phrases that mean it only as an answer to "which one?".
        bookable: business types only: whether a window can be booked for it online.
    """

    code: str
    name: str
    words: tuple[str, ...] = ()
    answer_words: tuple[str, ...] = ()
    bookable: bool = False


def _terms(key: str) -> list[Term]:
    return [
        Term(
            code=str(item["code"]),
            name=str(item["name"]),
            words=tuple(str(w) for w in item.get("words") or ()),
            answer_words=tuple(str(w) for w in item.get("answer_words") or ()),
            bookable=bool(item.get("bookable", False)),
        )
        for item in load_file("vocabulary.yml").get(key) or []
    ]


def business_types() -> list[Term]:
    """The business types, most asked first (the order of booking buttons)."""
    return _terms("business_types")


def point_types() -> list[Term]:
    """The service-point types (窗口, 24小时自助受理点, 亲子鉴定, 公证, 翻译)."""
    return _terms("point_types")


def term_name(terms: list[Term], code: str | None, default: str = "") -> str:
    """The display name of a code (``id_card`` -> ``居民身份证``), or ``default``."""
    return next((t.name for t in terms if t.code == code), default)


def term_from_text(terms: list[Term], text: str | None, loose: bool = False) -> str | None:
    """Map a code, a display name or a phrase in free text to a term's code.

    Args:
        terms: :func:`business_types` or :func:`point_types`.
        text: the user's text (``补身份证``, ``24小时自助机在哪``) or a code.
        loose: also accept the answer words (when the text answers "which one?").

    Returns:
        The code of the term whose longest phrase occurs in the text, or ``None``.
    """
    value = unicodedata.normalize("NFKC", text or "").strip().lower()
    if not value:
        return None
    best: tuple[int, str] | None = None
    for term in terms:
        if value == term.code:
            return term.code
        phrases = (term.name, *term.words, *(term.answer_words if loose else ()))
        for phrase in phrases:
            if phrase and phrase.lower() in value and (best is None or len(phrase) > best[0]):
                best = (len(phrase), term.code)
    return best[1] if best else None


def gender_words() -> list[tuple[str, str]]:
    """``(phrase, gender)`` pairs for the newborn's gender, longest phrase first."""
    genders = load_file("vocabulary.yml").get("genders") or {}
    pairs = [(str(w), str(g)) for g, words in genders.items() for w in words or ()]
    return sorted(pairs, key=lambda pair: len(pair[0]), reverse=True)


def read_text_cached(path: Path, parse: Any) -> Any:
    """Read and parse a file, cached until its modification time changes."""
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return parse("")
    with _lock:
        cached = _cache.get(path)
        if cached and cached[0] == mtime:
            return cached[1]
    data = parse(path.read_text(encoding="utf-8"))
    with _lock:
        _cache[path] = (mtime, data)
    return data


def _parse_hanzi_table(text: str) -> frozenset[str]:
    chars = set()
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and len(parts[1]) == 1:
            chars.add(parts[1])
    return frozenset(chars)


def standard_hanzi() -> frozenset[str]:
    """The 8,105 characters of the 《通用规范汉字表》 (``tongyong-guifan-hanzi-8105.tsv``).

    Returns:
        The set of standard characters (empty if the file is missing).
    """
    path = knowledge_dir() / "tongyong-guifan-hanzi-8105.tsv"
    return frozenset(read_text_cached(path, _parse_hanzi_table))


SAMPLE_MARKERS = ("（示例）", "(示例)")


def is_sample(name: str) -> bool:
    """Whether a knowledge file is marked ``sample: true`` (placeholder data)."""
    data = load_file(name)
    return bool(isinstance(data, dict) and data.get("sample"))


def strip_sample(text: str) -> str:
    """Drop the per-item "（示例）" markers: an answer carries one footnote instead."""
    for marker in SAMPLE_MARKERS:
        text = text.replace(marker, "")
    return text.strip()
