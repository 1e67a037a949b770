"""Check new NLU utterances against the training data, the dev set and the frozen test set.

Usage: ``.venv/bin/python bench/overlap_check.py FILE.yml [--as-training]``

Prints every item of FILE that is a near copy (bot/nlu/overlap.py) of a training example or an
item of any dev file (with the text it copies), or of a frozen test item (test texts are never
printed: only the offending item of FILE). With ``--as-training`` FILE holds new training
examples and only the test and dev sets are checked. Exit status 1 when anything was found.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.nlu.evaluate import dev_set_paths, load_examples  # noqa: E402
from bot.nlu.overlap import near_copies  # noqa: E402


def _training_texts(skip: Path) -> list[str]:
    texts = []
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        if path.resolve() != skip.resolve():
            texts += [text for text, _ in load_examples(path)]
    return texts


def main(argv: list[str]) -> int:
    """Print near copies of FILE's items; 1 when any was found."""
    path = Path(argv[0])
    as_training = "--as-training" in argv
    items = [text for text, _ in load_examples(path)]
    found = 0
    references = {
        "dev": [
            text
            for dev in dev_set_paths(ROOT)
            if dev.resolve() != path.resolve()
            for text, _ in load_examples(dev)
        ]
    }
    if not as_training:
        references["training"] = _training_texts(path)
    for name, texts in references.items():
        for copy in near_copies(items, texts):
            found += 1
            print(f"near copy of {name}: {copy.item!r} ~ {copy.training!r} ({copy.ratio})")
    test = [t for t, _ in load_examples(ROOT / "tests" / "nlu" / "test.yml")]
    for copy in near_copies(items, test):
        found += 1
        print(f"near copy of a frozen test item (not shown): {copy.item!r}")
    print(f"{len(items)} items, {found} near copies")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
