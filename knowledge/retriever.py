"""Ranking facts for a question and deciding whether to answer, ask, or decline.

Two signals find the candidates and describe each: the cosine of the question with the fact's
rows in embedding space (when the model reads the question's script) and the character n-gram
TF-IDF cosine, each averaged over the fact's ``TOP_ROWS`` best-matching rows, so one stray
look-alike row weighs less than several agreeing ones. The question classifier learned at build
time (``knowledge.classifier``) then gives each candidate the probability that its fact is the one
asked about; the decision answers first when one fact is likely, offers a close runner-up beside
the answer, and asks between two only when neither is likely enough on its own. A base too large
for the classifier is decided by the calibrated similarity scores instead.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

import numpy as np

from knowledge.classifier import NOT_OURS
from knowledge.embedder import Embedder, EncodedQuery
from knowledge.index import DECLINE, KnowledgeIndex, Row
from knowledge.schema import Fact, Source
from knowledge.text import fold
from texts.clean import clean_message

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
    confidence: float  # the classifier's probability of the fact's chain; ``score`` without one

    def statement(self, lang: str) -> str:
        """The answer text in ``lang``, figures formatted for that language."""
        return self.fact.render(lang)

    def label(self, lang: str) -> str:
        """The fact's short title in ``lang``, for a "which did you mean?" button."""
        return self.fact.label.get(lang)


