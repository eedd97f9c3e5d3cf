"""Time in the answers: history is never shown as the present, and "what's new" is newest first."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from knowledge.loader import KnowledgeBase, load_knowledge_base
from knowledge.timeline import asks_about_past, place, recent_changes
from tests.conftest import make_fact, write_yaml


@pytest.fixture
def chain(facts_dir: Path) -> KnowledgeBase:
    """banned (2023-11) ← plan (2024-02) ← launched (2025-08-13), an unrelated fact, and the
    bot's own description."""
    pricing = [
        make_fact("banned", as_of="2023-11", review_by="2024-04"),
        make_fact("plan", as_of="2024-02", supersedes="banned"),
        make_fact("launched", as_of="2025-08-13", supersedes=["plan"]),
        make_fact("fee", as_of="2025-06"),
    ]
    write_yaml(facts_dir / "pricing.yml", {"facts": pricing})
    write_yaml(facts_dir / "guidance.yml", {"facts": [make_fact("scope", topic="guidance", as_of="2026-11")]})
    return load_knowledge_base(facts_dir, today=dt.date(2026, 12, 1))


@pytest.mark.parametrize(
    ("question", "past"),
    [
        ("was starlink banned", True),
        ("is starlink legal", False),
        ("старлинк раньше был запрещён?", True),
        ("старлинк законен?", False),
        ("сколько школ подключили", False),  # perfective past asks about the present state
        ("старлинкке бұрын тыйым салынған ба", True),
        ("старлинкке тыйым салынған ба", False),  # a present state in Kazakh
        ("сколько школ было в 2024 году", True),
    ],
)
def test_asks_about_past(question: str, past: bool) -> None:
    assert asks_about_past(question) is past


def test_a_year_is_the_past_only_before_the_newest_report(chain: KnowledgeBase) -> None:
    launched = chain.facts["launched"]
    assert asks_about_past("сколько школ в 2024 году", launched)
    assert not asks_about_past("what happens in 2025", launched)
    assert not asks_about_past("what happens in 2024")  # nothing newer to compare with


def test_history_fact_is_never_shown_alone(chain: KnowledgeBase) -> None:
    now = place(chain, chain.facts["banned"], "is starlink legal")
    assert (now.lead.id, now.other.id if now.other else None) == ("launched", "banned")
    assert not now.lead_is_history
    then = place(chain, chain.facts["banned"], "was starlink banned")
    assert (then.lead.id, then.other.id if then.other else None) == ("banned", "launched")
    assert then.lead_is_history


def test_chosen_history_fact_leads(chain: KnowledgeBase) -> None:
    chosen = place(chain, chain.facts["plan"], past=True)
    assert chosen.lead.id == "plan"
    assert chosen.other is not None
    assert chosen.other.id == "launched"


def test_current_fact_offers_what_it_replaced(chain: KnowledgeBase) -> None:
    current = place(chain, chain.facts["launched"], "is starlink legal")
    assert current.other is None
    assert [f.id for f in current.earlier] == ["plan"]
    assert place(chain, chain.facts["fee"], "price").earlier == ()


def test_current_and_history_sets(chain: KnowledgeBase) -> None:
    assert {f.id for f in chain.current} == {"launched", "fee", "scope"}
    assert chain.newest(chain.facts["banned"]).id == "launched"
    assert chain.successor(chain.facts["launched"]) is None


def test_history_does_not_go_stale(chain: KnowledgeBase) -> None:
    stale = [w for w in chain.warnings if "review_by" in w.message]
    assert stale == []  # "banned" is past its review_by, but it is history


def test_whats_new_lists_current_events_newest_first(chain: KnowledgeBase) -> None:
    changes = recent_changes(chain, limit=5)
    assert [c.fact.id for c in changes] == ["launched", "fee"]  # no history, no bot description
    assert [f.id for f in changes[0].replaced] == ["plan"]
    assert [c.fact.id for c in recent_changes(chain, since=dt.date(2025, 7, 1))] == ["launched"]
    assert [c.fact.id for c in recent_changes(chain, limit=1)] == ["launched"]


def test_a_question_about_the_past_finds_the_history_beside_the_current_fact(chain: KnowledgeBase) -> None:
    launched, banned, fee = chain.facts["launched"], chain.facts["banned"], chain.facts["fee"]
    ranked = [launched, fee, banned]
    then = place(chain, launched, "was starlink banned in 2023", ranked=ranked)
    assert (then.lead.id, then.other.id if then.other else None) == ("banned", "launched")
    now = place(chain, launched, "is starlink legal", ranked=ranked)
    assert (now.lead.id, now.other) == ("launched", None)
    assert place(chain, launched, "was it banned", ranked=[launched, fee]).lead.id == "launched"
