"""Checks on the NLU training data (data/nlu) and the jieba domain dictionary (data/dict).

These tests never train a model. They make sure the training data loads with Rasa's own
reader, uses exactly the intent names of domain.yml / docs/contracts.md, has enough and
non-conflicting examples, annotates entities with canonical values on jieba token boundaries,
and never contains an example of the dev or test set (tests/nlu/dev.yml, tests/nlu/test.yml;
tests/nlu/test_testset_overlap.py also rejects near copies of test items).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NLU_DIR = ROOT / "data" / "nlu"
DICT_DIR = ROOT / "data" / "dict"
DOMAIN_FILE = ROOT / "domain.yml"
CONTRACTS_FILE = ROOT / "docs" / "contracts.md"
EVAL_FILES = (ROOT / "tests" / "nlu" / "dev.yml", ROOT / "tests" / "nlu" / "test.yml")

MIN_EXAMPLES = 25

# The 12 county-level units of Langfang named in the service brief (canonical county values).
COUNTIES = (
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
)

CANONICAL_VALUES: dict[str, set[str]] = {
    "county": set(COUNTIES),
    "move_in_situation": {"housing", "employment", "relatives", "graduate_talent", "other"},
    "business_type": {
        "id_card",
        "hukou_move_in",
        "birth_registration",
        "death_deregistration",
        "residence_permit",
        "hukou_booklet",
        "certificate",
        "other",
    },
    "point_type": {"window", "self_service", "paternity", "notary", "translation"},
    "gender": {"male", "female"},
}

CASE_NUMBER_RE = re.compile(r"^[Ss][Ll]\d{12}$")
PHONE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def normalise(text: str) -> str:
    """Normalise an utterance for duplicate detection.

    Applies NFKC (full-width to half-width), lower-cases, and drops whitespace, punctuation,
    symbols and emoji, so that "身份证丢了？" and "身份证丢了 " compare equal.

    Args:
        text: The raw utterance.

    Returns:
        The normalised comparison key.
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in {"L", "N"})


def _load(path: Path) -> Any:
    from rasa.shared.nlu.training_data.loading import load_data

    return load_data(str(path))


@pytest.fixture(scope="module")
def training_data() -> Any:
    """All NLU training data in data/nlu, loaded with Rasa's reader."""
    return _load(NLU_DIR)


@pytest.fixture(scope="module")
def examples(training_data: Any) -> list[Any]:
    """Training examples that carry an intent (i.e. not synonym/regex-only entries)."""
    return [m for m in training_data.training_examples if m.get("intent")]


@pytest.fixture(scope="module")
def domain_intents() -> list[str]:
    """Intent names declared in domain.yml."""
    from rasa.shared.utils.io import read_yaml_file

    domain = read_yaml_file(str(DOMAIN_FILE))
    names: list[str] = []
    for item in domain["intents"]:
        names.append(item if isinstance(item, str) else next(iter(item)))
    return names


@pytest.fixture(scope="module")
def contract_sub_intents() -> set[str]:
    """Retrieval sub-intents (faq/*, out_of_scope/*) listed in docs/contracts.md."""
    text = CONTRACTS_FILE.read_text(encoding="utf-8")
    return set(re.findall(r"`((?:faq|out_of_scope)/[a-z_]+)`", text))


