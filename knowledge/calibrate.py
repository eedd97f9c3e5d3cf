"""Choosing the answer thresholds from the knowledge base itself.

Every example question and every out-of-scope anchor is searched with its own row left out, as a
new question would be. An example question should be answered with its fact; an anchor should be
declined. For each mode the threshold that maximises (right answers − 1.5 × wrong answers) wins:
a wrong answer costs a citizen more than an honest "I don't know". The held-out set in
tests/data is never used here, so ``eval`` on it measures what calibration did not see.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.loader import read_yaml
from knowledge.retriever import DEFAULT_THRESHOLDS, Retriever
from knowledge.schema import LANGUAGES

OUT_OF_SCOPE_FILE = Path(__file__).resolve().parent / "out_of_scope.yml"
WRONG_ANSWER_COST = 1.5
FLOOR = 0.15


@dataclass(frozen=True)
class Sample:
    """One left-out question: its mode, its answer score (-1 if an anchor declined it), and
    whether answering would have been right."""

    mode: str
    score: float
    correct: bool


def read_anchors(path: Path = OUT_OF_SCOPE_FILE) -> dict[str, list[str]]:
    """The out-of-scope questions, per language; a malformed file is an error, not an empty list."""
    data = read_yaml(path, 1_000_000)
    anchors = data.get("out_of_scope") if isinstance(data, dict) else None
    if not isinstance(anchors, dict) or set(anchors) - set(LANGUAGES):
        raise ValueError(f"{path.name}: expected out_of_scope: with kk/ru/en lists")
    return {lang: [str(q).strip() for q in anchors.get(lang) or [] if str(q).strip()] for lang in LANGUAGES}


def anchors_hash(anchors: dict[str, list[str]]) -> str:
    blob = "\n".join(f"{lang}\t{q}" for lang in sorted(anchors) for q in anchors[lang])
    return hashlib.sha256(blob.encode()).hexdigest()


def collect_samples(retriever: Retriever) -> list[Sample]:
    """One sample per example question and anchor. Finding another fact of the question's own
    supersedes chain counts as right: the answer shows both ends of the chain (``timeline``)."""
    kb = retriever.index.kb
    samples = []
    for i, row in enumerate(retriever.index.rows):
        if row.kind == "statement":
            continue
        ranking = retriever.rank(row.text, k=1, exclude=[i])
        if not ranking.hits:
            continue
        top = ranking.hits[0]
        score = -1.0 if ranking.declined_by_anchor else top.score
        correct = row.kind == "question" and kb.newest(top.fact).id == kb.newest(kb.facts[row.fact_id]).id
        samples.append(Sample(top.mode, score, correct))
    return samples


def best_threshold(samples: list[Sample]) -> float | None:
    """The cut that maximises right answers minus weighted wrong ones; None without data."""
    if not any(s.correct for s in samples):
        return None
    scores = np.array([s.score for s in samples])
    correct = np.array([s.correct for s in samples])
    best, best_gain = FLOOR, -np.inf
    for cut in np.unique(scores[scores >= FLOOR]):
        above = scores >= cut
        gain = (above & correct).sum() - WRONG_ANSWER_COST * (above & ~correct).sum()
        if gain > best_gain:
            best, best_gain = float(cut), gain
    return round(best, 4)


def calibrate(retriever: Retriever) -> dict[str, float]:
    samples = collect_samples(retriever)
    thresholds: dict[str, float] = {}
    for mode in DEFAULT_THRESHOLDS:
        found = best_threshold([s for s in samples if s.mode == mode])
        if found is not None:
            thresholds[mode] = found
    return thresholds
