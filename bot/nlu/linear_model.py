"""A linear text classifier over character n-grams and pinyin syllables (pure scikit-learn).

``LinearTextModel`` is what :class:`bot.nlu.linear.LinearIntentClassifier` wraps for Rasa:
TF-IDF over character n-grams (``char_wb``, sublinear term frequency), optionally hstack'ed
with TF-IDF over toneless pinyin syllable unigrams and bigrams (so a homophone slip of a
pinyin input method, 户叩 for 户口, still looks like the right word), and a linear classifier
on top:

- ``svm``: ``LinearSVC`` (one-vs-rest). Its decision scores are turned into probabilities by
  a softmax with a temperature fitted on cross-validated scores of the training data, so a
  confidence of 0.5 means roughly "right half of the time";
- ``logreg``: multinomial ``LogisticRegression`` and its own ``predict_proba``.

Everything is deterministic given ``random_seed``. No Rasa imports here.
"""

from __future__ import annotations

import pickle
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np
import scipy.optimize
import scipy.sparse
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from bot.nlu.pinyin import grams, syllables, typed_syllables
from bot.numbers import find_numbers

CLASSIFIERS = ("svm", "logreg")
#: Digit runs long enough to be an identifier (case numbers); phones and ID-card numbers in any
#: spelling are found by :func:`bot.numbers.find_numbers`.
_LONG_DIGITS = re.compile(r"\d{5,}")
#: Spaces between two Chinese characters ("身份证 丢了 怎么办"): Chinese has no word spaces, and
#: ``char_wb`` n-grams would take them for word boundaries.
_CJK_SPACE = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")


def without_numbers(text: str) -> str:
    """Lower-case ``text``, drop phone and ID-card numbers, write other long numbers as ``#``.

    Spaces between two Chinese characters are dropped too (also where a number stood), and
    punctuation and symbols become spaces (word boundaries for ``char_wb``): "三河？" is
    "三河". A question mark added to a message changed 1.3 % of the dev set's answers.

    The digits of a personal number say nothing about what a message is about: "我的身份证
    1101 0519 9001 0100 2X 丢了" is about a lost card, not a case lookup (whose training
    examples are full of digits). Case numbers keep their ``SL`` (``sl#``).

    Args:
        text: normalised text.

    Returns:
        The text the character n-grams are taken from.
    """
    parts: list[str] = []
    last = 0
    for match in find_numbers(text):
        parts += [text[last : match.start], " "]
        last = match.end
    parts.append(text[last:])
    joined = _CJK_SPACE.sub("", _LONG_DIGITS.sub("#", "".join(parts).lower()))
    return joined.translate(_PUNCTUATION)


class _PunctuationTable(dict):  # type: ignore[type-arg]
    """``str.translate`` table: punctuation and symbols (not ``#``) -> space, built lazily."""

    def __missing__(self, code: int) -> int:
        char = chr(code)
        category = unicodedata.category(char)
        value = ord(" ") if category[0] in "PS" and char != "#" else code
        self[code] = value
        return value


_PUNCTUATION = _PunctuationTable()

ANALYZERS = ("char", "char_wb")


class PinyinAnalyzer:
    """Analyzer for ``TfidfVectorizer``: toneless pinyin syllable unigrams and bigrams.

    A class (not a closure) so that the fitted vectorizer can be pickled with the model.
    """

    def __init__(self, table: Dict[str, str]) -> None:
        """Keep the character -> pinyin table (see :func:`bot.nlu.pinyin.pinyin_table`)."""
        self.table = table

    def __call__(self, text: str) -> List[str]:
        """The syllable grams of ``text`` (its Chinese characters and typed pinyin)."""
        known = self.__dict__.get("typed")  # absent from models pickled before it existed
        if known is None:
            known = self.typed = typed_syllables(self.table)
        return grams(syllables(text, self.table, known))


