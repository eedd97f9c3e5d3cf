"""School check verdicts come from the rules file, with their facts, for every answer pattern."""

from __future__ import annotations

import itertools

import pytest
from pydantic import ValidationError

from knowledge.eligibility import RuleSet, SchoolAnswers
from knowledge.loader import load_knowledge_base
from tests.conftest import REAL_FACTS


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return RuleSet.load()


def test_rules_cite_existing_facts_and_source(rules: RuleSet) -> None:
    assert rules.problems(load_knowledge_base(REAL_FACTS)) == []


@pytest.mark.parametrize(
    ("answers", "rule", "verdict"),
    [
        (SchoolAnswers(rural=True, fibre=False, mobile=False), "target-group", "fits"),
        (SchoolAnswers(rural=False, fibre=False, mobile=False), "not-rural", "outside"),
        (SchoolAnswers(rural=True, fibre=True, mobile=False), "has-fibre", "outside"),
        (SchoolAnswers(rural=True, fibre=False, mobile=True), "has-mobile", "unlikely"),
        (SchoolAnswers(rural=True, fibre=False, mobile=None), "not-enough-answers", "unknown"),
        (SchoolAnswers(), "not-enough-answers", "unknown"),
    ],
)
def test_verdicts(rules: RuleSet, answers: SchoolAnswers, rule: str, verdict: str) -> None:
    found = rules.assess(answers)
    assert (found.id, found.verdict) == (rule, verdict)


def test_every_answer_pattern_gets_exactly_one_verdict(rules: RuleSet) -> None:
    values = (True, False, None)
    for rural, fibre, mobile in itertools.product(values, values, values):
        verdict = rules.assess(SchoolAnswers(rural, fibre, mobile)).verdict
        fits = rural is True and fibre is False and mobile is False
        assert (verdict == "fits") == fits


def test_rules_without_a_catch_all_are_refused(rules: RuleSet) -> None:
    data = rules.model_dump(mode="json")
    data["rules"] = data["rules"][:-1]
    with pytest.raises(ValidationError, match="last rule must have an empty `when`"):
        RuleSet.model_validate(data)


def test_rule_citing_a_missing_fact_is_reported(rules: RuleSet) -> None:
    data = rules.model_dump(mode="json")
    data["rules"][0]["facts"] = ["no-such-fact"]
    broken = RuleSet.model_validate(data)
    assert broken.problems(load_knowledge_base(REAL_FACTS)) == [
        "rule target-group: fact 'no-such-fact' does not exist"
    ]
