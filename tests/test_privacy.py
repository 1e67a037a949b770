from bot.privacy import mask_data, mask_id_number, mask_phone, mask_text


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
