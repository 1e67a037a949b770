"""The spaCy EntityRuler built from the knowledge files."""

import pytest

from bot.nlu.ruler import EntityRulerMatcher


@pytest.fixture(scope="module")
def matcher():
    return EntityRulerMatcher.from_knowledge()


def ents(matcher, text):
    return {(e["entity"], e["value"]) for e in matcher.extract(text)}


def test_one_sentence_gives_county_and_situation(matcher):
    assert ents(matcher, "我在固安买的房想迁户口") >= {
        ("county", "固安县"),
        ("move_in_situation", "housing"),
    }


@pytest.mark.parametrize(
    ("text", "county"),
    [
        ("开发区户籍窗口在哪", "廊坊经济技术开发区"),
        ("廊坊经济技术开发区的户政大厅", "廊坊经济技术开发区"),
        ("大厂的派出所电话", "大厂回族自治县"),
        ("三河市", "三河市"),
        ("ＧＵ安 固安縣", "固安县"),
    ],
)
def test_county_aliases_and_odd_input(matcher, text, county):
    assert ("county", county) in ents(matcher, text)


def test_offsets_point_at_the_original_text(matcher):
    text = "😀在大廠落户"
    (county,) = [e for e in matcher.extract(text) if e["entity"] == "county"]
    assert text[county["start"] : county["end"]] == "大廠"


def test_case_numbers_and_phones(matcher):
    found = ents(matcher, "查进度ｓｌ２０２６１１０５０１２３，电话13812345678")
    assert ("case_number", "SL202611050123") in found
    assert ("phone_number", "13812345678") in found


def test_case_number_followed_by_the_factor(matcher):
    assert ("case_number", "SL202611050123") in ents(matcher, "SL202611050123 5678")
    assert ("case_number", "SL202611050123") in ents(matcher, "sl 2026 1105 0123")


def test_gender_words_but_not_inside_other_words(matcher):
    assert ("gender", "male") in ents(matcher, "男孩 王梓轩")
    assert ("gender", "female") in ents(matcher, "女 李子涵")
    assert not any(e == "gender" for e, _ in ents(matcher, "我男朋友的身份证丢了"))


def test_aliases_inside_longer_words_are_ignored(matcher):
    assert not any(e == "county" for e, _ in ents(matcher, "我想在大城市落户"))
    assert ("move_in_situation", "housing") not in ents(matcher, "我没有房子能迁户口吗")
    assert ("move_in_situation", "employment") not in ents(matcher, "你们几点上班")
