"""A question classifier learned from the knowledge base: which fact a question asks about.

Similarity says how alike two texts are, not whether a fact answers the question: scores of a
multilingual model sit in a narrow band, and a question can share its words with the wrong fact.
Every fact carries dozens of example questions in three languages and the out-of-scope anchors are
examples of "not ours", so the index build has labelled data. A multinomial logistic regression
over character and word n-grams and the question's embedding learns which words and meanings
tell the facts apart (a similarity score weighs every shared word alike). Its classes are the
supersedes chains (an answer shows both ends of a chain) and one "not ours" class.

Measured against a pairwise ranker over fourteen similarity features (the other candidate), on
the regression sets in tests/data: answered right 0.86–0.97 against 0.76–0.97 per language, with
fewer wrong answers; the figures are in docs/measurements.md.

It is trained in seconds at build time, so a fact update needs no Rasa retrain, and the answer
threshold is chosen on 5-fold cross-validated probabilities. Its weights grow with the number of
chains times the vocabulary, so a base of more than ``MAX_CHAINS`` chains is decided by the
calibrated similarity rule instead (``knowledge.retriever``).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold

from knowledge.text import fold

NOT_OURS = "~not-ours"  # the class of the out-of-scope anchors
MAX_CHAINS = 400  # ~400 classes × ~40k n-grams of float32 weights: ~64 MB
MIN_EXAMPLES = 20
VECTOR_WEIGHT = 3.0  # the embedding's scale against the unit-norm n-gram blocks
REGULARISATION = 100.0  # sklearn's C: the examples are clean, so the fit may follow them closely
FOLDS = 5
WORD = r"(?u)\b\w+\b"  # one-letter words count: "и", "а", "ал" change a question
FILE = "classifier.pkl"
# Part of the index's input hash: a change to the recipe rebuilds the index.
RECIPE = f"char2-4+word1-2:v{VECTOR_WEIGHT}:C{REGULARISATION}:group-folds{FOLDS}:max{MAX_CHAINS}"


def normalise(text: str) -> str:
    """What the n-grams read: folded (``knowledge.text``), lower case."""
    return fold(text).lower()


@dataclass
class Classifier:
    """The fitted model and its cross-validated thresholds."""

    chars: TfidfVectorizer
    words: TfidfVectorizer
    model: LogisticRegression
    answer: float  # answer when the likeliest chain is at least this likely
    alternative: float  # offer a runner-up at least this likely beside the answer
    cv: dict[str, float]  # cross-validated right/wrong shares at the threshold, for the manifest

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self.model.classes_]

    def probabilities(self, text: str, vector: np.ndarray | None) -> dict[str, float]:
        """Each class's probability for one question; ``vector`` is its query embedding, or None
        when the model does not read the question (its weights then see zeros)."""
        matrix = self._features([normalise(text)], None if vector is None else vector[None, :])
        return dict(zip(self.classes, self.model.predict_proba(matrix)[0].tolist(), strict=True))

    def _features(self, texts: list[str], vectors: np.ndarray | None) -> sparse.csr_matrix:
        return _stack(self.chars.transform(texts), self.words.transform(texts), vectors, self._dimension)

    @property
    def _dimension(self) -> int:
        return int(self.model.coef_.shape[1] - len(self.chars.vocabulary_) - len(self.words.vocabulary_))

    def summary(self) -> dict[str, Any]:
        """What the manifest records: enough to see what a build decided with."""
        return {
            "classes": len(self.classes),
            "answer": self.answer,
            "alternative": self.alternative,
            "cv": self.cv,
            "file": FILE,
        }

    def save(self, directory: Path) -> None:
        """Our own build directory, read back only by ``load`` in the same environment."""
        (directory / FILE).write_bytes(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))

    @staticmethod
    def load(directory: Path) -> Classifier:
        loaded = pickle.loads((directory / FILE).read_bytes())  # noqa: S301 - written by save()
        if not isinstance(loaded, Classifier):
            raise TypeError(f"{directory / FILE} holds no classifier")
        return loaded


def _stack(
    chars: sparse.spmatrix, words: sparse.spmatrix, vectors: np.ndarray | None, dimension: int
) -> sparse.csr_matrix:
    blocks = [chars, words]
    if dimension:
        dense = np.zeros((chars.shape[0], dimension), np.float32) if vectors is None else vectors
        blocks.append(sparse.csr_matrix(VECTOR_WEIGHT * dense))
    return sparse.hstack(blocks).tocsr()


def _fit_model(
    texts: list[str], vectors: np.ndarray | None, labels: np.ndarray
) -> tuple[TfidfVectorizer, TfidfVectorizer, LogisticRegression]:
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, dtype=np.float32)
    words = TfidfVectorizer(
        analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=WORD, dtype=np.float32
    )
    dimension = 0 if vectors is None else vectors.shape[1]
    matrix = _stack(chars.fit_transform(texts), words.fit_transform(texts), vectors, dimension)
    model = LogisticRegression(C=REGULARISATION, max_iter=2_000).fit(matrix, labels)
    model.coef_ = model.coef_.astype(np.float32)
    return chars, words, model


def best_threshold(confidence: np.ndarray, correct: np.ndarray, declined: np.ndarray, cost: float) -> float:
    """The cut maximising right answers minus ``cost`` × wrong ones, on held-out predictions;
    a prediction of "not ours" is never an answer."""
    best, best_gain = 0.5, -np.inf
    for cut in np.unique(np.round(confidence, 3)):
        answered = (confidence >= cut) & ~declined
        gain = (answered & correct).sum() - cost * (answered & ~correct).sum()
        if gain > best_gain:
            best, best_gain = float(cut), gain
    return best


def fit(
    texts: list[str], vectors: np.ndarray | None, labels: list[str], groups: list[str], cost: float
) -> Classifier | None:
    """Fit on the example questions and anchors; None when there is too little or too much to
    learn from (fewer than ``MIN_EXAMPLES``, fewer than two chains, or more than ``MAX_CHAINS``).

    ``groups`` names the texts that say the same thing (one question in three languages): a fold
    leaves a whole group out, so the threshold is chosen on questions the model has not seen in
    any language, as a resident's question will be."""
    y = np.array(labels)
    classes, counts = np.unique(y, return_counts=True)
    chains = len(set(classes) - {NOT_OURS})
    if len(y) < MIN_EXAMPLES or chains < 2 or chains > MAX_CHAINS:  # one chain: nothing to tell apart
        return None
    normalised = [normalise(t) for t in texts]
    rare = {c for c, n in zip(classes, counts, strict=True) if n < FOLDS}
    strata = np.array(["~rare" if c in rare else c for c in y])
    confidence = np.zeros(len(y))
    predicted = np.empty(len(y), dtype=object)
    folds = StratifiedGroupKFold(FOLDS, shuffle=True, random_state=0)
    for train, test in folds.split(normalised, strata, groups):
        chars, words, model = _fit_model(
            [normalised[i] for i in train], None if vectors is None else vectors[train], y[train]
        )
        dimension = 0 if vectors is None else vectors.shape[1]
        matrix = _stack(
            chars.transform([normalised[i] for i in test]),
            words.transform([normalised[i] for i in test]),
            None if vectors is None else vectors[test],
            dimension,
        )
        p = model.predict_proba(matrix)
        confidence[test] = p.max(axis=1)
        predicted[test] = model.classes_[p.argmax(axis=1)]
    correct = predicted == y
    declined = predicted == NOT_OURS
    answer = best_threshold(confidence, correct, declined, cost)
    answered = (confidence >= answer) & ~declined
    in_scope = y != NOT_OURS
    cv = {
        "right": round(float((answered & correct & in_scope).sum() / max(in_scope.sum(), 1)), 3),
        "wrong": round(float((answered & ~correct & in_scope).sum() / max(in_scope.sum(), 1)), 3),
        "not_ours_declined": round(float((~answered[~in_scope]).mean()) if (~in_scope).any() else 1.0, 3),
    }
    chars, words, model = _fit_model(normalised, vectors, y)
    return Classifier(chars, words, model, round(answer, 3), round(answer / 2, 3), cv)
