"""Figures in statements: formatted per language by Babel, checked so no brace reaches a reader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from knowledge.figures import Figure
from knowledge.index import rows_for
from knowledge.loader import KnowledgeBaseError, load_knowledge_base
from knowledge.schema import LANGUAGES, Fact
from tests.conftest import REAL_FACTS, make_fact, write_yaml

NBSP = "\u00a0"

TEMPLATE = {
    "kk": "Бір нүкте айына шамамен {fee} тұрады; {schools} мектеп.",
    "ru": "Одна точка стоит около {fee} в месяц; {schools} школ.",
    "en": "One point costs about {fee} a month; {schools} schools.",
}
FIGURES = {"fee": {"amount": 200, "currency": "USD"}, "schools": {"amount": 2000}}


def fact_with(statement: dict[str, str] | None = None, figures: dict[str, Any] | None = None) -> Fact:
    data = make_fact(statement=statement or TEMPLATE, figures=FIGURES if figures is None else figures)
    return Fact.model_validate(data)


def problems_of(directory: Path) -> list[str]:
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(directory)
    return [str(p) for p in caught.value.problems if p.level == "error"]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("kk", f"Бір нүкте айына шамамен 200{NBSP}$ тұрады; 2{NBSP}000 мектеп."),
        ("ru", f"Одна точка стоит около 200{NBSP}$ в месяц; 2{NBSP}000 школ."),
        ("en", "One point costs about $200 a month; 2,000 schools."),
    ],
)
def test_render_formats_each_figure_for_the_language(lang: str, expected: str) -> None:
    assert fact_with().render(lang) == expected


@pytest.mark.parametrize(
    ("figure", "lang", "expected"),
    [
        ({"amount": 199.5, "currency": "USD"}, "en", "$199.50"),
        ({"amount": 199.5, "currency": "USD"}, "ru", f"199,50{NBSP}$"),
        ({"amount": 200.0, "currency": "USD"}, "en", "$200"),
        ({"amount": 5000, "currency": "KZT"}, "kk", f"5{NBSP}000{NBSP}₸"),
        ({"amount": 1234.5}, "en", "1,234.5"),
        ({"amount": 1234.5}, "ru", f"1{NBSP}234,5"),
    ],
)
def test_figure_formats(figure: dict[str, Any], lang: str, expected: str) -> None:
    assert Figure.model_validate(figure).format(lang) == expected


def test_a_fact_without_figures_renders_its_statement_unchanged() -> None:
    fact = Fact.model_validate(make_fact())
    assert all(fact.render(lang) == fact.statement.get(lang) for lang in LANGUAGES)


def test_placeholder_without_figure(facts_dir: Path) -> None:
    figures = {"fee": FIGURES["fee"]}
    write_yaml(facts_dir / "pricing.yml", {"facts": [make_fact(statement=TEMPLATE, figures=figures)]})
    assert problems_of(facts_dir) == [
        "error: pricing.yml [test-fact]: statement.kk, statement.ru, statement.en: "
        "placeholder {schools} has no entry under figures"
    ]


def test_figure_missing_from_one_translation(facts_dir: Path) -> None:
    statement = {**TEMPLATE, "ru": "Одна точка стоит около 200 долларов в месяц; {schools} школ."}
    write_yaml(facts_dir / "pricing.yml", {"facts": [make_fact(statement=statement, figures=FIGURES)]})
    assert problems_of(facts_dir) == ["error: pricing.yml [test-fact]: figures.fee: not used in statement.ru"]


def test_unknown_currency(facts_dir: Path) -> None:
    figures = {**FIGURES, "fee": {"amount": 200, "currency": "DOLLARS"}}
    write_yaml(facts_dir / "pricing.yml", {"facts": [make_fact(statement=TEMPLATE, figures=figures)]})
    [problem] = problems_of(facts_dir)
    assert problem.startswith("error: pricing.yml [test-fact]: figures.fee.currency: unknown currency code")


@pytest.mark.parametrize("amount", ["200", True, float("inf")])
def test_amount_must_be_a_plain_number(facts_dir: Path, amount: object) -> None:
    figures = {**FIGURES, "schools": {"amount": amount}}
    write_yaml(facts_dir / "pricing.yml", {"facts": [make_fact(statement=TEMPLATE, figures=figures)]})
    [problem] = problems_of(facts_dir)
    assert "[test-fact]: figures.schools.amount: expected a plain number" in problem


@pytest.mark.parametrize("text", ["costs {about} $200", "costs {{fee}}", "a set {of} things", "{Fee}", "}"])
def test_literal_brace_is_an_error(facts_dir: Path, text: str) -> None:
    statement = {**make_fact()["statement"], "en": text}
    write_yaml(facts_dir / "pricing.yml", {"facts": [make_fact(statement=statement)]})
    problems = problems_of(facts_dir)
    assert any("[test-fact]: statement.en:" in p for p in problems), problems
    assert all("statement.kk" not in p for p in problems)


def test_figures_change_the_content_hash(facts_dir: Path) -> None:
    write_yaml(facts_dir / "pricing.yml", {"facts": [make_fact(statement=TEMPLATE, figures=FIGURES)]})
    before = load_knowledge_base(facts_dir).content_hash
    figures = {**FIGURES, "fee": {"amount": 250, "currency": "USD"}}
    write_yaml(facts_dir / "pricing.yml", {"facts": [make_fact(statement=TEMPLATE, figures=figures)]})
    assert load_knowledge_base(facts_dir).content_hash != before


def test_real_statements_and_index_rows_have_no_braces() -> None:
    kb = load_knowledge_base(REAL_FACTS)
    assert any(fact.figures for fact in kb.facts.values()), "the shipped facts use figures"
    for fact in kb.facts.values():
        for lang in LANGUAGES:
            assert not set(fact.render(lang)) & {"{", "}"}, (fact.id, lang)
    statements = [row for row in rows_for(list(kb.facts.values())) if row.kind == "statement"]
    assert len(statements) == 3 * len(kb.facts)
    assert not [row for row in statements if "{" in row.text or "}" in row.text]


def test_real_prices_read_naturally() -> None:
    fee = load_knowledge_base(REAL_FACTS).facts["interconnect-point-monthly-fee"]
    assert "about $200," in fee.render("en")
    assert f"около 200{NBSP}$," in fee.render("ru")
    assert f"шамамен 200{NBSP}$ болмақ" in fee.render("kk")
