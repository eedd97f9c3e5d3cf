"""Time in the answers: what is true now, what was true then, and what changed lately.

Facts change (a ban becomes a launch, 447 schools become 1,700), and a superseded fact stays in
the base as history, because "was Starlink banned?" deserves its dated answer. Retrieval finds
whichever fact's wording fits the question best; this module decides how that fact is shown so
that history is never presented as the present: a superseded fact always comes with the newest
fact of its chain, and the question's own wording ("was", "раньше", "бұрын", "in 2023") decides
which of the two leads.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from knowledge.loader import KnowledgeBase
from knowledge.schema import Fact
from knowledge.text import fold

# Words that put a question in the past, folded (lowercase, Kazakh letters to their base).
# Past verb forms alone are not enough: Russian "сколько школ подключили" and Kazakh "тыйым
# салынған ба" ask about the present state, so only explicit markers count.
PAST_MARKERS = frozenset(
    {
        # en
        "was", "were", "before", "earlier", "previously", "formerly", "originally", "initially",
        "history", "past", "ago",
        # ru
        "был", "была", "было", "были", "раньше", "ранее", "прежде", "изначально", "сначала",
        "прошлом", "прошлого", "прошлый", "история",
        # kk (folded: бұрын -> бурын, ертеде, бастапқыда -> бастапкыда)
        "бурын", "бурынгы", "бурында", "ертеде", "бастапкыда", "алгаш", "алгашкы", "алгашында",
        "еди", "болатын", "тарихы",
    }
)  # fmt: skip
_YEAR = re.compile(r"\b(20\d\d)\b")


def asks_about_past(question: str, now: Fact | None = None) -> bool:
    """Whether ``question`` asks how things were, rather than how they are.

    A year counts as the past when it is before the year of ``now`` (the newest fact on the
    subject): "в 2024 году" asks for history once a 2025 report exists, not before."""
    words = set(fold(question).split())
    if words & PAST_MARKERS:
        return True
    if now is None:
        return False
    return any(int(year) < now.as_of.year for year in _YEAR.findall(question))


@dataclass(frozen=True)
class Timeline:
    """How to show one retrieved fact: ``lead`` first; ``other`` beside it (the current state
    under a history answer, or the history under the current one); ``earlier`` are the facts
    ``lead``'s chain replaced, offered as buttons."""

    lead: Fact
    other: Fact | None = None
    earlier: tuple[Fact, ...] = ()
    lead_is_history: bool = False  # then ``other`` is the current fact; else ``other`` is history


def place(
    kb: KnowledgeBase,
    fact: Fact,
    question: str = "",
    *,
    past: bool = False,
    ranked: Sequence[Fact] = (),
) -> Timeline:
    """The retrieved ``fact`` in time. A current fact answers alone, with the facts it replaced
    as buttons, unless the question is about the past and one of those facts is among the
    ``ranked`` candidates: then that history leads ("was Starlink banned in 2023?" may find the
    launch first by its words). A history fact is never shown alone: for a question about the
    past (or when ``past`` says the user asked for this fact) it leads, followed by what is true
    now; otherwise the current fact leads and the history follows."""
    newest = kb.newest(fact)
    if newest.id == fact.id:
        if asks_about_past(question, fact):
            history = next((f for f in ranked if f.id != fact.id and kb.newest(f).id == fact.id), None)
            if history is not None:
                return Timeline(history, other=fact, lead_is_history=True)
        return Timeline(fact, earlier=tuple(kb.predecessors(fact)[:2]))
    if past or asks_about_past(question, newest):
        return Timeline(fact, other=newest, lead_is_history=True)
    return Timeline(newest, other=fact)


@dataclass(frozen=True)
class Change:
    """One entry of "what's new": a current fact and the date it became true."""

    fact: Fact
    replaced: tuple[Fact, ...]

    @property
    def date(self) -> dt.date:
        return self.fact.as_of.first_day


def recent_changes(kb: KnowledgeBase, limit: int = 5, since: dt.date | None = None) -> list[Change]:
    """The newest current facts, newest first: what a resident asking "what's new?" wants.

    Only facts about events count: the bot's own description (topic ``guidance``) is not news.
    Ties on the date keep the day-precise fact first (it is the more specific report)."""
    facts = [f for f in kb.current if f.topic != "guidance"]
    if since is not None:
        facts = [f for f in facts if f.as_of.last_day >= since]
    facts.sort(key=lambda f: (f.as_of.first_day, f.as_of.day is not None, f.id), reverse=True)
    return [Change(f, tuple(kb.predecessors(f))) for f in facts[:limit]]
