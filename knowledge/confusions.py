"""Which example questions retrieve another fact first: collisions to see before publishing.

Each example question is searched with its own row left out, as a resident's new question would
be (the same leave-one-out as ``calibrate``). A question whose best fact is another fact is a
confusion; grouped by (asked fact, retrieved fact), the pairs show a maintainer which two facts
read alike, usually because a new fact took over its neighbour's wording. A confusion inside one
supersedes chain matters less, since the answer shows both ends of the chain, so it is marked.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from knowledge.index import build_index
from knowledge.loader import KnowledgeBase
from knowledge.retriever import Retriever
from knowledge.schema import LANGUAGES

CROWDED_SHARE = 1 / 3  # of a fact's own example questions, lost to or taken from other facts
CROWDED_MIN = 3  # a warning needs at least this many confusions, whatever the share


@dataclass(frozen=True)
class Confusion:
    """Example questions of ``asked`` whose best match is ``got``."""

    asked: str
    got: str
    questions: tuple[tuple[str, str], ...]  # (lang, text)
    same_chain: bool

    @property
    def count(self) -> int:
        return len(self.questions)


@dataclass(frozen=True)
class ConfusionReport:
    questions: int
    confusions: list[Confusion]

    @property
    def confused(self) -> int:
        return sum(c.count for c in self.confusions)

    @property
    def across_chains(self) -> int:
        return sum(c.count for c in self.confusions if not c.same_chain)

    def lost_and_taken(self) -> tuple[Counter[str], Counter[str]]:
        """Per fact: its example questions that retrieve a fact of another chain (lost), and
        other facts' questions that retrieve it (taken)."""
        lost: Counter[str] = Counter()
        taken: Counter[str] = Counter()
        for c in self.confusions:
            if not c.same_chain:
                lost[c.asked] += c.count
                taken[c.got] += c.count
        return lost, taken


def confusion_report(retriever: Retriever) -> ConfusionReport:
    """Every example question of the index, left out and searched; pairs most confused first."""
    kb: KnowledgeBase = retriever.index.kb
    found: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    asked = 0
    for i, row in enumerate(retriever.index.rows):
        if row.kind != "question":
            continue
        asked += 1
        hits = retriever.rank(row.text, k=1, exclude=[i]).hits
        if hits and hits[0].fact.id != row.fact_id:
            found[(row.fact_id, hits[0].fact.id)].append((row.lang, row.text))
    confusions = [
        Confusion(
            a,
            b,
            tuple(questions),
            kb.newest(kb.facts[a]).id == kb.newest(kb.facts[b]).id,
        )
        for (a, b), questions in found.items()
    ]
    confusions.sort(key=lambda c: (-c.count, c.asked, c.got))
    return ConfusionReport(asked, confusions)


@dataclass(frozen=True)
class Crowding:
    fact_id: str
    questions: int
    lost: int
    taken: int


def crowded_facts(kb: KnowledgeBase, anchors: dict[str, list[str]]) -> list[Crowding]:
    """Facts that lose a third of their example questions to facts of other chains, or take as
    many from them, by the lexical signal alone: ``validate`` runs before any model is loaded,
    and word overlap is what a maintainer's new wording usually adds. A new fact that copies its
    neighbour's wording shows up on both. ``confusions`` gives the full picture with the model."""
    retriever = Retriever(build_index(kb, None, anchors=anchors), None)
    lost, taken = confusion_report(retriever).lost_and_taken()
    found = []
    for fact in kb.facts.values():
        own = sum(len(fact.questions.get(lang)) for lang in LANGUAGES)
        worst = max(lost[fact.id], taken[fact.id])
        if worst >= CROWDED_MIN and worst >= CROWDED_SHARE * own:
            found.append(Crowding(fact.id, own, lost[fact.id], taken[fact.id]))
    return sorted(found, key=lambda c: (-max(c.lost, c.taken) / c.questions, c.fact_id))
