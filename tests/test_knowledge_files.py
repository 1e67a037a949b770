"""Checks on the officer-editable knowledge (data/knowledge/*.yml, data/responses/*.yml).

They catch edits a citizen would notice: a FAQ with no answer, a wrong fee or hotline, a
county without a registration window, a materials list that comes out empty, a phone number
mangled by the privacy masking, a button that leads nowhere.
"""

from __future__ import annotations

import collections
import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.numbers import mask_text

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "data" / "knowledge"
RESPONSES = ROOT / "data" / "responses"
CONTRACTS = ROOT / "docs" / "contracts.md"

URBAN = {"广阳区", "安次区", "廊坊经济技术开发区"}
# Langfang municipality, generously: 文安/大城 in the south to 三河/燕郊 in the north.
LAT_RANGE = (38.45, 40.15)
LNG_RANGE = (116.10, 117.35)
# Sample phones cannot be real: a local number never starts with 0.
LANDLINE = re.compile(r"^0316-0000\d{3}$")
SAMPLE_HEADER = "# 示例数据（SAMPLE）"

# Plain intents a citizen can pick from a clarify button (greetings / yes-no / form answers
# are not topics).
NOT_TOPICS = {
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "stop",
    "bot_challenge",
    "inform",
}


# --------------------------------------------------------------------------- loaders


@functools.cache
def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@functools.cache
def _contracts() -> str:
    return CONTRACTS.read_text(encoding="utf-8")


def retrieval_sub_intents() -> list[str]:
    text = _contracts()
    section = text.split("Retrieval intents", 1)[1].split("## Entities", 1)[0]
    found = re.findall(r"^- `((?:faq|out_of_scope)/[a-z_]+)`", section, flags=re.M)
    assert len(found) >= 20, "could not parse the retrieval intents from contracts.md"
    return found


def plain_intents() -> list[str]:
    section = _contracts().split("Plain intents:", 1)[1].split("Retrieval intents", 1)[0]
    found = [m for m in re.findall(r"^\| ([a-z_]+) \|", section, flags=re.M) if m != "intent"]
    assert "book_appointment" in found
    return found


def _entity_block(entity: str) -> str:
    """The (possibly wrapped) list item of one entity in the contracts' entity section."""
    section = _contracts().split("## Entities", 1)[1].split("\n## ", 1)[0]
    match = re.search(rf"^- `{entity}`: (.+?)(?=^- `|\Z)", section, flags=re.M | re.S)
    assert match, entity
    return " ".join(match.group(1).split())


def entity_values(entity: str) -> list[str]:
    values = _entity_block(entity).split("(")[0]
    return [v.strip() for v in values.split(",") if v.strip()]


def canonical_counties() -> list[str]:
    return entity_values("county")


def business_codes() -> set[str]:
    return set(entity_values("business_type"))


def situation_keys() -> list[str]:
    return re.findall(r"([a-z_]+) \(", _entity_block("move_in_situation"))


def all_responses() -> dict[str, list[dict[str, Any]]]:
    merged: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(RESPONSES.glob("*.yml")):
        data = _yaml(path) or {}
        for key, value in (data.get("responses") or {}).items():
            assert key not in merged, f"{key} defined twice"
            merged[key] = value
    return merged


def text_of(key: str) -> str:
    variants = all_responses()[key]
    return "\n".join(v["text"] for v in variants)


def counties() -> list[dict[str, Any]]:
    return _yaml(KNOWLEDGE / "counties.yml")["counties"]


def windows() -> list[dict[str, Any]]:
    return _yaml(KNOWLEDGE / "windows.yml")["windows"]


def move_in() -> dict[str, Any]:
    return _yaml(KNOWLEDGE / "move_in.yml")


def service_points() -> dict[str, Any]:
    return _yaml(KNOWLEDGE / "service_points.yml")


def topics() -> list[dict[str, Any]]:
    return _yaml(KNOWLEDGE / "topics.yml")["topics"]


def materials_for(situation: str, county: str) -> tuple[list[str], list[str]]:
    """Combine the default list with the county's additions, as the bot is meant to."""
    data = move_in()
    base = data["situations"][situation]
    local = (data["counties"][county] or {}).get(situation) or {}
    items = list(base["materials"]) + list(local.get("extra") or [])
    notes = [n for n in (base.get("note"), local.get("note")) if n]
    return items, notes


# --------------------------------------------------------------------------- responses


