"""The intents an officer can choose from, read from ``domain.yml`` and the training data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

#: New intent names: snake_case, optionally ``base/sub_intent`` (retrieval).
INTENT_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,60}(/[a-z][a-z0-9_]{1,60})?$")
NOT_ASSIGNABLE = {"nlu_fallback"}
INTENT_NAMES_FILE = "intent_names.yml"
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def plain_example(example: str) -> str:
    """Strip Rasa entity markup (``[text](entity)`` / ``[text]{...}``) from an example."""
    return _ANNOTATION.sub(r"\1", example).strip()


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as handle:
            loaded = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _examples(block: Any) -> list[str]:
    if isinstance(block, str):
        lines = [line.strip() for line in block.splitlines()]
        return [plain_example(line[2:]) for line in lines if line.startswith("- ")]
    if isinstance(block, list):
        out = []
        for entry in block:
            text = entry.get("text") if isinstance(entry, dict) else entry
            if isinstance(text, str):
                out.append(plain_example(text))
        return out
    return []


def read_nlu_examples(path: Path) -> dict[str, list[str]]:
    """Examples per intent in one Rasa NLU YAML file (entity markup stripped).

    Args:
        path: the YAML file.

    Returns:
        ``{intent: [example, ...]}``; empty for unreadable files.

    """
    result: dict[str, list[str]] = {}
    for entry in _load_yaml(path).get("nlu") or []:
        if isinstance(entry, dict) and isinstance(entry.get("intent"), str):
            result.setdefault(entry["intent"], []).extend(_examples(entry.get("examples")))
    return result


@dataclass
class IntentCatalog:
    """What the domain and the training data say about intents.

    Attributes:
        assignable: intents an example may be exported under (plain intents and retrieval
            sub-intents that have a response), sorted.
        retrieval_bases: retrieval intents (``faq``, ``out_of_scope``) that need a sub-intent.
        hints: one sample example per intent, to help officers choose.
        labels: Chinese display names (``data/knowledge/intent_names.yml``).

    """

    assignable: list[str] = field(default_factory=list)
    retrieval_bases: set[str] = field(default_factory=set)
    hints: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    def label(self, intent: str | None) -> str:
        """The Chinese name of an intent for officers (the raw name if it has none)."""
        if not intent:
            return "—"
        return self.labels.get(intent) or intent

    def is_known(self, intent: str) -> bool:
        """Whether examples may be exported under ``intent``."""
        return intent in self.assignable

    def options(self) -> list[tuple[str, str]]:
        """``(intent, description)`` pairs for the searchable intent list.

        The description is the Chinese name and, after it, a sample example.
        """
        out = []
        for name in self.assignable:
            parts = [self.labels.get(name, ""), self.hints.get(name, "")]
            out.append((name, " · ".join(p for p in parts if p)))
        return out


def load_catalog(project_dir: Path, exclude_file: Path | None = None) -> IntentCatalog:
    """Read the intent catalogue from ``domain.yml`` and ``data/``.

    Args:
        project_dir: the project root.
        exclude_file: an NLU file not to take hints from (the console's own export).

    Returns:
        The catalogue.

    """
    domain = _load_yaml(project_dir / "domain.yml")
    intents: list[str] = []
    for entry in domain.get("intents") or []:
        if isinstance(entry, str):
            intents.append(entry)
        elif isinstance(entry, dict):
            intents.extend(str(k) for k in entry)
    responses: set[str] = set((domain.get("responses") or {}).keys())
    data_dir = project_dir / "data"
    nlu: dict[str, list[str]] = {}
    for path in sorted(data_dir.rglob("*.yml")) if data_dir.exists() else []:
        loaded = _load_yaml(path)
        responses.update((loaded.get("responses") or {}).keys())
        if exclude_file is not None and path.resolve() == exclude_file.resolve():
            continue
        for intent, examples in read_nlu_examples(path).items():
            nlu.setdefault(intent, []).extend(examples)
    bases: set[str] = set()
    subs: list[str] = []
    for response in responses:
        if response.startswith("utter_") and "/" in response:
            base, sub = response[len("utter_") :].split("/", 1)
            if base in intents:
                bases.add(base)
                subs.append(f"{base}/{sub}")
    assignable = sorted(
        {i for i in intents if i not in NOT_ASSIGNABLE and i not in bases} | set(subs)
    )
    hints = {name: nlu[name][0] for name in assignable if nlu.get(name)}
    return IntentCatalog(
        assignable=assignable,
        retrieval_bases=bases,
        hints=hints,
        labels=load_display_names(project_dir),
    )


def load_display_names(project_dir: Path) -> dict[str, str]:
    """The Chinese display names of intents (``data/knowledge/intent_names.yml``).

    Args:
        project_dir: the project root.

    Returns:
        ``{intent: name}``; empty if the file is missing or unreadable.

    """
    names = _load_yaml(project_dir / "data" / "knowledge" / INTENT_NAMES_FILE).get("intent_names")
    if not isinstance(names, dict):
        return {}
    return {str(k): str(v) for k, v in names.items() if isinstance(v, str | int) and str(v)}


def training_texts(project_dir: Path, exclude_file: Path) -> dict[str, str]:
    """Every example text already in ``data/nlu`` (except ``exclude_file``) → its intent."""
    texts: dict[str, str] = {}
    nlu_dir = project_dir / "data" / "nlu"
    for path in sorted(nlu_dir.rglob("*.yml")) if nlu_dir.exists() else []:
        if path.resolve() == exclude_file.resolve():
            continue
        for intent, examples in read_nlu_examples(path).items():
            for example in examples:
                texts.setdefault(example, intent)
    return texts
