"""The held-out question set: well-formed, independent of the facts, and answered well enough."""

from __future__ import annotations

from collections import Counter

import pytest

from knowledge.cli import DEFAULT_QUESTIONS
from knowledge.evaluate import QuestionSet, evaluate
from knowledge.loader import load_knowledge_base
from knowledge.schema import LANGUAGES
from knowledge.service import KnowledgeService
from knowledge.text import fold
from tests.conftest import REAL_FACTS

QUESTIONS = QuestionSet.read(DEFAULT_QUESTIONS)


def test_enough_questions_per_language() -> None:
    in_scope = Counter(q.lang for q in QUESTIONS.questions)
    out = Counter(q.lang for q in QUESTIONS.out_of_scope)
    assert all(in_scope[lang] >= 40 for lang in LANGUAGES), in_scope
    assert all(out[lang] >= 10 for lang in LANGUAGES), out


def test_every_expected_fact_exists_and_every_fact_is_asked() -> None:
    kb = load_knowledge_base(REAL_FACTS)
    expected = {fact_id for q in QUESTIONS.questions for fact_id in q.expect}
    assert expected <= set(kb.facts)
    assert {f.id for f in kb.active} <= expected


def test_questions_are_not_copies_of_the_facts_examples() -> None:
    kb = load_knowledge_base(REAL_FACTS)
    examples = {fold(q) for f in kb.facts.values() for lang in LANGUAGES for q in f.questions.get(lang)}
    copies = [q.text for q in QUESTIONS.questions if fold(q.text) in examples]
    assert copies == []


@pytest.mark.model
def test_retrieval_meets_the_targets_offline(service: KnowledgeService) -> None:
    reports = evaluate(service.retriever, QUESTIONS)
    figures = {lang: (round(r.recall_at_1, 3), round(r.declined_share, 3)) for lang, r in reports.items()}
    assert set(figures) == set(LANGUAGES)
    assert all(at1 >= 0.9 and declined >= 0.9 for at1, declined in figures.values()), figures
