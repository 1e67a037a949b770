"""The frozen NLU test set (tests/nlu/test.yml) stays independent of the training data.

No model needed. If ``test_no_test_item_is_a_near_copy_of_training_data`` fails, a training
example was added that (nearly) copies a test item: change the training data, not the test set.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from bot.nlu.evaluate import dev_set_paths, load_examples
from bot.nlu.overlap import comparison_key, near_copies, within_edits

ROOT = Path(__file__).resolve().parents[2]
TEST_SET = ROOT / "tests" / "nlu" / "test.yml"
DEV_SETS = dev_set_paths(ROOT)
# Written on 2026-12-07 from the label definitions, checked with bench/overlap_check.py.
FRESH_DEV_SETS = [path for path in DEV_SETS if path.stem.startswith("dev_fresh")]


@pytest.fixture(scope="module")
def test_items() -> list[tuple[str, str]]:
    return load_examples(TEST_SET)


@pytest.fixture(scope="module")
def training_texts() -> list[str]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(ROOT / "data" / "nlu"))
    return [str(m.get("text")) for m in data.training_examples if m.get("intent")]


def test_test_set_is_frozen_large_and_has_out_of_scope_messages(
    test_items: list[tuple[str, str]],
) -> None:
    header = TEST_SET.read_text(encoding="utf-8")[:600]
    assert re.search(r"FROZEN on \d{4}-\d{2}-\d{2}", header)
    assert len(test_items) >= 600
    out_of_scope = [t for t, label in test_items if label.startswith("out_of_scope/")]
    assert len(out_of_scope) >= 150
    repeated = [t for t, n in Counter(comparison_key(t) for t, _ in test_items).items() if n > 1]
    assert not repeated, repeated


def test_no_test_item_is_a_near_copy_of_training_data(
    test_items: list[tuple[str, str]], training_texts: list[str]
) -> None:
    copies = near_copies([t for t, _ in test_items], training_texts)
    assert not copies, [(c.item, c.training, c.ratio) for c in copies[:30]]


def test_no_test_item_is_a_near_copy_of_the_dev_set(test_items: list[tuple[str, str]]) -> None:
    # Settings are tuned on the dev set: a near copy there would leak the tuning into the test.
    dev = [t for path in DEV_SETS for t, _ in load_examples(path)]
    copies = near_copies([t for t, _ in test_items], dev)
    assert not copies, [(c.item, c.training, c.ratio) for c in copies[:30]]


@pytest.mark.parametrize("path", FRESH_DEV_SETS, ids=lambda p: p.stem)
def test_fresh_dev_items_are_no_near_copies_of_training_data(
    path: Path, training_texts: list[str]
) -> None:
    # They measure what the training data does not already spell out: a new training example
    # that copies one of them makes the dev figures flatter, not the model better.
    items = load_examples(path)
    assert len(items) >= 90
    copies = near_copies([t for t, _ in items], training_texts)
    assert not copies, [(c.item, c.training, c.ratio) for c in copies[:30]]


@pytest.mark.parametrize(
    ("item", "training", "copy"),
    [
        ("身份證丟了怎麼辦？", "身份证丢了怎么办", True),  # identical after the normaliser
        ("身份证掉了怎么补领", "身份证掉了怎么补办", True),  # one character apart
        ("我的身份证找不到了😭", "身份证找不到了", True),  # similarity 0.875
        ("居住证怎么续签", "户口本丢了怎么补", False),
        ("早啊", "早安", False),  # 2-character replies: only identity counts
    ],
)
def test_near_copy_rule(item: str, training: str, copy: bool) -> None:
    assert bool(near_copies([item], [training])) is copy


def test_edit_distance_is_bounded_levenshtein() -> None:
    assert within_edits("abcdef", "abXdeY", 2)
    assert not within_edits("abcdef", "aXcYeZ", 2)
    assert within_edits("户口迁入", "户口迁出", 1)
    assert not within_edits("户口迁入材料", "户口", 2)
