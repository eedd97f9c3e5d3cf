"""Ranking facts for a question and deciding whether to answer, ask, or decline.

Two signals are fused per fact: the cosine of the question with the fact's rows in embedding
space (when the model reads the question's script) and the character n-gram TF-IDF cosine, each
averaged over the fact's ``TOP_ROWS`` best-matching rows, so one stray look-alike row weighs less
than several agreeing ones. Scores of the two modes ("fused" and "lexical") live on different
scales, so each has its own calibrated threshold (see ``calibrate``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

import numpy as np

from knowledge.embedder import Embedder
from knowledge.index import DECLINE, KnowledgeIndex, Row
from knowledge.schema import Fact, Source
from knowledge.text import clean_query, fold

Mode = Literal["fused", "lexical"]
DEFAULT_THRESHOLDS: dict[str, float] = {"fused": 0.5, "lexical": 0.4}
CANDIDATE_ROWS = 64
TOP_ROWS = 3  # a fact's score is the mean of its best rows' scores (missing rows count as 0)


@dataclass(frozen=True)
class Hit:
    """One ranked fact with the evidence behind its score."""

    fact: Fact
    source: Source
    score: float
    lexical: float
    dense: float | None
    mode: Mode
    matched: Row

    def statement(self, lang: str) -> str:
        """The answer text in ``lang``, figures formatted for that language."""
        return self.fact.render(lang)

    def label(self, lang: str) -> str:
        """The fact's short title in ``lang``, for a "which did you mean?" button."""
        return self.fact.label.get(lang)


@dataclass(frozen=True)
class Ranking:
    """Facts best first, and how well the best out-of-scope anchor matched (0 if none did)."""

    hits: list[Hit]
    decline: float = 0.0

    @property
    def declined_by_anchor(self) -> bool:
        """An out-of-scope anchor matches at least as well as the top fact.

        (Comparing with the fact's single best row instead declined 4% fewer anchors and answered
        1% more questions in leave-one-out; the wrong-answer cost favours this rule.)"""
        return bool(self.hits) and self.decline >= self.hits[0].score


@dataclass(frozen=True)
class Decision:
    """What to do with a question: answer with one fact, ask between two, or say we don't know."""

    kind: Literal["answer", "clarify", "unknown"]
    hits: tuple[Hit, ...]
    threshold: float
    ranked: tuple[Hit, ...] = ()  # every ranked fact, best first: the answer's neighbours in time

    @property
    def confidence(self) -> float:
        return self.hits[0].score if self.hits else 0.0


class Retriever:
    """Searches one loaded index; immutable, so a reload swaps in a new Retriever."""

    def __init__(
        self,
        index: KnowledgeIndex,
        embedder: Embedder | None,
        *,
        thresholds: dict[str, float] | None = None,
        margin: float = 0.04,
        dense_weight: float = 0.5,
        max_query_chars: int = 1_000,
    ) -> None:
        self.index = index
        self.embedder = embedder if index.dense is not None else None
        self.thresholds = {**DEFAULT_THRESHOLDS, **index.manifest.calibration, **(thresholds or {})}
        self.margin = margin
        self.dense_weight = dense_weight
        self.max_query_chars = max_query_chars
        self._row_fact = index.row_fact
        self._decline_group = index.fact_ids.index(DECLINE) if DECLINE in index.fact_ids else -1

    def search(self, text: str, k: int = 5) -> list[Hit]:
        """The ``k`` best facts for ``text``, best first; [] when the text has no words at all."""
        return self.rank(text, k).hits

    def rank(self, text: str, k: int = 5, *, exclude: Collection[int] = ()) -> Ranking:
        """Rank facts and the decline anchors; ``exclude`` hides rows (leave-one-out calibration)."""
        query = clean_query(text, self.max_query_chars)
        if not fold(query):
            return Ranking([])
        lexical = self.index.lexical.scores(query)
        excluded = np.fromiter(exclude, dtype=np.int64) if exclude else None
        if excluded is not None:
            lexical[excluded] = 0.0
        candidates = _top_rows(lexical, CANDIDATE_ROWS)
        vector = None
        if self.embedder is not None and self.embedder.reads(query):
            assert self.index.dense is not None
            vector = self.embedder.encode_query(query)
            found = min(CANDIDATE_ROWS + len(exclude), self.index.dense.ntotal)
            _, rows = self.index.dense.search(vector[None, :], found)
            candidates = np.concatenate([candidates, rows[0][rows[0] >= 0]])
        groups = np.unique(self._row_fact[candidates]) if len(candidates) else np.array([], np.int64)
        is_decline = groups == self._decline_group
        facts = _GroupScores.of(self, groups[~is_decline], lexical, vector, excluded, TOP_ROWS)
        anchors = _GroupScores.of(self, groups[is_decline], lexical, vector, excluded, 1)
        decline = float(anchors.score[0]) if len(anchors.score) else 0.0
        order = np.argsort(-facts.score, kind="stable")[:k]
        return Ranking([facts.hit(self, i) for i in order], decline)

    def decide(self, ranking: Ranking, *, on_topic: bool = False) -> Decision:
        """Answer above the threshold; offer two facts whose scores are within the margin;
        decline below it, or when an out-of-scope anchor matches better than any fact, unless the
        conversation already established the topic (``on_topic``: a follow-up such as "and the
        price?" reads like an off-topic price question on its own)."""
        hits = ranking.hits
        if not hits:
            return Decision("unknown", (), self.thresholds["lexical"])
        top = hits[0]
        threshold = self.thresholds[top.mode]
        if top.score < threshold or (ranking.declined_by_anchor and not on_topic):
            return Decision("unknown", tuple(hits[:3]), threshold)
        if len(hits) > 1 and top.score - hits[1].score < self.margin and not self._same_chain(top, hits[1]):
            return Decision("clarify", (top, hits[1]), threshold)
        return Decision("answer", (top,), threshold, tuple(hits))

    def _same_chain(self, a: Hit, b: Hit) -> bool:
        """Then and now of one subject: "which did you mean?" is no question, since the answer
        shows both ends of the chain (``knowledge.timeline``)."""
        kb = self.index.kb
        return kb.newest(a.fact).id == kb.newest(b.fact).id

    def ask(self, text: str, *, on_topic: bool = False) -> Decision:
        return self.decide(self.rank(text), on_topic=on_topic)


