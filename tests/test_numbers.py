"""bot.numbers: whatever way a number is written, what the parser reads the masker masks.

Property-based (hypothesis): phone and ID numbers are generated with every kind of separator
(Unicode spaces, tabs, dots, dashes of every width, invisible characters), full-width and
other-script digits and Chinese numerals, inside Chinese text.
"""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.numbers import (
    digit_groups,
    find_numbers,
    mask_data,
    mask_id_number,
    mask_phone,
    mask_text,
    parse_phone,
)

SPACES = [chr(c) for c in range(0x10000) if unicodedata.category(chr(c)) == "Zs"]
DASHES = [chr(c) for c in range(0x10000) if unicodedata.category(chr(c)) == "Pd"]
SEPARATORS = SPACES + DASHES + ["\t", ".", "·", "・", "．", "\u200b", "\u2060", "\ufeff", "_"]
CJK = dict(zip("0123456789", "零一二三四五六七八九", strict=True))
CJK_ALT = {"0": "〇", "1": "幺"}
FULLWIDTH = {d: chr(0xFF10 + int(d)) for d in "0123456789"}
ARABIC_INDIC = {d: chr(0x0660 + int(d)) for d in "0123456789"}
# Chinese context without numerals, so that only the generated number holds digits.
CONTEXT = st.text(alphabet="我的电话是请回拨谢谢身份证号码办理户口在哪里，。！？ abc", max_size=12)