def softmax(scores: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``scores / temperature``.

    Args:
        scores: ``(n, classes)`` decision scores.
        temperature: divides the scores (smaller: sharper).

    Returns:
        Probabilities of the same shape, rows summing to 1.
    """
    z = scores / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def fit_temperature(scores: np.ndarray, targets: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of ``softmax(scores / T)``.

    Args:
        scores: ``(n, classes)`` held-out decision scores.
        targets: ``(n,)`` index of the true class of each row.

    Returns:
        The temperature (searched over 1e-3 .. 1e2 on a log scale).
    """
    rows = np.arange(len(targets))

    def nll(log_t: float) -> float:
        p = softmax(scores, float(np.exp(log_t)))[rows, targets]
        return float(-np.log(np.clip(p, 1e-12, None)).mean())

    found = scipy.optimize.minimize_scalar(
        nll, bounds=(np.log(1e-3), np.log(1e2)), method="bounded"
    )
    return float(np.exp(found.x))


def _char_gram(gram: str) -> bool:
    """Character n-grams of two or more characters (single characters say little)."""
    return len(gram.strip()) >= 2


def _syllable_bigram(gram: str) -> bool:
    """Pinyin syllable bigrams (``qian_chu``), not single syllables."""
    return "_" in gram


@dataclass
class LinearTextModel:
    """Character n-gram (+ pinyin) TF-IDF features and a linear classifier.

    Attributes:
        analyzer: ``char_wb`` or ``char`` (``TfidfVectorizer``'s analyzer).
        ngram: smallest and largest character n-gram.
        pinyin_table: character -> toneless pinyin; ``None`` turns pinyin features off.
        classifier: ``svm`` (LinearSVC + calibrated softmax) or ``logreg``.
        C: inverse regularisation strength.
        class_weight: ``"balanced"`` or ``None``.
        random_seed: seed of the classifier and of the calibration folds.
        calibration_folds: folds of the cross-validation that fits the temperature.
    """

    analyzer: str = "char_wb"
    ngram: tuple[int, int] = (1, 3)
    pinyin_table: Dict[str, str] | None = None
    classifier: str = "svm"
    C: float = 1.0
    class_weight: str | None = "balanced"
    random_seed: int = 2026
    calibration_folds: int = 5

    def __post_init__(self) -> None:
        """Check the settings; nothing is fitted yet."""
        if self.analyzer not in ANALYZERS:
            raise ValueError(f"analyzer must be one of {ANALYZERS}, not {self.analyzer!r}")
        if self.classifier not in CLASSIFIERS:
            raise ValueError(f"classifier must be one of {CLASSIFIERS}, not {self.classifier!r}")
        low, high = self.ngram
        if not 1 <= low <= high:
            raise ValueError(f"ngram must be [min, max] with 1 <= min <= max, not {self.ngram}")
        if self.C <= 0:
            raise ValueError(f"C must be positive, not {self.C}")
        if self.class_weight not in ("balanced", None):
            raise ValueError(f"class_weight must be 'balanced' or None, not {self.class_weight}")
        self.classes_: List[str] = []
        self.temperature = 1.0
        self._vectorizers: List[TfidfVectorizer] = []
        self._estimator: LinearSVC | LogisticRegression | None = None

    def _new_vectorizers(self) -> List[TfidfVectorizer]:
        vectorizers = [
            TfidfVectorizer(
                analyzer=self.analyzer,
                ngram_range=self.ngram,
                sublinear_tf=True,
                preprocessor=without_numbers,
            )
        ]
        if self.pinyin_table is not None:
            vectorizers.append(
                TfidfVectorizer(analyzer=PinyinAnalyzer(self.pinyin_table), sublinear_tf=True)
            )
        return vectorizers

    def _new_estimator(self) -> LinearSVC | LogisticRegression:
        if self.classifier == "svm":
            return LinearSVC(
                C=self.C,
                class_weight=self.class_weight,
                random_state=self.random_seed,
                dual=True,
                max_iter=5000,
            )
        return LogisticRegression(
            C=self.C, class_weight=self.class_weight, random_state=self.random_seed, max_iter=3000
        )

    def _features(self, texts: Sequence[str]) -> scipy.sparse.csr_matrix:
        blocks = [vectorizer.transform(texts) for vectorizer in self._vectorizers]
        return scipy.sparse.hstack(blocks, format="csr")

    def _scores(
        self, estimator: LinearSVC | LogisticRegression, x: scipy.sparse.spmatrix
    ) -> np.ndarray:
        scores = np.asarray(estimator.decision_function(x), dtype=float)
        if scores.ndim == 1:  # two classes: one score for the second one
            scores = np.stack([-scores, scores], axis=1)
        return scores

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> LinearTextModel:
        """Fit the features and the classifier (and, for ``svm``, the temperature).

        Args:
            texts: training texts (already normalised).
            labels: their labels (``faq/id_card_fees``, ``greet`` …), at least two distinct.

        Returns:
            The fitted model.
        """
        if len(set(labels)) < 2:
            raise ValueError("at least two labels are needed")
        self._vectorizers = self._new_vectorizers()
        blocks = [vectorizer.fit_transform(texts) for vectorizer in self._vectorizers]
        x = scipy.sparse.hstack(blocks, format="csr")
        y = np.asarray(labels)
        self._estimator = self._new_estimator().fit(x, y)
        self.classes_ = [str(c) for c in self._estimator.classes_]
        if self.classifier == "svm":
            self.temperature = self._calibrate(x, y)
        return self

    def _calibrate(self, x: scipy.sparse.csr_matrix, y: np.ndarray) -> float:
        """Temperature fitted on out-of-fold decision scores of the training data."""
        smallest = min(np.unique(y, return_counts=True)[1])
        folds = min(self.calibration_folds, int(smallest))
        if folds < 2:
            return 1.0
        split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_seed)
        index = {label: i for i, label in enumerate(self.classes_)}
        scores = np.full((len(y), len(self.classes_)), -1e3)
        for train, held_out in split.split(x, y):
            estimator = clone(self._new_estimator()).fit(x[train], y[train])
            columns = [index[str(c)] for c in estimator.classes_]
            scores[np.ix_(held_out, columns)] = self._scores(estimator, x[held_out])
        targets = np.asarray([index[str(label)] for label in y])
        return fit_temperature(scores, targets)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities ``(len(texts), len(classes_))`` of each label, rows summing to 1."""
        if self._estimator is None:
            raise RuntimeError("the model is not fitted")
        x = self._features(texts)
        if isinstance(self._estimator, LogisticRegression):
            probabilities = np.asarray(self._estimator.predict_proba(x))
        else:
            probabilities = softmax(self._scores(self._estimator, x), self.temperature)
        # No feature at all ("？", "……"): the scores are the intercepts, a guess of the
        # biggest class, not an answer. Every label is equally likely instead.
        featureless = np.asarray(x.getnnz(axis=1) == 0)
        probabilities[featureless] = 1.0 / len(self.classes_)
        return probabilities

    def known_fraction(self, texts: Sequence[str]) -> np.ndarray:
        """For each text, the share of its n-grams that were seen in training.

        Counted over character n-grams of 2+ characters and, with pinyin features, over
        pinyin syllable bigrams; the larger share counts, so a homophone slip (千处 for 迁出)
        is known by its sound. Gibberish ("阿巴阿巴阿巴", "zxcvbnm") and questions from far
        outside the domain share few n-grams with the training data, however confidently
        the linear model scores them. A text without such n-grams counts as fully known.

        Args:
            texts: normalised texts.

        Returns:
            ``(len(texts),)`` fractions in [0, 1].
        """
        if not self._vectorizers:
            raise RuntimeError("the model is not fitted")
        chars, *sounds = self._vectorizers
        analyzers = [(chars.build_analyzer(), chars.vocabulary_, _char_gram)]
        analyzers += [(v.build_analyzer(), v.vocabulary_, _syllable_bigram) for v in sounds]
        fractions = []
        for text in texts:
            shares = []
            for analyze, vocabulary, counted in analyzers:
                grams_ = [g for g in analyze(text) if counted(g)]
                if grams_:
                    shares.append(sum(g in vocabulary for g in grams_) / len(grams_))
            fractions.append(max(shares) if shares else 1.0)
        return np.asarray(fractions, dtype=float)

    def save(self, path: Path) -> None:
        """Pickle the fitted model to ``path``."""
        path.write_bytes(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))

    @classmethod
    def load(cls, path: Path) -> LinearTextModel:
        """Unpickle a model written by :meth:`save`."""
        model = pickle.loads(path.read_bytes())
        if not isinstance(model, cls):
            raise TypeError(f"{path} does not hold a {cls.__name__}")
        return model
