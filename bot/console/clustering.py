"""Grouping of similar unanswered questions.

Two steps:

1. :func:`normalise` maps a question to a canonical form: full-width → half-width, lower case,
   no punctuation/emoji/spaces, masked personal numbers and other digit runs → placeholders,
   colloquial variants → one spelling (咋整/咋办/怎么弄 → 怎么办, 掉了/弄丢了 → 丢了, 啥 → 什么,
   户口本 → 户口簿, ...), trailing particles dropped. "身份证掉了咋整" and "身份证丢了咋办" both
   become "身份证丢了怎么办", so they share one row of ``console_texts``.
2. :class:`Clusterer` groups distinct normalised texts by character n-gram (1–3) TF-IDF cosine
   similarity with incremental leader clustering: texts are taken in order of first appearance;
   each joins the most similar existing group if the similarity reaches the threshold, otherwise
   it leads a new group. Groups are therefore stable as new questions arrive (a group's key is a
   hash of its leading text).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Longest variants first; applied in order.
_CANONICAL: tuple[tuple[str, str], ...] = (
    ("怎么办理", "怎么办"),
    ("如何办理", "怎么办"),
    ("怎样办理", "怎么办"),
    ("怎么处理", "怎么办"),
    ("如何处理", "怎么办"),
    ("该怎么办", "怎么办"),
    ("要怎么办", "怎么办"),
    ("怎么弄", "怎么办"),
    ("怎么整", "怎么办"),
    ("怎么搞", "怎么办"),
    ("怎样办", "怎么办"),
    ("如何办", "怎么办"),
    ("咋整", "怎么办"),
    ("咋办", "怎么办"),
    ("咋弄", "怎么办"),
    ("咋搞", "怎么办"),
    ("咋", "怎么"),
    ("啥", "什么"),
    ("弄丢了", "丢了"),
    ("搞丢了", "丢了"),
    ("掉了", "丢了"),
    ("丢失了", "丢了"),
    ("遗失了", "丢了"),
    ("不见了", "丢了"),
    ("找不到了", "丢了"),
    ("丢失", "丢了"),
    ("遗失", "丢了"),
    ("户口本", "户口簿"),
    ("补领", "补办"),
    ("重新办", "补办"),
    ("多少钱", "费用"),
    ("几块钱", "费用"),
    ("收费多少", "费用"),
    ("收多少钱", "费用"),
    ("在哪里", "在哪"),
    ("在哪儿", "在哪"),
    ("哪里", "哪"),
    ("身份证件", "身份证"),
    ("您好", ""),
    ("你好", ""),
    ("请问", ""),
    ("麻烦问下", ""),
    ("问一下", ""),
    ("问下", ""),
)
_MASKED = re.compile(r"[0-9xX]{2,4}\*{3,}[0-9xX]{3,4}")
_DIGITS = re.compile(r"\d+")
_DROP = re.compile(r"[\s\W_]+", re.UNICODE)
_TRAILING = re.compile(r"[吗呢啊呀吧哦嘛啦哈呗么]+$")
MAX_NORM_LENGTH = 200
_CHUNK = 256


def normalise(text: str) -> str:
    """Reduce a (masked) question to the canonical form used for grouping.

    Args:
        text: the question as typed (personal numbers already masked).

    Returns:
        The canonical form; never empty for non-empty input (falls back to the stripped text).

    """
    value = unicodedata.normalize("NFKC", text or "").lower()
    value = _MASKED.sub("#", value)
    value = _DIGITS.sub("0", value)
    kept = _DROP.sub("", value.replace("#", "井"))
    kept = kept.replace("井", "#")
    for variant, canonical in _CANONICAL:
        kept = kept.replace(variant, canonical)
    kept = _TRAILING.sub("", kept)
    if not kept:
        kept = value.strip()[:MAX_NORM_LENGTH] or "?"
    return kept[:MAX_NORM_LENGTH]


def cluster_key(leading_text: str) -> str:
    """Return the stable key of the group led by ``leading_text`` (16 hex characters)."""
    return hashlib.sha1(leading_text.encode("utf-8")).hexdigest()[:16]


@dataclass
class Clusterer:
    """Incremental leader clustering over char n-gram TF-IDF vectors.

    The vectoriser is fitted on all distinct texts known when it is (re)built; texts added later
    are transformed with it until the corpus has grown by ``refit_growth``, when it is refitted.

    Attributes:
        threshold: cosine similarity needed to join an existing group.
        refit_growth: relative corpus growth that triggers refitting the vectoriser.

    """

    threshold: float = 0.5
    refit_growth: float = 0.25
    _vectorizer: Any = None
    _fitted_on: int = 0
    _leader_keys: list[str] = field(default_factory=list)
    _leader_texts: list[str] = field(default_factory=list)
    _leader_matrix: Any = None

    def _fit(self, corpus: Sequence[str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self._vectorizer = TfidfVectorizer(
            analyzer="char", ngram_range=(1, 3), sublinear_tf=True, dtype=np.float32
        )
        self._vectorizer.fit(list(corpus) or ["?"])
        self._fitted_on = len(corpus)
        self._leader_matrix = (
            self._vectorizer.transform(self._leader_texts) if self._leader_texts else None
        )

    def load(self, corpus: Sequence[str], leaders: Sequence[tuple[str, str]]) -> None:
        """(Re)build the model from the known texts and the existing groups.

        Args:
            corpus: every distinct normalised text known.
            leaders: ``(key, leading normalised text)`` of every existing group.

        """
        self._leader_keys = [k for k, _ in leaders]
        self._leader_texts = [t for _, t in leaders]
        self._fit(corpus)

    def needs_refit(self, corpus_size: int) -> bool:
        """Whether the corpus grew enough since the last fit to refit the vectoriser."""
        if self._vectorizer is None:
            return True
        return corpus_size > max(50, self._fitted_on) * (1 + self.refit_growth)

    def assign(self, texts: Sequence[str]) -> list[tuple[str, bool]]:
        """Assign new texts (in order) to groups, creating groups where needed.

        Args:
            texts: normalised texts not yet in any group, oldest first.

        Returns:
            One ``(group key, is_new_group)`` per text.

        """
        if not texts:
            return []
        if self._vectorizer is None:
            self._fit(texts)
        from scipy.sparse import vstack

        matrix = self._vectorizer.transform(list(texts))
        known = set(self._leader_keys)
        results: list[tuple[str, bool]] = []
        for start in range(0, len(texts), _CHUNK):
            sub = matrix[start : start + _CHUNK]
            size = sub.shape[0]
            if self._leader_matrix is not None and self._leader_matrix.shape[0]:
                block = (sub @ self._leader_matrix.T).toarray()
                best_idx = block.argmax(axis=1)
                best_sim = block.max(axis=1)
            else:
                best_idx = np.full(size, -1, dtype=np.int64)
                best_sim = np.full(size, -1.0, dtype=np.float32)
            inner = (sub @ sub.T).toarray()
            chunk_new: list[int] = []
            chunk_keys: list[str] = []
            for i in range(size):
                key: str | None = None
                sim = float(best_sim[i])
                if best_idx[i] >= 0:
                    key = self._leader_keys[int(best_idx[i])]
                if chunk_new:
                    sims = inner[i, chunk_new]
                    j = int(sims.argmax())
                    if float(sims[j]) > sim:
                        sim = float(sims[j])
                        key = chunk_keys[j]
                if key is not None and sim >= self.threshold:
                    results.append((key, False))
                    continue
                text = texts[start + i]
                key = cluster_key(text)
                if key in known:  # the same text led a group before
                    results.append((key, False))
                    continue
                known.add(key)
                chunk_new.append(i)
                chunk_keys.append(key)
                self._leader_texts.append(text)
                results.append((key, True))
            if chunk_new:
                added = sub[chunk_new]
                self._leader_matrix = (
                    added if self._leader_matrix is None else vstack([self._leader_matrix, added])
                ).tocsr()
                self._leader_keys.extend(chunk_keys)
        return results
