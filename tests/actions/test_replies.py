"""What the actions say comes from data/responses (actions/replies.py and every action module).

Read from the source (AST), so a reply that is never reached in another test still counts:

- every response name an action can send exists in domain.yml or data/responses/*.yml (Rasa
  sends nothing for an unknown name);
- no Chinese sentence is passed as reply text from Python (``utter_message(text="…")``,
  ``text=f"…"``, a ``{"text": "…"}`` reply dict): officers must be able to reword every
  sentence in data/responses.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bot.db.models import CASE_STAGES
from tests.actions.conftest import ROOT, load_domain

ACTIONS = ROOT / "actions"
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
RESPONSE_NAME = re.compile(r"utter_[a-z0-9_]+(?:/[a-z0-9_]+)?")
#: Response names built at run time (``f"utter_case_stage_{stage}"``): every value they take.
DYNAMIC_RESPONSES: dict[str, set[str]] = {
    "utter_case_stage_": set(CASE_STAGES)
    | {"accepted_id_card", "pre_review_passed_no_window", "materials_needed_unlisted"}
    | {"mailed_no_number"},
}


def modules() -> list[Path]:
    return sorted(ACTIONS.rglob("*.py"))


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _has_cjk(node: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Constant) and isinstance(n.value, str) and CJK.search(n.value)
        for n in ast.walk(node)
    )


def chinese_reply_texts(source: str) -> list[int]:
    """Lines where Chinese text is passed as a reply from code."""
    lines: list[int] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            texts = [k.value for k in node.keywords if k.arg == "text"]
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "utter_message" and node.args:
                texts.append(node.args[0])  # utter_message("…"): the text, positionally
            lines += [node.lineno for value in texts if _has_cjk(value)]
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "text" and _has_cjk(value):
                    lines.append(node.lineno)
    return sorted(set(lines))


def test_the_scanner_finds_chinese_reply_text_in_every_form() -> None:
    found = chinese_reply_texts(
        "d.utter_message(text='请输入姓名')\n"
        "d.utter_message(text=f'这个名字无法查询：{reason}')\n"
        "d.utter_message('您好')\n"
        "reply = {'text': '请问您要查哪类便民服务点？', 'buttons': []}\n"
        "d.utter_message(text='\\n'.join(['第一行', x]))\n"
        "d.utter_message(response='utter_booking_done', day=label)\n"
        "d.utter_message(text=reply['text'])\n"
        "Reply('utter_x', {'day': '明天'})\n"
    )
    assert found == [1, 2, 3, 4, 5]


def test_no_chinese_reply_text_in_actions() -> None:
    offenders = {relative(path): chinese_reply_texts(path.read_text("utf-8")) for path in modules()}
    offenders = {module: lines for module, lines in offenders.items() if lines}
    assert not offenders, (
        "Chinese reply text in code (put the sentence in data/responses/*.yml and send "
        f"utter_message(response=..., **values)): {offenders}"
    )


def response_names_in(source: str) -> tuple[set[str], set[str]]:
    """``utter_*`` string constants, and the constant prefixes of f-strings naming a response."""
    names: set[str] = set()
    prefixes: set[str] = set()
    tree = ast.parse(source)
    parts = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if RESPONSE_NAME.fullmatch(node.value) and id(node) not in parts:
                names.add(node.value)
        elif isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            if (
                isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and first.value.startswith("utter_")
            ):
                prefixes.add(first.value)
    return names, prefixes


def test_every_response_the_actions_send_exists() -> None:
    domain = load_domain()
    known = set(domain["responses"])
    retrieval = {a for a in domain["actions"] if a.startswith("utter_")}  # utter_faq …
    missing: dict[str, list[str]] = {}
    for path in modules():
        names, prefixes = response_names_in(path.read_text("utf-8"))
        for prefix in prefixes:
            assert prefix in DYNAMIC_RESPONSES, f"{relative(path)}: list the values of {prefix}*"
            names |= {prefix + value for value in DYNAMIC_RESPONSES[prefix]}
        absent = sorted(n for n in names if n not in known and n not in retrieval)
        if absent:
            missing[relative(path)] = absent
    assert not missing, f"responses the actions send but data/responses lacks: {missing}"


def test_the_check_would_see_a_missing_response() -> None:
    names, prefixes = response_names_in(
        'd.utter_message(response="utter_booking_done")\n'
        'OUT = {"full": "utter_no_such_reply"}\n'
        'Reply(f"utter_case_stage_{stage}")\n'
        '"""Docstring naming utter_booking_done is no name."""\n'
    )
    assert names == {"utter_booking_done", "utter_no_such_reply"}
    assert prefixes == {"utter_case_stage_"}
    assert "utter_no_such_reply" not in load_domain()["responses"]
