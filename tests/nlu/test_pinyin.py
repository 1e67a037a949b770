"""Pinyin of Chinese text: homophone slips get the same syllables as the right characters."""

import pytest

from bot.knowledge import knowledge_dir
from bot.nlu.pinyin import _toneless, grams, pinyin_table, syllables


@pytest.fixture(scope="module")
def table():
    return pinyin_table(str(knowledge_dir()))


def test_homophones_share_their_syllables(table):
    assert syllables("户口", table) == syllables("户叩", table) == ["hu", "kou"]
    assert syllables("身份证", table) == syllables("身分正", table)
    assert syllables("ab 12", table) == []
    assert grams(["hu", "kou"]) == ["hu", "kou", "hu_kou"]


def test_first_reading_without_its_tone(table):
    assert _toneless("lù,lǜ") == "lu"
    assert _toneless("hù") == "hu"
    assert table["户"] == "hu"