def test_response_files_are_valid_rasa_training_data() -> None:
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    loaded: set[str] = set()
    for path in sorted(RESPONSES.glob("*.yml")):
        training_data = RasaYAMLReader().read(path)
        assert training_data.responses, path.name
        loaded |= set(training_data.responses)
    assert loaded == set(all_responses())


def test_every_retrieval_sub_intent_has_exactly_one_answer() -> None:
    expected = {f"utter_{sub}" for sub in retrieval_sub_intents()}
    present = {key for key in all_responses() if "/" in key}  # utter_faq/…, utter_out_of_scope/…
    assert expected - present == set(), "sub-intents without an answer"
    assert present - expected == set(), "answers for sub-intents that do not exist"


@pytest.mark.parametrize("key", sorted(f"utter_{s}" for s in retrieval_sub_intents()))
def test_answers_are_short_and_end_with_a_next_step(key: str) -> None:
    for variant in all_responses()[key]:
        lines = [line for line in variant["text"].split("\n") if line.strip()]
        assert 2 <= len(lines) <= 6, f"{key}: {len(lines)} lines"
        assert len(variant["text"]) <= 220, f"{key} is a wall of text"
        if key.startswith("utter_faq/"):
            # the last line tells the citizen what to say or do next
            assert "说“" in lines[-1] or "可以" in lines[-1], f"{key}: no next step"
            assert variant.get("buttons"), f"{key}: no buttons"


def declared_entities() -> set[str]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return {e if isinstance(e, str) else next(iter(e)) for e in domain["entities"]}


def test_buttons_lead_to_known_intents_or_canonical_questions() -> None:
    intents = set(plain_intents())
    canonical = {t["payload"] for t in topics() if not str(t["payload"]).startswith("/")}
    for key, variants in all_responses().items():
        for variant in variants:
            for button in variant.get("buttons") or []:
                assert button["title"].strip(), key
                # responses are templates: {{ }} are braces, {county} is filled in at run time
                payload = str(button["payload"]).format_map(collections.defaultdict(lambda: "x"))
                if payload.startswith("/"):
                    intent, _, entities = payload[1:].partition("{")
                    assert intent in intents, f"{key}: {payload} is not a known intent"
                    if entities:
                        names = set(json.loads("{" + entities))
                        assert names <= declared_entities(), f"{key}: {payload} sets {names}"
                else:
                    assert payload in canonical, f"{key}: {payload} not a topics.yml question"


