"""Grouping of similar questions (normalisation and leader clustering)."""

from __future__ import annotations

from bot.console.clustering import Clusterer, normalise
from tests.console.conftest import (
    MASKED_ID,
)

TZ = "Asia/Shanghai"


def test_similar_questions_share_a_group() -> None:
    assert normalise("身份证掉了咋整") == normalise("身份证丢了咋办！") == "身份证丢了怎么办"
    assert normalise(f"身份证{MASKED_ID}丢了") == "身份证#丢了"
    texts = [
        normalise(t)
        for t in (
            "身份证掉了咋整",
            "身份证丢了怎么补办",
            "身份证不见了怎么补办呢",
            "今天天气怎么样",
            "明天天气怎么样",
            "护照怎么办理",
            "港澳通行证怎么办理",
        )
    ]
    clusterer = Clusterer(threshold=0.5)
    clusterer.load(texts, [])
    keys = [k for k, _ in clusterer.assign(texts)]
    assert keys[1] == keys[2]  # 丢了/不见了 怎么补办
    assert keys[3] == keys[4]  # weather
    assert len({keys[0], keys[3], keys[5]}) == 3
    # New texts join the existing groups (incremental), new topics lead new groups.
    later = clusterer.assign([normalise("后天天气怎么样"), normalise("结婚证在哪领")])
    assert later[0] == (keys[3], False)
    assert later[1][1] is True
