"""The confusion report: example questions that retrieve another fact, grouped by fact pair."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.cli import main
from knowledge.confusions import CROWDED_MIN, confusion_report, crowded_facts
from knowledge.index import build_index
from knowledge.loader import load_knowledge_base
from knowledge.retriever import Retriever
from tests.conftest import make_fact, write_yaml

PRICE = {
    "kk": ["бағасы қанша", "айына қанша төлеу керек", "қосылу қанша тұрады", "ақысы қанша"],
    "ru": ["сколько стоит", "какая цена в месяц", "сколько платить", "цена подключения"],
    "en": ["how much does it cost", "price per month", "what is the fee", "monthly price"],
}
# A careless new fact: its examples are the price questions reworded a little.
COPYCAT = {lang: [q + " сейчас" if lang != "en" else q + " now" for q in qs] for lang, qs in PRICE.items()}
LEGAL = {
    "kk": ["заңды ма", "рұқсат па", "тыйым салынған ба"],
    "ru": ["это законно", "разрешено ли", "запрещено ли"],
    "en": ["is it legal", "is it allowed", "is it banned"],
}


@pytest.fixture
def crowded(facts_dir: Path) -> Path:
    facts = [
        make_fact("price", questions=PRICE),
        make_fact("copycat", questions=COPYCAT),
        make_fact(
            "legal",
            questions=LEGAL,
            statement={"kk": "Бұл заңды.", "ru": "Это законно.", "en": "It is legal."},
        ),
    ]
    write_yaml(facts_dir / "pricing.yml", {"facts": facts})
    return facts_dir


def test_pairs_name_both_facts_and_the_questions(crowded: Path) -> None:
    kb = load_knowledge_base(crowded)
    report = confusion_report(Retriever(build_index(kb, None), None))
    pairs = {(c.asked, c.got): c for c in report.confusions}
    assert ("price", "copycat") in pairs or ("copycat", "price") in pairs
    assert not any(got == "legal" for _, got in pairs)  # no price question lands on the legal fact
    assert report.questions == sum(len(qs) for qs in (*PRICE.values(), *COPYCAT.values(), *LEGAL.values()))
    assert report.confused == sum(c.count for c in report.confusions) >= CROWDED_MIN


def test_validate_warns_about_a_crowding_fact(crowded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kb = load_knowledge_base(crowded)
    found = {c.fact_id: c for c in crowded_facts(kb, {})}
    assert "copycat" in found
    assert "legal" not in found
    assert found["copycat"].questions == sum(len(qs) for qs in COPYCAT.values())
    assert main(["--facts-dir", str(crowded), "validate"]) == 0  # a warning, not an error
    assert "warning: confusions [copycat]" in capsys.readouterr().out


def test_confusion_in_one_chain_is_marked(facts_dir: Path) -> None:
    facts = [
        make_fact("then", questions=PRICE),
        make_fact("now", questions=COPYCAT, as_of="2025-06", supersedes="then"),
    ]
    write_yaml(facts_dir / "pricing.yml", {"facts": facts})
    kb = load_knowledge_base(facts_dir)
    report = confusion_report(Retriever(build_index(kb, None), None))
    assert report.confusions
    assert all(c.same_chain for c in report.confusions)
    assert report.across_chains == 0
    assert crowded_facts(kb, {}) == []
