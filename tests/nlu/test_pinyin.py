"""Pinyin of Chinese text: homophone slips get the same syllables as the right characters."""

import pytest

from bot.knowledge import knowledge_dir
from bot.nlu.pinyin import _toneless, grams, pinyin_table, split_pinyin, syllables


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


def test_the_most_common_reading_not_the_alphabetically_first(table):
    # the 8105 table lists 落 as là,lào,luò and 系 as jì,xì
    assert (table["落"], table["系"], table["还"], table["行"]) == ("luo", "xi", "hai", "xing")
    assert syllables("洛户", table) == syllables("落户", table)


@pytest.mark.parametrize(
    ("text", "same_as"),
    [
        ("shenfenzheng gongbenfei多少", "身份证工本费多少"),
        ("xinshenger luohu需要什么材料", "新生儿落户需要什么材料"),
        ("hukou想迁到廊坊", "户口想迁到廊坊"),
        ("qinshu guanxi zhengming", "亲属关系证明"),
    ],
)
def test_pinyin_typed_in_letters_gets_the_syllables_of_the_characters(table, text, same_as):
    assert syllables(text, table) == syllables(same_as, table)


@pytest.mark.parametrize("text", ["id card online", "process", "ok", "c1", "qwrtp", "n"])
def test_english_and_letter_noise_add_no_syllables(table, text):
    assert syllables(text, table) == []


def test_split_pinyin_prefers_fewest_syllables_and_refuses_non_pinyin(table):
    known = frozenset(table.values())
    assert split_pinyin("xian", known) == ["xian"]
    assert split_pinyin("xinshenger", known) == ["xin", "sheng", "er"]
    assert split_pinyin("hello", known) is None
    assert split_pinyin("a" * 5000, known) is None  # hostile input: bounded work
