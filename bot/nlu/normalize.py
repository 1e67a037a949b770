"""Length-preserving text normalisation for Chinese user input.

Citizens type on phones: full-width letters and digits (ＳＬ２０２６…), traditional characters
(身份證), emoji, odd spaces and control characters. ``normalize_text`` maps all of them to one
canonical form *without changing the string's length*, so character offsets of entity
annotations in the training data stay valid:

- full-width ASCII (U+FF01-U+FF5E) -> half-width, ideographic space -> space;
- traditional -> simplified Chinese, character by character (OpenCC's TSCharacters table);
- emoji, pictographs, variation selectors, zero-width joiners and control characters -> space;
- Latin letters -> lower case.

Collapsing the resulting runs of spaces is left to the tokenizer (jieba drops whitespace).
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

_FULLWIDTH_OFFSET = 0xFEE0


@functools.lru_cache(maxsize=2)
def opencc_characters(name: str = "TSCharacters.txt") -> dict[str, str]:
    """A one-to-one character table of OpenCC, loaded once on first use.

    Args:
        name: ``TSCharacters.txt`` (traditional -> simplified) or ``STCharacters.txt``.

    Returns:
        Source character -> its first target, for characters that change.
    """
    import opencc  # opencc-python-reimplemented ships the dictionary files

    path = Path(opencc.__file__).parent / "dictionary" / name
    table: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) != 2:
            continue
        source, targets = parts
        target = targets.split(" ")[0]
        if len(source) == 1 and len(target) == 1 and source != target:
            table[source] = target
    return table


def _is_emoji_or_symbol(char: str) -> bool:
    code = ord(char)
    if 0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF:
        return True
    if code in (0x200D, 0x200B, 0x200C, 0x2060, 0xFEFF, 0x20E3) or 0xFE00 <= code <= 0xFE0F:
        return True
    if 0xE0020 <= code <= 0xE007F:  # emoji tag sequences
        return True
    category = unicodedata.category(char)
    return category in ("Cc", "Cf", "Co", "Cs", "So") and char not in "\n"


def normalize_char(char: str) -> str:
    """Normalise one character to exactly one character.

    Args:
        char: a single character.

    Returns:
        Its canonical replacement (possibly a space), always one character long.
    """
    code = ord(char)
    if 0xFF01 <= code <= 0xFF5E:
        char = chr(code - _FULLWIDTH_OFFSET)
    elif code == 0x3000 or char in "\t\r\n\u00a0":
        return " "
    if char.isascii():
        return char.lower()
    if _is_emoji_or_symbol(char):
        return " "
    return opencc_characters().get(char, char)


def normalize_text(text: str) -> str:
    """Normalise user text for NLU while keeping its length.

    Args:
        text: raw user text (may be empty).

    Returns:
        The normalised text; ``len(result) == len(text)`` always holds.

    Examples:
        >>> normalize_text("身份證丟了😭怎麼辦？ＳＬ２０２６")
        '身份证丢了 怎么办?sl2026'
    """
    if not text:
        return text
    return "".join(normalize_char(c) for c in text)
