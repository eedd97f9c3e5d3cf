"""Learning how to decide from the knowledge base itself.

An example question should be answered with its fact; an anchor should be declined. That is
labelled data, used one of two ways:

- the question classifier (``knowledge.classifier``), fitted on every example question and anchor,
  with its answer threshold chosen on cross-validated probabilities;
- when the base is too small or too large for one, the similarity thresholds, one per mode: every
  example question and anchor is searched with its own row left out, as a new question would be.

Either way the cut maximises (right answers − WRONG_ANSWER_COST × wrong answers): a wrong answer
costs a citizen more than an honest "I don't know". The question sets in tests/data are never used
here, so ``eval`` on them measures what calibration did not see.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.classifier import NOT_OURS, Classifier, fit
from knowledge.index import DECLINE, KnowledgeIndex, Row
from knowledge.loader import read_yaml
from knowledge.retriever import DEFAULT_THRESHOLDS, Retriever
from knowledge.schema import LANGUAGES

OUT_OF_SCOPE_FILE = Path(__file__).resolve().parent / "out_of_scope.yml"
WRONG_ANSWER_COST = 3.0
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
    supersedes chain counts as right: the answer shows both ends of the chain (``timeline``).
    ``retriever`` must rank by similarity (no classifier)."""
    kb = retriever.index.kb
    samples = []
    for i, row in enumerate(retriever.index.rows):
        if row.kind == "statement":
            continue
        ranking = retriever.rank(row.text, k=1, exclude=[i])
        if not ranking.hits:
            continue
        top = ranking.hits[0]
        right = row.kind == "question" and kb.newest(top.fact).id == kb.newest(kb.facts[row.fact_id]).id
        score = -1.0 if ranking.declined_by_anchor else top.score
        samples.append(Sample(top.mode, score, right))
    return samples


def fit_classifier(index: KnowledgeIndex) -> Classifier | None:
    """The classifier over every indexed text (labelled with its fact's supersedes chain, or "not
    ours" for an anchor), reading the vectors the index stored for them. The statements count
    too: on the regression sets they raised answered-right by 0.06 in kk and ru."""
    kb = index.kb
    rows = index.rows
    picked = list(range(len(rows)))
    labels = [NOT_OURS if r.fact_id == DECLINE else kb.newest(kb.facts[r.fact_id]).id for r in rows]
    vectors = index.vectors(np.array(picked)) if index.dense is not None and picked else None
    return fit([r.text for r in rows], vectors, labels, translation_groups(rows), WRONG_ANSWER_COST)


def translation_groups(rows: list[Row]) -> list[str]:
    """Which rows say the same thing: a fact's statement in its three languages, and its n-th
    example question in each language (the files list translations in the same order); likewise
    the n-th anchor of each language. Where a fact's lists differ in length, some groups pair
    questions that are not translations: the folds stay valid, only less strict."""
    seen: dict[tuple[str, str, str], int] = {}
    groups = []
    for row in rows:
        if row.kind == "statement":
            groups.append(f"{row.fact_id}:statement")
            continue
        position = seen.get((row.fact_id, row.lang, row.kind), 0)
        seen[(row.fact_id, row.lang, row.kind)] = position + 1
        groups.append(f"{row.fact_id}:{position}")
    return groups


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


def calibrate(retriever: Retriever) -> tuple[dict[str, float], Classifier | None]:
    """The classifier, or without one the similarity thresholds per mode (the leave-one-out pass
    costs as long as the classifier's fit, and only the similarity rule reads them)."""
    classifier = fit_classifier(retriever.index)
    if classifier is not None:
        return {}, classifier
    samples = collect_samples(retriever)
    thresholds: dict[str, float] = {}
    for mode in DEFAULT_THRESHOLDS:
        found = best_threshold([s for s in samples if s.mode == mode])
        if found is not None:
            thresholds[mode] = found
    return thresholds, None