FACTS: dict[str, list[str]] = {
    "utter_faq/id_card_lost_online": ["省内", "两年内", "双核验", "15个工作日", "40元", "20元"],
    "utter_faq/id_card_fees": ["20元", "40元", "10元", "3个月"],
    "utter_faq/id_card_validity": ["16周岁", "5年", "10年", "20年", "46周岁", "长期", "3个月"],
    "utter_faq/id_card_renewal": ["3个月", "20元"],
    "utter_faq/temp_id_card": ["10元", "3个月"],
    "utter_faq/id_card_remote": ["异地"],
    "utter_faq/pre_review": ["24小时", "电话", "原件", "一次办结", "一半"],
    "utter_faq/hukou_booklet_replace": ["邮寄"],
    "utter_faq/kinship_certificate": ["邮寄"],
    "utter_faq/border_pass": ["居住登记", "邮寄"],
    "utter_faq/move_out": ["迁入地", "一站式"],
    "utter_faq/household_certificate": ["户籍证明", "户籍所在地派出所", "户口簿"],
    "utter_faq/name_change": ["未满18周岁", "监护人", "第十八条", "换领身份证"],
    "utter_faq/record_correction": ["出生日期", "民族", "20周岁"],
    "utter_faq/marital_status_update": ["婚姻状况", "结婚证", "离婚证", "民政"],
    "utter_faq/split_household": ["分户", "户主", "集体户"],
    "utter_faq/hukou_restore": ["退役", "回国定居"],
    "utter_faq/birth_out_of_wedlock": ["不需要结婚证", "随母", "亲子鉴定", "一个月", "第七条"],
    "utter_faq/birth_cert_lost": ["出生医学证明", "医院", "补发"],
    "utter_faq/id_card_apply": ["16周岁", "户口簿", "20元", "自助机"],
    "utter_faq/id_card_photo": ["照片", "指纹"],
    "utter_faq/id_card_report_lost": ["补领", "失效", "110"],
    "utter_faq/id_card_first_gen": ["2013年1月1日", "换领"],
    "utter_faq/child_no_id_card": ["户口簿", "16周岁"],
    "utter_faq/id_number_meaning": ["地址码", "出生日期", "顺序码", "校验码", "X"],
    "utter_faq/id_card_law": ["居民身份证法", "2004年1月1日"],
    "utter_faq/id_card_processing_time": ["15个工作日", "60日", "窗口"],
    "utter_faq/flight_without_id": ["临时乘机证明", "临时乘车身份证明"],
    "utter_faq/mini_program": ["微信", "搜索", "零跑腿", "预审核", "一次办结"],
    "utter_faq/mini_program_signup": ["实名认证", "刷脸", "留言"],
    "utter_faq/delegation": ["60周岁", "残疾"],
    "utter_faq/birth_registration": [
        "出生医学证明",
        "户口簿",
        "身份证",
        "结婚证",
        "随父或随母",
        "一个月内申报",
        "第七条",
    ],  # fmt: skip
    "utter_faq/death_deregistration": [
        "一个月",
        "第八条",
        "火化（安葬）前",
        "死亡医学证明",
        "社区卫生服务中心",
        "乡镇卫生院",
        "110",
        "火化证明",
        "户口簿",
        "上交",
    ],  # fmt: skip
    "utter_faq/death_certificate": ["社区卫生服务中心", "乡镇卫生院", "110", "户口注销", "邮寄"],
    "utter_faq/residence_permit": ["半年以上", "居住登记", "15日", "签注", "租房合同"],
    "utter_faq/residence_registration": ["流动人口自主申报", "派出所", "谁用工，谁负责"],
    "utter_faq/rental_registration": ["房东", "派出所"],
    "utter_faq/office_hours": ["9:00", "12:00", "13:30", "17:00", "周六", "24小时", "示例"],
    "utter_out_of_scope/passport": ["出入境", "12367"],
    "utter_out_of_scope/emergency": ["110"],
    "utter_out_of_scope/traffic": ["122", "12123", "车辆上户", "车管所"],
    "utter_out_of_scope/no_crime_record": ["无犯罪记录证明", "派出所"],
    "utter_out_of_scope/birth_permit": ["卫生健康", "12345"],
    "utter_out_of_scope/marriage": ["民政", "婚姻登记"],
    "utter_out_of_scope/personal_info": ["不能查询", "110"],
    "utter_out_of_scope/fraud": ["96110", "110"],
    "utter_out_of_scope/school": ["12345"],
    "utter_out_of_scope/social_security": ["12345", "12333"],
    "utter_out_of_scope/noise": ["110", "12345"],
    "utter_out_of_scope/other": ["我主要负责户政业务", "12345"],
}


@pytest.mark.parametrize("key", sorted(FACTS))
def test_answers_state_the_facts(key: str) -> None:
    text = text_of(key)
    missing = [fact for fact in FACTS[key] if fact not in text]
    assert not missing, f"{key} lacks {missing}"


def test_no_wrong_fee_or_deadline_slipped_in() -> None:
    # online replacement: never promise fewer/more working days or other fees
    online = text_of("utter_faq/id_card_lost_online")
    assert re.findall(r"(\d+)个工作日", online) == ["15"]
    assert set(re.findall(r"(\d+)元", online)) == {"40", "20"}
    fees = text_of("utter_faq/id_card_fees")
    assert set(re.findall(r"(\d+)元", fees)) == {"20", "40", "10"}


def test_passport_referral_offers_no_id_card_replacement() -> None:
    for variant in all_responses()["utter_out_of_scope/passport"]:
        titles = [b["title"] for b in variant.get("buttons") or []]
        assert not any("身份证" in t for t in titles), titles


def test_sample_marker_at_most_once_per_answer() -> None:
    for key, variants in all_responses().items():
        for variant in variants:
            assert variant["text"].count("示例") <= 1, key


def test_out_of_scope_answers_do_not_pretend_to_handle_it() -> None:
    for sub in retrieval_sub_intents():
        if sub.startswith("out_of_scope/"):
            text = text_of(f"utter_{sub}")
            assert re.search(r"\d{3,5}", text), f"{sub}: no channel given"
            if sub != "out_of_scope/other":  # "other" lists what the bot can do instead
                assert "预约" not in text, f"{sub} offers to book something it cannot handle"


def test_hotlines_and_phones_survive_privacy_masking() -> None:
    for key, variants in all_responses().items():
        for variant in variants:
            assert mask_text(variant["text"]) == variant["text"], key
    for item in _all_places():
        assert mask_text(item["phone"]) == item["phone"], item["name"]
        assert mask_text(item["address"]) == item["address"], item["name"]


# Response files whose content is sample data (the bureau replaces it); the others hold the
# bot's own wording (booking, cases, messages, common), which officers may reword.
SAMPLE_RESPONSE_FILES = {"faq.yml", "out_of_scope.yml"}


