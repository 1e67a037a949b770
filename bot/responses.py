"""The wording citizens read, from ``data/responses/*.yml`` (officers edit it there).

Actions that compose a reply in code (a materials list, a clarifying question) take every
sentence and every button title from the response files through these two functions, so an
officer can reword them without a code change.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge import PROJECT_ROOT, read_text_cached


class _KeepMissing(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _responses_dir() -> Path:
    return Path(os.environ.get("RESPONSES_DIR", PROJECT_ROOT / "data" / "responses"))


def _first_variant(key: str) -> dict[str, Any]:
    for path in sorted(_responses_dir().glob("*.yml")):
        data = read_text_cached(path, lambda text: yaml.safe_load(text) or {})
        variants = (data.get("responses") or {}).get(key)
        if variants:
            return dict(variants[0])
    raise KeyError(key)


def response_text(key: str, **values: Any) -> str:
    """The first text of response ``key`` in ``data/responses/*.yml``, with ``{name}`` filled.

    Args:
        key: e.g. ``"utter_name_not_standard"``.
        **values: values for the ``{placeholders}`` of the text.

    Returns:
        The text; placeholders without a value are left as they are.

    Raises:
        KeyError: when no response file defines ``key``.
    """
    return str(_first_variant(key).get("text", "")).format_map(_KeepMissing(values))


def response_buttons(key: str, **values: Any) -> list[dict[str, str]]:
    """The buttons of response ``key``, titles and payloads with ``{name}`` filled.

    Payloads are written as in Rasa responses, with JSON braces doubled
    (``'/find_window{{"county":"{county}"}}'``).

    Args:
        key: e.g. ``"utter_move_in_followups"``.
        **values: values for the placeholders.

    Returns:
        ``[{"title": ..., "payload": ...}, ...]`` (empty when the response has no buttons).

    Raises:
        KeyError: when no response file defines ``key``.
    """
    fill = _KeepMissing(values)
    return [
        {"title": str(b["title"]).format_map(fill), "payload": str(b["payload"]).format_map(fill)}
        for b in _first_variant(key).get("buttons") or []
    ]