phones = st.builds(
    lambda second, rest: "1" + second + rest,
    st.sampled_from("3456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
)
ids18 = st.builds(
    lambda body, check: body + check,
    st.text(alphabet="0123456789", min_size=17, max_size=17).filter(lambda s: s[0] != "0"),
    st.sampled_from("0123456789Xx"),
)


@st.composite
def written(draw: st.DrawFn, number: str) -> str:
    """Write ``number`` as a person might: any digit forms, any separators between digits."""
    script = draw(st.sampled_from(["ascii", "fullwidth", "cjk", "mixed", "arabic"]))
    out: list[str] = []
    for index, char in enumerate(number):
        form = script if script != "mixed" else draw(st.sampled_from(["ascii", "fullwidth", "cjk"]))
        if char in "Xx":
            out.append(draw(st.sampled_from(["X", "x", "Ｘ", "ｘ"])))
        elif form == "fullwidth":
            out.append(FULLWIDTH[char])
        elif form == "cjk":
            out.append(CJK_ALT.get(char, CJK[char]) if draw(st.booleans()) else CJK[char])
        elif form == "arabic":
            out.append(ARABIC_INDIC[char])
        else:
            out.append(char)
        if index < len(number) - 1 and draw(st.integers(0, 3)) == 0:
            out.append("".join(draw(st.lists(st.sampled_from(SEPARATORS), min_size=1, max_size=3))))
    return "".join(out)


def all_digits(text: str) -> str:
    return "".join(digit_groups(text))


COMMON = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@COMMON
@given(data=st.data(), phone=phones, before=CONTEXT, after=CONTEXT)
def test_every_written_phone_is_read_and_masked(data, phone, before, after):
    text = before + data.draw(written(phone)) + after
    assert parse_phone(text) == phone
    masked = mask_text(text)
    assert phone not in all_digits(masked)
    assert f"{phone[:3]}****{phone[-4:]}" in masked
    assert masked.startswith(before) and masked.endswith(after)


@COMMON
@given(data=st.data(), number=ids18, before=CONTEXT, after=CONTEXT)
def test_every_written_id_number_is_masked(data, number, before, after):
    text = before + data.draw(written(number)) + after
    masked = mask_text(text)
    upper = number.upper()
    assert upper[:17] not in all_digits(masked)
    assert f"{upper[:4]}{'*' * 10}{upper[-4:]}" in masked


@COMMON
@given(data=st.data(), phone=phones)
def test_a_phone_with_country_code_is_masked(data, phone):
    prefix = data.draw(st.sampled_from(["+86", "86", "+86 ", "0086", "（+86）"]))
    text = "电话" + prefix + data.draw(written(phone))
    assert parse_phone(text) == phone
    assert phone not in all_digits(mask_text(text))


@COMMON
@given(text=st.text(max_size=60))
def test_the_masker_masks_whatever_the_parser_reads(text):
    phone = parse_phone(text)
    masked = mask_text(text)
    if phone is not None:
        assert phone not in all_digits(masked)
    for match in find_numbers(text):
        assert match.masked in masked


@COMMON
@given(
    st.recursive(
        st.text(max_size=20) | phones,
        lambda c: st.lists(c) | st.dictionaries(st.text(max_size=5), c),
    )
)
def test_nested_data_never_keeps_a_phone(value):
    masked = mask_data(value)

    def strings(v):
        if isinstance(v, str):
            yield v
        elif isinstance(v, list):
            for item in v:
                yield from strings(item)
        elif isinstance(v, dict):
            for key, item in v.items():
                yield key
                yield from strings(item)

    for original, kept in zip(strings(value), strings(masked), strict=True):
        phone = parse_phone(original)
        if phone:
            assert phone not in all_digits(kept)


def test_the_forms_named_in_the_hostile_input_issue():
    forms = [
        "1395 724 6805",
        "139\u30005724\u30006805",
        "１３９\u3000５７２４\u3000６８０５",
        "139.5724.6805",
        "13 95 72 46 80 5",
        "1 3 9 5 7 2 4 6 8 0 5",
        "139\u00a05724\u00a06805",
        "139－5724－6805",
        "139  5724  6805",
        "139\t5724\t6805",
        "一三九五七二四六八零五",
        "幺三九 五七二四 六八洞五".replace("洞", "零"),
    ]
    for form in forms:
        assert parse_phone(form) == "13957246805", form
        assert mask_text(f"电话{form}谢谢") == "电话139****6805谢谢", form
    for form in [
        "1101 0519 4912 3100 2X",
        "110105\u300019491231\u3000002X",
        "11010519491231002Xabc",
    ]:
        assert mask_text(form).startswith("1101**********002X"), form


def test_not_every_number_is_personal():
    for text in [
        "受理编号SL202611050123",
        "后四位5678",
        "12月5日下午3点",
        "2026-12-05 10:30",
        "我一个人去办一下三四个证",
    ]:
        assert mask_text(text) == text
        assert parse_phone(text) is None


def test_phone_and_id_next_to_other_digits_are_still_masked():
    assert "13812345678" not in all_digits(mask_text("13812345678 5678"))
    assert mask_phone("+86 138-1234-5678") == "138****5678"
    assert mask_phone("12345") == "****"
    assert mask_id_number("11010519491231002x") == "1101**********002X"
    assert mask_id_number("abc") == "****"


# --- the documented formats (formerly tests/test_privacy.py) ---


def test_phone_and_id_are_masked_in_the_documented_format():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("11010519491231002X") == "1101**********002X"
    assert mask_id_number("11010519491231002x") == "1101**********002X"


def test_free_text_keeps_everything_but_the_numbers():
    text = "我叫张三，电话13812345678，身份证11010519491231002X，受理编号SL202611050123"
    masked = mask_text(text)
    assert "13812345678" not in masked and "11010519491231002X" not in masked
    assert "138****5678" in masked and "1101**********002X" in masked
    # a case number is not personal data and stays readable
    assert "SL202611050123" in masked
    assert masked.startswith("我叫张三，电话")


def test_full_width_and_spaced_numbers_are_masked_too():
    assert "１３８１２３４５６７８" not in mask_text("电话１３８１２３４５６７８")
    assert mask_text("电话 138 1234 5678 谢谢") == "电话 138****5678 谢谢"
    assert "8613912345678" not in mask_text("+8613912345678")


def test_short_numbers_and_long_digit_runs_are_not_mistaken_for_phones():
    assert mask_text("后四位5678") == "后四位5678"
    assert mask_text("12月5日下午3点") == "12月5日下午3点"


def test_nested_event_data_is_masked():
    event = {"text": "13812345678", "parse_data": {"entities": [{"value": "13812345678"}]}}
    assert mask_data(event) == {
        "text": "138****5678",
        "parse_data": {"entities": [{"value": "138****5678"}]},
    }
