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
from knowledge.text import clean_query, fold, latin_share

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
        return self.fact.statement.get(lang)


@dataclass(frozen=True)
class Ranking:
    """Facts best first, and how well the best out-of-scope anchor matched (0 if none did)."""

    hits: list[Hit]
    decline: float = 0.0


@dataclass(frozen=True)
class Decision:
    """What to do with a question: answer with one fact, ask between two, or say we don't know."""

    kind: Literal["answer", "clarify", "unknown"]
    hits: tuple[Hit, ...]
    threshold: float

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

    def _reads(self, text: str) -> bool:
        """Whether the embedding model understands this text (English-only models: Latin script)."""
        if self.embedder is None:
            return False
        if set(self.embedder.profile.languages) >= {"kk", "ru", "en"}:
            return True
        return "en" in self.embedder.profile.languages and latin_share(text) >= 0.6

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
        if self._reads(query):
            assert self.embedder is not None
            assert self.index.dense is not None
            vector = self.embedder.encode_query(query)
            found = min(CANDIDATE_ROWS + len(exclude), self.index.dense.ntotal)
            _, rows = self.index.dense.search(vector[None, :], found)
            candidates = np.concatenate([candidates, rows[0][rows[0] >= 0]])
        groups = np.unique(self._row_fact[candidates]) if len(candidates) else np.array([], np.int64)
        sims = self._dense_scores(groups, vector, excluded)
        decline = 0.0
        hits = []
        for group in groups.tolist():
            scored = self._score(group, lexical, sims.get(group))
            if group == self._decline_group:
                decline = scored[0]
            else:
                hits.append(self._hit(*scored))
        hits.sort(key=lambda h: h.score, reverse=True)
        return Ranking(hits[:k], decline)

    def _dense_scores(
        self, groups: np.ndarray, vector: np.ndarray | None, excluded: np.ndarray | None
    ) -> dict[int, np.ndarray]:
        """Exact cosine of ``vector`` with every row of the candidate groups, in one FAISS read."""
        if vector is None or not len(groups):
            return {}
        bounds = self.index.bounds
        rows = np.concatenate([np.arange(bounds[g], bounds[g + 1]) for g in groups])
        sims = self.index.vectors(rows) @ vector
        if excluded is not None:
            sims[np.isin(rows, excluded)] = -1.0
        splits = np.cumsum(bounds[groups + 1] - bounds[groups])[:-1]
        return dict(zip(groups.tolist(), np.split(sims, splits), strict=True))

    def _score(
        self, group: int, lexical: np.ndarray, sims: np.ndarray | None
    ) -> tuple[float, float, float | None, int]:
        """Fused score, lexical score, dense score and best row of one group's rows.

        A fact's rows all say one thing, so several agreeing rows count (mean of the best
        ``TOP_ROWS``); the decline anchors are unrelated topics, so their single best row counts.
        """
        start, end = int(self.index.bounds[group]), int(self.index.bounds[group + 1])
        top = 1 if group == self._decline_group else TOP_ROWS
        lex_rows = lexical[start:end]
        best_row, lex = start + int(np.argmax(lex_rows)), _top_mean(lex_rows, top)
        dense = None
        if sims is not None:
            dense = _top_mean(sims, top)
            score = self.dense_weight * dense + (1 - self.dense_weight) * lex
            if dense * self.dense_weight >= lex * (1 - self.dense_weight):
                best_row = start + int(np.argmax(sims))
        else:
            score = lex
        return round(score, 6), lex, dense, best_row

    def _hit(self, score: float, lex: float, dense: float | None, best_row: int) -> Hit:
        row = self.index.rows[best_row]
        fact_obj = self.index.kb.facts[row.fact_id]
        return Hit(
            fact=fact_obj,
            source=self.index.kb.source_of(fact_obj),
            score=round(score, 6),
            lexical=lex,
            dense=dense,
            mode="fused" if dense is not None else "lexical",
            matched=row,
        )

    def decide(self, ranking: Ranking) -> Decision:
        """Answer above the threshold; offer two facts whose scores are within the margin;
        decline below it, or when an out-of-scope anchor matches better than any fact."""
        hits = ranking.hits
        if not hits:
            return Decision("unknown", (), self.thresholds["lexical"])
        top = hits[0]
        threshold = self.thresholds[top.mode]
        if top.score < threshold or ranking.decline >= top.score:
            return Decision("unknown", tuple(hits[:3]), threshold)
        if len(hits) > 1 and top.score - hits[1].score < self.margin:
            return Decision("clarify", (top, hits[1]), threshold)
        return Decision("answer", (top,), threshold)

    def ask(self, text: str) -> Decision:
        return self.decide(self.rank(text))


def _top_mean(scores: np.ndarray, k: int = TOP_ROWS) -> float:
    """Mean of the ``k`` best scores, negatives and missing rows counted as 0."""
    return float(np.maximum(np.sort(scores)[-k:], 0.0).sum() / k)


def _top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    positive = np.flatnonzero(scores > 0)
    if len(positive) <= k:
        return positive
    return positive[np.argpartition(scores[positive], -k)[-k:]]