def _top_mean(scores: np.ndarray, k: int) -> np.ndarray:
    """Per row, the mean of the ``k`` best scores; negatives and missing rows count as 0."""
    if scores.shape[1] > k:
        scores = np.partition(scores, scores.shape[1] - k, axis=1)[:, -k:]
    return np.maximum(scores, 0.0).sum(axis=1) / k


@dataclass(frozen=True)
class _GroupScores:
    """Scores of many groups at once: their rows are gathered into one padded matrix, so a query
    costs a few array operations instead of a Python loop over candidates.

    A fact's rows all say one thing, so several agreeing rows count (mean of the best
    ``TOP_ROWS``); the decline anchors are unrelated topics, so their single best row counts.
    """

    score: np.ndarray
    lexical: np.ndarray
    dense: np.ndarray | None
    best_row: np.ndarray

    @classmethod
    def of(
        cls,
        retriever: Retriever,
        groups: np.ndarray,
        lexical: np.ndarray,
        vector: np.ndarray | None,
        excluded: np.ndarray | None,
        top: int,
    ) -> _GroupScores:
        if not len(groups):
            empty = np.zeros(0, dtype=np.float32)
            return cls(empty, empty, None, np.zeros(0, dtype=np.int64))
        bounds = retriever.index.bounds
        starts, lengths = bounds[groups], bounds[groups + 1] - bounds[groups]
        width = int(lengths.max())
        offsets = np.arange(width)
        valid = offsets < lengths[:, None]
        rows = np.where(valid, starts[:, None] + offsets, 0)
        lex_rows = np.where(valid, lexical[rows], 0.0)
        lex = _top_mean(lex_rows, top)
        pick = np.arange(len(groups))
        best = rows[pick, np.argmax(lex_rows, axis=1)]
        dense = None
        score = lex
        if vector is not None:
            flat = rows[valid]
            sims_flat = retriever.index.vectors(flat) @ vector
            if excluded is not None:
                sims_flat[np.isin(flat, excluded)] = -1.0
            sims = np.full(rows.shape, -1.0, dtype=np.float32)
            sims[valid] = sims_flat
            dense = _top_mean(sims, top)
            w = retriever.dense_weight
            score = w * dense + (1 - w) * lex
            best = np.where(dense * w >= lex * (1 - w), rows[pick, np.argmax(sims, axis=1)], best)
        return cls(np.round(score, 6), lex, dense, best)

    def hit(self, retriever: Retriever, i: int) -> Hit:
        row = retriever.index.rows[int(self.best_row[i])]
        fact = retriever.index.kb.facts[row.fact_id]
        return Hit(
            fact=fact,
            source=retriever.index.kb.source_of(fact),
            score=float(self.score[i]),
            lexical=float(self.lexical[i]),
            dense=None if self.dense is None else float(self.dense[i]),
            mode="lexical" if self.dense is None else "fused",
            matched=row,
        )


def _top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    positive = np.flatnonzero(scores > 0)
    if len(positive) <= k:
        return positive
    return positive[np.argpartition(scores[positive], -k)[-k:]]
