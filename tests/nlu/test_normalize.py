import pytest

from bot.nlu.normalize import normalize_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("身份證丟了怎麼辦", "身份证丢了怎么办"),
        ("ＳＬ２０２６１１０５０１２３", "sl202611050123"),
        ("户口迁入？", "户口迁入?"),
        ("身份证丢了😭", "身份证丢了 "),
        ("ID Card 丢了", "id card 丢了"),
        ("居住证\u3000怎么办", "居住证 怎么办"),
        ("", ""),
    ],
)
def test_normalisation(raw, expected):
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    "raw", ["👨‍👩‍👧 孩子上户口", "身份證😂😂ＳＬ123", "a\tb\nc", "🇨🇳 户籍", "x" * 5000]
)
def test_length_is_preserved_so_entity_offsets_stay_valid(raw):
    assert len(normalize_text(raw)) == len(raw)


def test_emoji_sequences_become_spaces_not_garbage():
    out = normalize_text("👨‍👩‍👧孩子上户口")
    assert out.strip() == "孩子上户口"
