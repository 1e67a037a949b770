"""Shared validators for the action server: case numbers, phone numbers, newborn names.

Each ``parse_*`` function takes what the user typed (free text, full-width digits, spaces and
lowercase tolerated) and returns a normalised value or ``None``; each ``*_problem`` function
explains in plain Chinese why a value was rejected, for the reply.

Names: the registrable characters are the 8,105 of the 《通用规范汉字表》
(``data/knowledge/tongyong-guifan-hanzi-8105.tsv``, :func:`bot.knowledge.standard_hanzi`);
characters outside it (traditional forms such as 張, rare or private-use characters) are
refused as possibly not registrable; a police station has the final word.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from actions.replies import Reply
from bot import knowledge
from bot.numbers import digit_groups, parse_phone

# ----------------------------------------------------------------------------- text helpers

_SPACES = re.compile(r"[\s\u3000]+")


def normalise(text: str | None) -> str:
    """Fold full-width forms to half-width (NFKC) and trim; ``None`` becomes ``""``.

    Args:
        text: raw user text.

    Returns:
        The normalised text.

    """
    if not text:
        return ""
    return unicodedata.normalize("NFKC", str(text)).strip()


# ----------------------------------------------------------------------------- case number


_CASE_RE = re.compile(r"(?<![A-Z0-9])SL(\d{12})(?!\d)")
# SL + 12 digits written in one piece: found before spaces are squeezed out, so that
# "SL202611050123 5678" is the case number and the factor, not a 16-digit number.
_WHOLE_CASE_RE = re.compile(r"(?<![A-Z0-9])SL[\s\-]?(\d{12})(?!\d)")
_BARE_CASE_RE = re.compile(r"(?<![A-Z0-9])(\d{12})(?!\d)")
_CASE_ATTEMPT_RE = re.compile(r"SL[\d\s-]*|\d{6,}")


def _compact(text: str) -> str:
    """Uppercase and drop spaces/dashes between digits (``sl 2026-1105 0123``)."""
    value = normalise(text).upper()
    return re.sub(r"(?<=[\dL])[\s\-_]+(?=\d)", "", value)


def parse_case_number(text: str | None) -> str | None:
    """Find a case number (受理编号, ``SL`` + 12 digits) in free text.

    Lowercase, full-width characters and spaces or dashes between digits are tolerated; a bare
    12-digit number is taken as the digits of a case number.

    Args:
        text: what the user typed.

    Returns:
        The canonical case number (``SL202611050123``) or ``None``.

    """
    whole = _WHOLE_CASE_RE.search(normalise(text or "").upper())
    if whole:
        return f"SL{whole.group(1)}"
    value = _compact(text or "")
    match = _CASE_RE.search(value) or _BARE_CASE_RE.search(value)
    return f"SL{match.group(1)}" if match else None


def case_number_problem(text: str | None) -> Reply | None:
    """Explain why the text holds no valid case number, if it looks like an attempt at one.

    Args:
        text: what the user typed.

    Returns:
        ``utter_case_number_wrong_length`` with the digit count, or ``None`` when the text
        does not look like a case number at all (e.g. "我的身份证办到哪了").

    """
    if parse_case_number(text):
        return None
    value = _compact(text or "")
    match = _CASE_ATTEMPT_RE.search(value)
    if not match:
        return None
    digits = re.sub(r"\D", "", match.group(0))
    if value.find("SL") != -1 or len(digits) >= 6:
        return Reply("utter_case_number_wrong_length", {"count": len(digits)})
    return None


# ----------------------------------------------------------------------------- phones
# Phone numbers are read by bot.numbers, the module that also masks them.


def _digit_count(text: str | None) -> int:
    return sum(len(group) for group in digit_groups(text))


def phone_problem(text: str | None) -> Reply:
    """Explain why the text holds no valid mobile number (never echoing the digits).

    Args:
        text: what the user typed.

    Returns:
        ``utter_phone_missing``, ``utter_phone_wrong_length`` (with the count) or
        ``utter_phone_wrong_prefix``.

    """
    count = _digit_count(text)
    if not count:
        return Reply("utter_phone_missing")
    if count != 11:
        return Reply("utter_phone_wrong_length", {"count": count})
    return Reply("utter_phone_wrong_prefix")


def parse_last4(text: str | None) -> str | None:
    """Find the second factor: the last 4 digits of the phone number on file.

    A full mobile number is accepted too (its last 4 digits are used); a case number in the
    same message is skipped.

    Args:
        text: what the user typed.

    Returns:
        Four digits or ``None``.

    """
    value = _WHOLE_CASE_RE.sub(" ", normalise(text or "").upper())
    value = _CASE_RE.sub(" ", _compact(value))
    phone = parse_phone(value)
    if phone:
        return phone[-4:]
    return next((group for group in digit_groups(value) if len(group) == 4), None)


def last4_problem(text: str | None) -> Reply:
    """Explain why the text holds no valid last-4 factor.

    Args:
        text: what the user typed.

    Returns:
        ``utter_last4_missing`` or ``utter_last4_wrong_length`` (with the count).

    """
    count = _digit_count(text)
    if not count:
        return Reply("utter_last4_missing")
    return Reply("utter_last4_wrong_length", {"count": count})


# ----------------------------------------------------------------------------- limits


def format_wait(seconds: int) -> str:
    """Say a wait in minutes or seconds (``30秒``, ``2分钟``)."""
    if seconds < 60:
        return f"{max(1, seconds)}秒"
    return f"{-(-seconds // 60)}分钟"


def client_key(tracker: Any) -> str | None:
    """The keyed hash of the caller's IP that the channel put in the latest message's metadata.

    Args:
        tracker: the conversation (a rasa_sdk ``Tracker``).

    Returns:
        The key, or ``None`` when the channel gave none (e.g. trusted REST callers).
    """
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            metadata = event.get("metadata") or {}
            key = metadata.get("client_key") if isinstance(metadata, dict) else None
            return key if isinstance(key, str) and 0 < len(key) <= 64 else None
    return None


# ----------------------------------------------------------------------------- names

MAX_NAME_LENGTH = 6

#: Compound surnames (复姓) recognised when splitting surname and given name.
COMPOUND_SURNAMES: frozenset[str] = frozenset(
    "欧阳 司马 诸葛 上官 东方 皇甫 司徒 令狐 慕容 尉迟 公孙 夏侯 长孙 宇文 轩辕 端木 独孤 南宫 "
    "西门 钟离 申屠 呼延 淳于 闻人 澹台 万俟 百里 濮阳 拓跋 司空 太叔 仲孙 公冶 宗政 东郭 "
    "第五 梁丘 左丘 赫连 单于 羊舌 微生 公羊 谷梁 乐正 巫马 漆雕 壤驷 公良 颛孙 亓官 司寇 "
    "段干 百里 呼延 夹谷 宰父 公西 南门 东门 西门 子车".split()
)


def _is_han(char: str) -> bool:
    return unicodedata.category(char) == "Lo" and (
        "\u3400" <= char <= "\u9fff"
        or "\uf900" <= char <= "\ufaff"
        or "\U00020000" <= char <= "\U0003134f"
    )


@dataclass(frozen=True)
class NameCheck:
    """The outcome of validating a full name."""

    name: str
    ok: bool
    surname: str = ""
    given_name: str = ""
    reply: Reply | None = None


def split_name(name: str) -> tuple[str, str]:
    """Split a full name into surname and given name (compound surnames first).

    Args:
        name: a full name of Chinese characters.

    Returns:
        ``(surname, given_name)``; a 2-character name always splits 1 + 1.

    """
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


def validate_name(name: str | None) -> NameCheck:
    """Check that a full name can be registered, with a plain-language reply if not.

    Rules: 2 to 6 characters; Chinese characters only (no digits, Latin letters, spaces,
    symbols or emoji); every character in the 《通用规范汉字表》.

    Args:
        name: the candidate name (already extracted from the sentence).

    Returns:
        A :class:`NameCheck`; when not ``ok``, ``reply`` says why (``utter_name_*``).

    """
    value = normalise(name)

    def refuse(response: str, **values: Any) -> NameCheck:
        return NameCheck(value, False, reply=Reply(response, values))

    if not value:
        return refuse("utter_name_missing")
    if any(c.isdigit() for c in value):
        return refuse("utter_name_has_digits")
    if any(unicodedata.category(c) in ("Lu", "Ll") for c in value):
        return refuse("utter_name_has_letters")
    if any(not _is_han(c) for c in value):
        return refuse("utter_name_has_symbols")
    if len(value) > MAX_NAME_LENGTH:
        return refuse("utter_name_too_long", most=MAX_NAME_LENGTH, count=len(value))
    if len(value) < 2:
        return refuse("utter_name_too_short")
    standard = knowledge.standard_hanzi()
    outside = [c for c in dict.fromkeys(value) if c not in standard]
    if outside:
        return refuse("utter_name_not_standard", chars="、".join(f"“{c}”" for c in outside))
    surname, given = split_name(value)
    return NameCheck(value, True, surname=surname, given_name=given)


_GENDER_ALONE = {"男": "male", "女": "female", "male": "male", "female": "female"}

# Phrases around a name in a request ("帮我查下叫李子涵的多不多"), longest first.
_FILLERS = sorted(
    (
        "帮我查一下 帮我查查 帮我查下 帮我查 帮忙查一下 帮忙查下 帮忙查 麻烦查一下 麻烦查下 请帮我 "
        "我想查一下 我想查下 我想查 我要查 查一下 查一查 查查 查下 看一下 看看 看下 "
        "想问一下 想问下 请问 "
        "新生儿重名查询 新生儿重名 重名查询 重名情况 重名的多吗 重名多不多 重名多吗 重名吗 重名 "
        "查重名 查重 的人多不多 的人多吗 人多不多 多不多 多吗 有多少人 有多少 有几个人 有几个 "
        "有没有人叫 有没有重名 有没有 叫这个名字 这个名字 名字叫 名字是 名字 姓名是 姓名 "
        "打算叫 准备叫 想叫 起名叫 取名叫 起名 取名 给孩子 给宝宝 孩子 宝宝 小孩 新生儿 刚出生的 "
        "我家 我们家 一下 可以吗 行吗 好吗 怎么样 如何"
    ).split(),
    key=len,
    reverse=True,
)
_CALLED_RE = re.compile(
    r"(?:名字(?:是|叫)|姓名是|叫做|叫作|名叫|叫|(?:起|取)名(?:为|叫)?)\s*[“\"']?"
    r"([^\s，,。.!！?？“”\"']{1,12})"
)
_TRAILING = "的吗呢啊呀吧哈嘛么了"
_EDGE_PUNCT = " \t\r\n，,。.!！?？、;；:：“”\"'‘’()（）[]【】《》<>~～-—…"


def _gender_phrases() -> list[tuple[str, str]]:
    """Gender phrases of two or more characters (a lone 男/女 counts only standing alone)."""
    return [(word, gender) for word, gender in knowledge.gender_words() if len(word) > 1]


def extract_gender(text: str | None) -> str | None:
    """Find the newborn's gender in free text (男孩 / 女宝宝 / 儿子 / 男 ...).

    Args:
        text: what the user typed.

    Returns:
        ``"male"``, ``"female"`` or ``None``.

    """
    value = normalise(text)
    for word, gender in _gender_phrases():
        if word in value:
            return gender
    stripped = value.strip(_EDGE_PUNCT).lower()
    if stripped in _GENDER_ALONE:
        return _GENDER_ALONE[stripped]
    match = re.match(r"^([男女])[\s,，:：]", value) or re.search(r"[\s,，:：]([男女])$", value)
    if match:
        return _GENDER_ALONE[match.group(1)]
    return None


def _strip_gender(value: str) -> str:
    for word, _ in _gender_phrases():
        value = value.replace(word, " ")
    value = re.sub(r"^[男女](?=[\s,，:：])", " ", value)
    return re.sub(r"(?<=[\s,，:：])[男女]$", " ", value)


def extract_name(text: str | None) -> str | None:
    """Pull the candidate full name out of a request.

    Handles "张一诺", "帮我查下叫李子涵的多不多", "男孩 王梓轩", "王梓轩，男" and keeps
    invalid characters (digits, letters, symbols) in the candidate so that
    :func:`validate_name` can say what is wrong with it.

    Args:
        text: what the user typed.

    Returns:
        The candidate (not yet validated), or ``None`` if the text holds no name at all.

    """
    value = normalise(text)
    if not value:
        return None
    value = _strip_gender(value)
    called = _CALLED_RE.search(value)
    if called:
        candidate = called.group(1)
        for filler in _FILLERS:
            idx = candidate.find(filler)
            if idx > 0:
                candidate = candidate[:idx]
        candidate = candidate.rstrip(_TRAILING)
    else:
        candidate = value
        for filler in _FILLERS:
            candidate = candidate.replace(filler, " ")
        candidate = re.sub(r"^[男女]\s", " ", candidate)
        parts = [p.strip(_EDGE_PUNCT) for p in re.split(r"[\s，,。!！?？、;；:：]+", candidate)]
        parts = [p.rstrip(_TRAILING) if len(p) > 2 else p for p in parts]
        parts = [p for p in parts if p and p not in _GENDER_ALONE]
        if not parts:
            return None
        # A name split by spaces ("王 梓轩") is joined; otherwise the longest run wins.
        if len(parts) > 1 and all(_is_han_run(p) for p in parts) and sum(map(len, parts)) <= 6:
            candidate = "".join(parts)
        else:
            candidate = max(parts, key=len)
    candidate = candidate.strip(_EDGE_PUNCT)
    return candidate or None


def _is_han_run(value: str) -> bool:
    return all(_is_han(c) for c in value)
