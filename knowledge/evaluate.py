"""Measuring retrieval on a question set: recall@1/@3 and what the user is shown per language
(answered right, answered wrong, the right fact offered beside a wrong answer, a bare clarification),
and the share of out-of-scope questions declined.

Recall counts the fact an answer leads with once placed in time: for "is Starlink legal?" the
2023 fact may rank first by wording, and the answer then leads with the 2025 launch, which is
what the question set expects.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from knowledge.loader import read_yaml
from knowledge.retriever import Retriever
from knowledge.schema import LANGUAGES, Lang
from knowledge.timeline import place


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    lang: Lang


class InScope(_Item):
    expect: list[str] = Field(min_length=1)


class QuestionSet(BaseModel):
    """``tests/data/questions.yml``: questions with the facts that answer them, and ones none does."""

    model_config = ConfigDict(extra="forbid")
    questions: list[InScope]
    out_of_scope: list[_Item]

    @classmethod
    def read(cls, path: Path) -> QuestionSet:
        return cls.model_validate(read_yaml(path, 5_000_000))


@dataclass
class LanguageReport:
    questions: int = 0
    at1: int = 0
    at3: int = 0
    answered_right: int = 0
    answered_wrong: int = 0  # the figure that costs trust: a confident answer with the wrong fact
    offered: int = 0  # answered wrong, but the right fact was offered beside it ("or did you mean")
    clarified: int = 0  # a bare "which of these?" with no answer
    out_of_scope: int = 0
    declined: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def recall_at_1(self) -> float:
        return self.at1 / self.questions if self.questions else 0.0

    @property
    def recall_at_3(self) -> float:
        return self.at3 / self.questions if self.questions else 0.0

    def share(self, count: int) -> float:
        """``count`` as a share of the in-scope questions."""
        return count / self.questions if self.questions else 0.0

    @property
    def declined_share(self) -> float:
        return self.declined / self.out_of_scope if self.out_of_scope else 0.0


def evaluate(retriever: Retriever, questions: QuestionSet) -> dict[str, LanguageReport]:
    """Run every question once; ``misses`` keeps the texts that failed, for maintainers to study."""
    reports: dict[str, LanguageReport] = defaultdict(LanguageReport)
    kb = retriever.index.kb
    for item in questions.questions:
        report = reports[item.lang]
        ranking = retriever.rank(item.text)  # as many as the answer path ranks, for ``place``
        # What the user is shown first: a history fact found for a question about now is shown
        # after the current fact of its chain (``knowledge.timeline``), so that one must be expected.
        facts = [hit.fact for hit in ranking.hits]
        leads = [place(kb, fact, item.text, ranked=facts).lead.id for fact in facts]
        decision = retriever.decide(ranking)
        report.questions += 1
        report.at1 += bool(leads[:1]) and leads[0] in item.expect
        report.at3 += any(i in item.expect for i in leads[:3])
        report.clarified += decision.kind == "clarify"
        report.answered_right += decision.kind == "answer" and leads[0] in item.expect
        wrong = decision.kind == "answer" and leads[0] not in item.expect
        report.answered_wrong += wrong
        alternative = decision.alternative
        report.offered += (
            wrong
            and alternative is not None
            and (place(kb, alternative.fact, item.text, ranked=facts).lead.id in item.expect)
        )
        if not leads or leads[0] not in item.expect:
            report.misses.append(f"{item.text!r} → {leads[:1] or 'nothing'} (want {item.expect})")
    for declined in questions.out_of_scope:
        report = reports[declined.lang]
        report.out_of_scope += 1
        decision = retriever.ask(declined.text)
        report.declined += decision.kind == "unknown"
        if decision.kind != "unknown":
            report.misses.append(f"{declined.text!r} (out of scope) → {decision.hits[0].fact.id}")
    return {lang: reports[lang] for lang in LANGUAGES if lang in reports}