def test_response_files_carry_the_sample_header() -> None:
    names = {path.name for path in RESPONSES.glob("*.yml")}
    assert SAMPLE_RESPONSE_FILES <= names
    for name in sorted(names):
        text = (RESPONSES / name).read_text(encoding="utf-8")
        if name in SAMPLE_RESPONSE_FILES:
            assert text.startswith(SAMPLE_HEADER), name
        else:  # every file tells officers what it holds, in Chinese, before the YAML
            first = text.splitlines()[0]
            assert first.startswith("# ") and re.search(r"[\u4e00-\u9fff]", first), name


# --------------------------------------------------------------------------- counties


def test_all_twelve_counties_with_urban_flag() -> None:
    names = [c["name"] for c in counties()]
    assert len(names) == 12
    assert sorted(names) == sorted(canonical_counties())
    assert {c["name"] for c in counties() if c["urban"] is True} == URBAN
    assert all(isinstance(c["urban"], bool) for c in counties())


def test_county_aliases_are_unambiguous() -> None:
    owner: dict[str, str] = {}
    for county in counties():
        assert county["aliases"], county["name"]
        for alias in [county["name"], *county["aliases"]]:
            assert alias.strip() == alias and alias
            assert owner.setdefault(alias, county["name"]) == county["name"], alias
    for colloquial in (
        "开发区",
        "经开区",
        "廊坊开发区",
        "大厂",
        "大厂县",
        "临空区",
        "临空经济区",
        "广阳",
        "安次",
        "固安",
        "三河",
        "燕郊",
        "霸州",
        "香河",
        "永清",
        "文安",
    ):
        assert colloquial in owner, colloquial
    assert owner["燕郊"] == "三河市"
    assert owner["开发区"] == "廊坊经济技术开发区"


# --------------------------------------------------------------------------- places


def _all_places() -> list[dict[str, Any]]:
    points = service_points()
    return [
        *windows(),
        *(p for key in ("self_service", "paternity", "notary", "translation") for p in points[key]),
    ]


def test_every_place_has_name_address_phone_hours_and_coordinates() -> None:
    names = set(canonical_counties())
    for item in _all_places():
        for field in ("name", "address", "phone", "hours"):
            assert isinstance(item.get(field), str) and item[field].strip(), (item, field)
        assert LANDLINE.match(item["phone"]), item["phone"]
        assert item["county"] in names, item["name"]
        assert LAT_RANGE[0] <= float(item["lat"]) <= LAT_RANGE[1], item["name"]
        assert LNG_RANGE[0] <= float(item["lng"]) <= LNG_RANGE[1], item["name"]
        assert "示例" in item["name"], f"{item['name']} is not labelled as sample"
    all_names = [item["name"] for item in _all_places()]
    assert len(all_names) == len(set(all_names)), "duplicate place names"


def test_every_county_has_its_registration_hall() -> None:
    by_county: dict[str, list[dict[str, Any]]] = {}
    for window in windows():
        by_county.setdefault(window["county"], []).append(window)
    for county in canonical_counties():
        assert county in by_county, f"{county} has no window"
        assert any("户政服务大厅" in w["name"] for w in by_county[county]), county
    assert len(windows()) > 12, "no police-station windows besides the halls"


def test_windows_list_valid_businesses_and_saturday_hours() -> None:
    codes = business_codes()
    assert "id_card" in codes
    for window in windows():
        assert window["type"] == "window"
        assert window["businesses"] and set(window["businesses"]) <= codes, window["name"]
        assert isinstance(window["saturday"], bool), window["name"]
        assert window["saturday"] == ("周六" in window["hours"]), window["name"]
    assert any(w["saturday"] for w in windows())
    # every county can take a 户口迁入 application somewhere
    for county in canonical_counties():
        assert any(
            w["county"] == county and "hukou_move_in" in w["businesses"] for w in windows()
        ), county


def test_twenty_self_service_points_ten_in_the_urban_districts() -> None:
    points = service_points()
    urban = {c["name"] for c in counties() if c["urban"]}
    self_service = points["self_service"]
    assert len(self_service) == 20
    assert sum(1 for p in self_service if p["county"] in urban) == 10
    assert all("24小时" in p["hours"] for p in self_service)
    assert 3 <= len(points["paternity"]) <= 4
    assert 4 <= len(points["notary"]) <= 6
    assert 3 <= len(points["translation"]) <= 4
    for key in ("self_service", "paternity", "notary", "translation"):
        assert {p["type"] for p in points[key]} == {key}
    assert set(entity_values("point_type")) == {"window", *points.keys()} - {"sample"}


