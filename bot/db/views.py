"""Plain views of ORM rows: the dataclasses query functions return instead of ORM objects."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

V = TypeVar("V")


def view_of(view: type[V], row: Any, **values: Any) -> V:
    """Build a view dataclass from an ORM row, field by field (the names match).

    Args:
        view: the dataclass to build.
        row: the ORM row (or any object with those attributes).
        **values: fields that do not come from the row (e.g. a joined county's name).

    Returns:
        The view; it stays valid after the session has closed.
    """
    fields = [f.name for f in dataclasses.fields(view)]  # type: ignore[arg-type]
    return view(**{name: values[name] if name in values else getattr(row, name) for name in fields})