@dataclass(frozen=True)
class Ranking:
    """Facts best first, how well the best out-of-scope anchor matched (0 if none did), and the
    classifier's probability that the question is not ours (None without a classifier)."""

    hits: list[Hit]
    decline: float = 0.0
    not_ours: float | None = None

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
    alternative: Hit | None = None  # a close runner-up, offered beside the answer ("or did you mean")
    off_topic: bool = False  # declined because an out-of-scope anchor matched better than any fact

    @property
    def confidence(self) -> float:
        return self.hits[0].confidence if self.hits else 0.0


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
        answer_threshold: float | None = None,
        use_classifier: bool = True,
    ) -> None:
        self.index = index
        self.embedder = embedder if index.dense is not None else None
        self.thresholds = {**DEFAULT_THRESHOLDS, **index.manifest.calibration, **(thresholds or {})}
        self.margin = margin
        self.dense_weight = dense_weight
        self.max_query_chars = max_query_chars
        self._row_fact = index.row_fact
        self._decline_group = index.fact_ids.index(DECLINE) if DECLINE in index.fact_ids else -1
        self._group = {fact_id: i for i, fact_id in enumerate(index.fact_ids)}
        self.classifier = index.classifier if use_classifier else None
        self.answer_threshold = answer_threshold  # overrides the classifier's calibrated one

    def search(self, text: str, k: int = 5) -> list[Hit]:
        """The ``k`` best facts for ``text``, best first; [] when the text has no words at all."""
        return self.rank(text, k).hits

    def rank(
        self,
        text: str,
        k: int = 5,
        *,
        exclude: Collection[int] = (),
        on_topic: bool = False,
        encoded: EncodedQuery | None = None,
    ) -> Ranking:
        """Rank facts and the decline anchors; ``exclude`` hides rows (leave-one-out training);
        ``on_topic`` when the conversation already established the topic, so the anchors do not
        count (a follow-up such as "and the price?" reads like an off-topic price question);
        ``encoded``: the question's vector when another process already has it."""
        query = clean_message(text, self.max_query_chars)
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
            if encoded is not None and encoded.serves(query, self.embedder):
                vector = encoded.vector
            else:
                vector = self.embedder.encode_query(query)
            found = min(CANDIDATE_ROWS + len(exclude), self.index.dense.ntotal)
            _, rows = self.index.dense.search(vector[None, :], found)
            candidates = np.concatenate([candidates, rows[0][rows[0] >= 0]])
        classes = None if self.classifier is None else self.classifier.probabilities(query, vector)
        if classes:  # the likeliest chains are candidates even when their wording differs
            likely = sorted((c for c in classes if c != NOT_OURS), key=classes.__getitem__)[-3:]
            candidates = np.concatenate([candidates, self.index.bounds[[self._group[c] for c in likely]]])
        groups = np.unique(self._row_fact[candidates]) if len(candidates) else np.array([], np.int64)
        is_decline = groups == self._decline_group
        fact_groups = groups[~is_decline]
        facts = _GroupScores.of(self, fact_groups, lexical, vector, excluded, TOP_ROWS)
        anchors = _GroupScores.of(self, groups[is_decline], lexical, vector, excluded, 1)
        decline = float(anchors.score[0]) if len(anchors.score) and not on_topic else 0.0
        if classes is None:
            order = np.argsort(-facts.score, kind="stable")[:k]
            return Ranking([facts.hit(self, i, float(facts.score[i])) for i in order], decline)
        not_ours = 0.0 if on_topic else classes.pop(NOT_OURS, 0.0)
        if on_topic:  # the topic is ours: share out what "not ours" held
            rest = 1.0 - classes.pop(NOT_OURS, 0.0)
            classes = {c: p / rest for c, p in classes.items()} if rest > 0 else classes
        kb = self.index.kb
        chain = [kb.newest(kb.facts[self.index.fact_ids[g]]).id for g in fact_groups]
        confidence = np.array([classes.get(c, 0.0) for c in chain], dtype=np.float64)
        order = np.lexsort((-facts.score, -confidence))[:k]
        return Ranking([facts.hit(self, i, float(confidence[i])) for i in order], decline, not_ours)

    def decide(self, ranking: Ranking) -> Decision:
        """Answer first: the likeliest fact when the classifier is confident, with a close
        runner-up offered beside it; "which did you mean?" only when neither of two plausible
        facts is likely enough alone; otherwise decline. Two facts of one supersedes chain are
        never a choice, since the answer shows both ends of the chain (``knowledge.timeline``)."""
        hits = ranking.hits
        if self.classifier is None or ranking.not_ours is None:
            return self._decide_by_similarity(ranking)
        answer = self.answer_threshold if self.answer_threshold is not None else self.classifier.answer
        alternative = answer / 2  # half as likely as an answer must be: worth one button
        if not hits:
            return Decision("unknown", (), answer)
        top = hits[0]
        if ranking.not_ours > top.confidence:
            return Decision("unknown", tuple(hits[:3]), answer, off_topic=True)
        runner = next((h for h in hits[1:] if not self._same_chain(top, h)), None)
        plausible = runner if runner is not None and runner.confidence >= alternative else None
        if top.confidence >= answer:
            return Decision("answer", (top,), answer, tuple(hits), plausible)
        if plausible is not None and top.confidence + plausible.confidence >= answer:
            return Decision("clarify", (top, plausible), answer)
        return Decision("unknown", tuple(hits[:3]), answer)

    def _decide_by_similarity(self, ranking: Ranking) -> Decision:
        """Without a classifier (a base too small or too large for one): a calibrated threshold on
        the similarity score, and a choice between two facts whose scores are within the margin."""
        hits = ranking.hits
        if not hits:
            return Decision("unknown", (), self.thresholds["lexical"])
        top = hits[0]
        threshold = self.thresholds[top.mode]
        if top.score < threshold or ranking.declined_by_anchor:
            return Decision("unknown", tuple(hits[:3]), threshold, off_topic=top.score >= threshold)
        if len(hits) > 1 and top.score - hits[1].score < self.margin and not self._same_chain(top, hits[1]):
            return Decision("clarify", (top, hits[1]), threshold)
        return Decision("answer", (top,), threshold, tuple(hits))

    def _same_chain(self, a: Hit, b: Hit) -> bool:
        """Then and now of one subject: "which did you mean?" is no question, since the answer
        shows both ends of the chain (``knowledge.timeline``)."""
        kb = self.index.kb
        return kb.newest(a.fact).id == kb.newest(b.fact).id

    def ask(self, text: str, *, on_topic: bool = False, encoded: EncodedQuery | None = None) -> Decision:
        return self.decide(self.rank(text, on_topic=on_topic, encoded=encoded))


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

    def hit(self, retriever: Retriever, i: int, confidence: float) -> Hit:
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
            confidence=confidence,
        )


def _top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    positive = np.flatnonzero(scores > 0)
    if len(positive) <= k:
        return positive
    return positive[np.argpartition(scores[positive], -k)[-k:]]