def test_knowledge_files_are_labelled_sample() -> None:
    for name in ("counties.yml", "move_in.yml", "windows.yml", "service_points.yml"):
        path = KNOWLEDGE / name
        assert path.read_text(encoding="utf-8").startswith(SAMPLE_HEADER), name
        assert _yaml(path)["sample"] is True, name


# --------------------------------------------------------------------------- move-in


def test_move_in_situations_match_the_contract() -> None:
    situations = move_in()["situations"]
    assert list(situations) == situation_keys()
    assert situations["housing"]["name"] == "合法稳定住所迁入"
    assert situations["employment"]["name"] == "合法稳定职业迁入"
    owner: dict[str, str] = {}
    for key, situation in situations.items():
        for field in ("name", "label", "note"):
            assert situation[field].strip(), (key, field)
        assert 4 <= len(situation["materials"]) <= 7, key
        for alias in situation["aliases"]:
            assert owner.setdefault(alias, key) == key, f"alias {alias} in two situations"
    assert "买房" in situations["housing"]["aliases"]


@pytest.mark.parametrize(
    "county",
    [
        "广阳区",
        "安次区",
        "廊坊经济技术开发区",
        "三河市",
        "霸州市",
        "香河县",
        "大厂回族自治县",
        "固安县",
        "永清县",
        "文安县",
        "大城县",
        "廊坊临空经济区",
    ],
)
def test_every_county_and_situation_yields_materials(county: str) -> None:
    data = move_in()
    assert county in canonical_counties()
    local = data["counties"][county]
    window_names = {w["name"] for w in windows() if w["county"] == county}
    assert local["window"] in window_names, f"{county}: window not in windows.yml"
    specific = 0
    for situation in data["situations"]:
        items, notes = materials_for(situation, county)
        assert items and all(isinstance(i, str) and i.strip() for i in items)
        assert len(items) == len(set(items)), f"{county}/{situation}: duplicate items"
        assert notes
        extra = local.get(situation) or {}
        assert set(extra) <= {"extra", "note"}, f"{county}/{situation}: unknown field"
        if extra.get("extra") or extra.get("note"):
            specific += 1
    assert specific >= 2, f"{county}: fewer than two county-specific situations"
    assert set(local) <= {"window", *data["situations"]}, county


def test_materials_really_differ_between_counties() -> None:
    data = move_in()
    assert sorted(data["counties"]) == sorted(canonical_counties())

    def answer(county: str) -> tuple[Any, ...]:
        return tuple((s, *map(tuple, materials_for(s, county))) for s in data["situations"])

    answers = {county: answer(county) for county in data["counties"]}
    assert len(set(answers.values())) == len(answers), "two counties give identical answers"
    # 三河市 housing: the one-year rule of the sample catalogue
    items, notes = materials_for("housing", "三河市")
    assert any("满一年" in text for text in items + notes)


# --------------------------------------------------------------------------- topics


def test_topics_cover_everything_a_citizen_could_mean() -> None:
    keys = [t["key"] for t in topics()]
    assert len(keys) == len(set(keys))
    expected = {s for s in retrieval_sub_intents() if s != "out_of_scope/other"}
    expected |= {i for i in plain_intents() if i not in NOT_TOPICS}
    assert expected - set(keys) == set(), "topics missing"
    assert set(keys) - expected == set(), "topics for unknown intents"


def test_topic_buttons_are_short_and_well_formed() -> None:
    intents = set(plain_intents())
    payloads = [str(t["payload"]) for t in topics()]
    assert len(payloads) == len(set(payloads))
    for topic in topics():
        key, label, payload = topic["key"], topic["label"], str(topic["payload"])
        assert 0 < len(label) <= 8, label
        if "/" in key or key == "ask_move_in":
            assert not payload.startswith("/"), key
            assert re.search(r"[\u4e00-\u9fff]{3,}", payload), key
        else:
            assert payload == f"/{key}" and key in intents, key


def test_a_topics_business_is_one_that_can_be_booked() -> None:
    vocabulary = _yaml(KNOWLEDGE / "vocabulary.yml")["business_types"]
    bookable = {b["code"] for b in vocabulary if b.get("bookable")}
    linked = {t["key"]: t["business"] for t in topics() if "business" in t}
    assert linked.get("faq/id_card_lost_online") == "id_card"
    assert not set(linked.values()) - bookable, set(linked.values()) - bookable