@pytest.fixture(scope="module")
def jieba_tokenizer() -> Any:
    """A private jieba tokenizer with every file in data/dict loaded as a user dictionary."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    for path in sorted(DICT_DIR.iterdir()):
        if path.is_file():
            tokenizer.load_userdict(str(path))
    return tokenizer


def test_training_data_loads_with_rasa_reader(training_data: Any, examples: list[Any]) -> None:
    files = sorted(p.name for p in NLU_DIR.glob("*.yml"))
    assert "synonyms.yml" in files and "regex.yml" in files and "inform.yml" in files
    assert 2000 <= len(examples) <= 8000, len(examples)  # the data loaded twice would not pass
    assert training_data.entity_synonyms, "synonyms.yml produced no synonyms"
    assert {r["name"] for r in training_data.regex_features} == {"case_number", "phone_number"}


def test_intents_are_exactly_the_domain_intents(
    examples: list[Any], domain_intents: list[str]
) -> None:
    trained = {m.get("intent") for m in examples}
    expected = set(domain_intents) - {"nlu_fallback"}
    assert trained == expected, {
        "missing": sorted(expected - trained),
        "unknown": sorted(trained - expected),
    }


def test_every_domain_intent_has_enough_examples(
    examples: list[Any], domain_intents: list[str]
) -> None:
    counts = Counter(m.get("intent") for m in examples)
    too_few = {
        name: counts[name]
        for name in domain_intents
        if name != "nlu_fallback" and counts[name] < MIN_EXAMPLES
    }
    assert not too_few, too_few


def test_retrieval_sub_intents_match_contracts_and_have_enough_examples(
    examples: list[Any], contract_sub_intents: set[str]
) -> None:
    assert len(contract_sub_intents) >= 20, "could not read sub-intents from contracts.md"
    counts = Counter(m.get_full_intent() for m in examples if "/" in m.get_full_intent())
    assert set(counts) == contract_sub_intents, {
        "missing": sorted(contract_sub_intents - set(counts)),
        "unknown": sorted(set(counts) - contract_sub_intents),
    }
    too_few = {k: v for k, v in counts.items() if v < MIN_EXAMPLES}
    assert not too_few, too_few


def test_no_example_appears_under_two_intents(examples: list[Any]) -> None:
    labels: dict[str, set[str]] = defaultdict(set)
    for m in examples:
        labels[normalise(m.get("text"))].add(m.get_full_intent())
    clashes = {text: sorted(names) for text, names in labels.items() if len(names) > 1}
    assert not clashes, clashes


def test_no_duplicate_example_within_an_intent(examples: list[Any]) -> None:
    counts = Counter((m.get_full_intent(), normalise(m.get("text"))) for m in examples)
    duplicates = [key for key, n in counts.items() if n > 1]
    assert not duplicates, duplicates


def test_no_empty_example_after_normalisation(examples: list[Any]) -> None:
    empty = [m.get("text") for m in examples if not normalise(m.get("text"))]
    assert not empty, empty


@pytest.mark.parametrize("path", EVAL_FILES, ids=lambda p: p.name)
def test_no_dev_or_test_example_is_trained_on(examples: list[Any], path: Path) -> None:
    held_out = _load(path)
    keys = {normalise(m.get("text")) for m in held_out.training_examples if m.get("text")}
    assert keys, f"{path.name} has no examples"
    leaked = sorted({m.get("text") for m in examples if normalise(m.get("text")) in keys})
    assert not leaked, leaked


def test_no_phone_numbers_in_training_examples(examples: list[Any]) -> None:
    with_phone = [m.get("text") for m in examples if PHONE_RE.search(m.get("text"))]
    assert not with_phone, with_phone


def test_entity_values_are_canonical(examples: list[Any]) -> None:
    bad = []
    for m in examples:
        for ent in m.get("entities") or []:
            name, value = ent["entity"], ent["value"]
            if name == "case_number":
                ok = bool(CASE_NUMBER_RE.match(unicodedata.normalize("NFKC", value)))
            else:
                ok = value in CANONICAL_VALUES.get(name, set())
            if not ok:
                bad.append((m.get("text"), name, value))
    assert not bad, bad


def test_entities_are_annotated_in_the_intents_that_use_them(examples: list[Any]) -> None:
    annotated = Counter(ent["entity"] for m in examples for ent in (m.get("entities") or []))
    for name in ("county", "move_in_situation", "business_type", "gender", "case_number"):
        assert annotated[name] >= 5, (name, annotated[name])
    case_examples = [m for m in examples if m.get("intent") == "query_case_status"]
    for m in case_examples:
        text = unicodedata.normalize("NFKC", m.get("text"))
        if re.search(r"[Ss][Ll]\d{12}", text):
            kinds = {e["entity"] for e in m.get("entities") or []}
            assert "case_number" in kinds, m.get("text")


def test_synonyms_map_to_canonical_values(training_data: Any) -> None:
    allowed = set().union(*CANONICAL_VALUES.values())
    bad = {
        alias: value
        for alias, value in training_data.entity_synonyms.items()
        if value not in allowed
    }
    assert not bad, bad
    targets = set(training_data.entity_synonyms.values())
    assert set(COUNTIES) <= targets, sorted(set(COUNTIES) - targets)
    syn = training_data.entity_synonyms
    assert syn["开发区"] == "廊坊经济技术开发区"
    assert syn["临空区"] == "廊坊临空经济区"
    assert syn["大厂"] == "大厂回族自治县"
    assert syn["买的房"] == "housing"
    assert syn["户口簿"] == "hukou_booklet"


def test_entity_annotations_fall_on_jieba_token_boundaries(
    examples: list[Any], jieba_tokenizer: Any
) -> None:
    misaligned = []
    for m in examples:
        entities = m.get("entities") or []
        if not entities:
            continue
        text = m.get("text")
        bounds = {0}
        pos = 0
        for token in jieba_tokenizer.lcut(text):
            pos += len(token)
            bounds.add(pos)
        for ent in entities:
            if ent["start"] not in bounds or ent["end"] not in bounds:
                misaligned.append((text, text[ent["start"] : ent["end"]]))
    assert not misaligned, misaligned


def test_regex_features_match_case_numbers_and_phones(training_data: Any) -> None:
    patterns = {r["name"]: re.compile(r["pattern"]) for r in training_data.regex_features}
    case = patterns["case_number"]
    assert case.search("我的受理编号是SL202611050123")
    assert case.search("sl202611050123")
    assert not case.search("SL20261105012")
    assert not case.search("SL2026110501234")
    phone = patterns["phone_number"]
    assert phone.search("电话13812345678谢谢")
    assert not phone.search("12345678901")
    assert not phone.search("138123456789")


def test_userdict_format_and_size() -> None:
    path = DICT_DIR / "userdict.txt"
    words = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        assert len(parts) == 3, (number, line)
        word, freq, pos = parts
        assert freq.isdigit() and int(freq) > 0, (number, line)
        assert re.fullmatch(r"[a-z]+", pos), (number, line)
        words.append(word)
    duplicates = [w for w, n in Counter(words).items() if n > 1]
    assert not duplicates, duplicates
    assert len(words) >= 300, len(words)


def test_userdict_contains_every_county() -> None:
    words = {
        line.split()[0]
        for line in (DICT_DIR / "userdict.txt").read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    missing = [c for c in COUNTIES if c not in words]
    assert not missing, missing


@pytest.mark.parametrize(
    ("sentence", "word"),
    [
        ("我想在固安县落户", "固安县"),
        ("廊坊临空经济区的户籍窗口在哪", "廊坊临空经济区"),
        ("大厂回族自治县派出所电话", "大厂回族自治县"),
        ("买了房想办户口迁入", "户口迁入"),
        ("临时身份证怎么办", "临时身份证"),
        ("户口簿丢了咋整", "户口簿"),
        ("我要开亲属关系证明", "亲属关系证明"),
        ("预审核要多久", "预审核"),
        ("我的受理编号多少", "受理编号"),
        ("附近的自助机在哪", "自助机"),
        ("工本费多少钱", "工本费"),
    ],
)
def test_jieba_keeps_domain_words_whole(jieba_tokenizer: Any, sentence: str, word: str) -> None:
    assert word in jieba_tokenizer.lcut(sentence)
