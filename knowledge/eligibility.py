"""The school check's verdict, from rules kept as data (``eligibility.yml``), not from code.

Maintainers change the rules when the programme publishes real criteria; the dialogue layer only
asks the questions and words the verdict. Answers may be unknown ("I don't know"): a rule's
condition then does not match, and the catch-all rule says honestly that we cannot tell.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from knowledge.dates import FlexibleDate
from knowledge.loader import KnowledgeBase, read_yaml
from knowledge.schema import Slug

RULES_FILE = Path(__file__).resolve().parent / "eligibility.yml"
Question = Literal["rural", "fibre", "mobile"]
Verdict = Literal["fits", "unlikely", "outside", "unknown"]


@dataclass(frozen=True)
class SchoolAnswers:
    """What the form collected; None where the user did not know or skipped."""

    rural: bool | None = None
    fibre: bool | None = None
    mobile: bool | None = None

    def get(self, question: str) -> bool | None:
        return getattr(self, question)


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: Slug
    when: dict[Question, bool]
    verdict: Verdict
    facts: list[Slug] = Field(min_length=1)

    def matches(self, answers: SchoolAnswers) -> bool:
        return all(answers.get(question) is value for question, value in self.when.items())


class RuleSet(BaseModel):
    """The rules, their source and review date; the last rule must match everything."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    source: Slug
    as_of: FlexibleDate
    review_by: FlexibleDate
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _ends_with_catch_all(self) -> RuleSet:
        if self.rules[-1].when:
            raise ValueError("the last rule must have an empty `when` so every answer gets a verdict")
        ids = [r.id for r in self.rules]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicate rule id")
        return self

    @classmethod
    def load(cls, path: Path = RULES_FILE) -> RuleSet:
        return cls.model_validate(read_yaml(path, 1_000_000))

    def problems(self, kb: KnowledgeBase) -> list[str]:
        """Cross-checks against the facts: the source and every cited fact must exist, and a
        verdict rests on current facts only (a superseded one describes the programme as it was)."""
        found = [] if self.source in kb.sources else [f"source {self.source!r} is not in sources.yml"]
        for rule in self.rules:
            for fact_id in rule.facts:
                if fact_id not in kb.facts:
                    found.append(f"rule {rule.id}: fact {fact_id!r} does not exist")
                elif not kb.is_current(kb.facts[fact_id]):
                    newer = kb.newest(kb.facts[fact_id]).id
                    found.append(f"rule {rule.id}: fact {fact_id!r} is history; cite {newer!r} instead")
        return found

    def assess(self, answers: SchoolAnswers) -> Rule:
        """The first rule that matches: always one, thanks to the catch-all."""
        return next(rule for rule in self.rules if rule.matches(answers))
