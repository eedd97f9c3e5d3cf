"""Validation: every way a maintainer's edit can be wrong is reported with file, id and reason."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from knowledge.loader import KnowledgeBaseError, load_knowledge_base
from knowledge.schema import LANGUAGES
from tests.conftest import REAL_FACTS, SOURCE, make_fact, write_yaml


def problems_of(directory: Path, **kwargs) -> list[str]:
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(directory, **kwargs)
    return [str(p) for p in caught.value.problems if p.level == "error"]


def test_shipped_facts_are_valid() -> None:
    kb = load_knowledge_base(REAL_FACTS)
    assert len(kb.facts) >= 15
    assert all(kb.source_of(f) for f in kb.facts.values())


def test_valid_directory_loads(facts_dir: Path) -> None:
    kb = load_knowledge_base(facts_dir)
    assert list(kb.facts) == ["test-fact"]
    assert kb.warnings == []


def test_missing_translation(facts_dir: Path) -> None:
    fact = make_fact()
    del fact["statement"]["kk"]
    write_yaml(facts_dir / "pricing.yml", {"facts": [fact]})
    assert problems_of(facts_dir) == [
        "error: pricing.yml [test-fact]: statement.kk: missing the Kazakh (kk) translation"
    ]


def test_too_few_example_questions(facts_dir: Path) -> None:
    write_yaml(
        facts_dir / "pricing.yml",
        {"facts": [make_fact(questions={"kk": ["бір"], "ru": ["a", "b", "c"], "en": ["a", "b", "c"]})]},
    )
    [problem] = problems_of(facts_dir)
    assert "[test-fact]: questions.kk" in problem
    assert "at least 3" in problem


def test_duplicate_id_across_files(facts_dir: Path) -> None:
    write_yaml(facts_dir / "schools.yml", {"facts": [make_fact(topic="schools")]})
    [problem] = problems_of(facts_dir)
    assert "[test-fact]" in problem
    assert "duplicate id (also in pricing.yml)" in problem


@pytest.mark.parametrize("bad", ["2023-13", "2023-02-30", "October 2023", "23-10-01"])
def test_bad_date(facts_dir: Path, bad: str) -> None:
    write_yaml(facts_dir / "pricing.yml", {"facts": [make_fact(as_of=bad)]})
    [problem] = problems_of(facts_dir)
    assert "[test-fact]: as_of:" in problem


def test_review_before_as_of(facts_dir: Path) -> None:
    write_yaml(facts_dir / "pricing.yml", {"facts": [make_fact(as_of="2024-05", review_by="2024-04-30")]})
    [problem] = problems_of(facts_dir)
    assert "review_by 2024-04-30 is before as_of 2024-05" in problem


def test_unknown_topic(facts_dir: Path) -> None:
    write_yaml(facts_dir / "pricing.yml", {"facts": [make_fact(topic="weather")]})
    [problem] = problems_of(facts_dir)
    assert "[test-fact]: topic: unknown topic 'weather'; known topics: availability" in problem


def test_topic_must_match_its_file(facts_dir: Path) -> None:
    write_yaml(facts_dir / "pricing.yml", {"facts": [make_fact(topic="schools")]})
    assert problems_of(facts_dir) == [
        "error: pricing.yml [test-fact]: topic 'schools' belongs in schools.yml"
    ]


def test_fact_without_source(facts_dir: Path) -> None:
    fact = make_fact()
    del fact["source"]
    write_yaml(facts_dir / "pricing.yml", {"facts": [fact]})
    assert problems_of(facts_dir) == ["error: pricing.yml [test-fact]: source: required field is missing"]


def test_fact_citing_unknown_source(facts_dir: Path) -> None:
    write_yaml(facts_dir / "pricing.yml", {"facts": [make_fact(source="nowhere")]})
    assert problems_of(facts_dir) == [
        "error: pricing.yml [test-fact]: source 'nowhere' is not in sources.yml"
    ]


def test_missing_sources_file(facts_dir: Path) -> None:
    (facts_dir / "sources.yml").unlink()
    assert any("sources.yml: missing" in p for p in problems_of(facts_dir))


def test_supersedes_pointing_nowhere(facts_dir: Path) -> None:
    write_yaml(facts_dir / "pricing.yml", {"facts": [make_fact(supersedes="old-fact")]})
    assert problems_of(facts_dir) == [
        "error: pricing.yml [test-fact]: supersedes 'old-fact', which does not exist"
    ]


def test_supersedes_cycle(facts_dir: Path) -> None:
    facts = [make_fact("fact-a", supersedes="fact-b"), make_fact("fact-b", supersedes="fact-a")]
    write_yaml(facts_dir / "pricing.yml", {"facts": facts})
    assert any("loops back" in p for p in problems_of(facts_dir))


def test_superseded_fact_is_history_not_current(facts_dir: Path) -> None:
    write_yaml(
        facts_dir / "pricing.yml",
        {"facts": [make_fact("old-fact"), make_fact("new-fact", supersedes="old-fact")]},
    )
    kb = load_knowledge_base(facts_dir)
    assert [f.id for f in kb.current] == ["new-fact"]


def test_malformed_yaml(facts_dir: Path) -> None:
    (facts_dir / "pricing.yml").write_text("facts:\n  - id: x\n    topic: [unclosed\n")
    [problem] = problems_of(facts_dir)
    assert problem.startswith("error: pricing.yml: malformed YAML:")
    assert "line" in problem


def test_oversized_file_is_refused_before_parsing(facts_dir: Path) -> None:
    (facts_dir / "pricing.yml").write_text("# " + "x" * 10_000_000)
    [problem] = problems_of(facts_dir)
    assert "10,000,002 bytes, over the limit of 1,000,000" in problem


def test_alias_bomb_is_refused(facts_dir: Path) -> None:
    bomb = ["a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']"]
    for level in "bcdefghi":
        prev = chr(ord(level) - 1)
        bomb.append(f"{level}: &{level} [{', '.join(['*' + prev] * 9)}]")
    (facts_dir / "pricing.yml").write_text("\n".join(bomb) + "\nfacts: []\n")
    [problem] = problems_of(facts_dir)
    assert "aliases (*name) are not allowed" in problem


def test_duplicate_key_is_refused(facts_dir: Path) -> None:
    text = (facts_dir / "pricing.yml").read_text()
    (facts_dir / "pricing.yml").write_text(
        text.replace("  topic: pricing\n", "  topic: pricing\n  topic: schools\n", 1)
    )
    [problem] = problems_of(facts_dir)
    assert "duplicate key 'topic'" in problem


def test_invalid_utf8(facts_dir: Path) -> None:
    (facts_dir / "pricing.yml").write_bytes(b"facts: []\n\xff\xfe")
    assert problems_of(facts_dir) == ["error: pricing.yml: not valid UTF-8 at byte 10"]


def test_control_characters_in_text(facts_dir: Path) -> None:
    fact = make_fact()
    fact["statement"]["en"] = "costs \x00 $200"
    write_yaml(facts_dir / "pricing.yml", {"facts": [fact]})
    [problem] = problems_of(facts_dir)
    assert "statement.en: text contains control characters ['0x0']" in problem


def test_unknown_field_is_named(facts_dir: Path) -> None:
    write_yaml(facts_dir / "pricing.yml", {"facts": [make_fact(statment="typo")]})
    assert problems_of(facts_dir) == [
        "error: pricing.yml [test-fact]: statment: unknown field (check its spelling)"
    ]


def test_all_errors_are_reported_at_once(facts_dir: Path) -> None:
    write_yaml(
        facts_dir / "pricing.yml", {"facts": [make_fact("one", as_of="bad"), make_fact("two", topic="nope")]}
    )
    problems = problems_of(facts_dir)
    assert len(problems) == 2
    assert "[one]" in problems[0]
    assert "[two]" in problems[1]


def test_past_review_date_is_a_warning_not_an_error(facts_dir: Path) -> None:
    write_yaml(facts_dir / "pricing.yml", {"facts": [make_fact(review_by="2024-04")]})
    kb = load_knowledge_base(facts_dir, today=dt.date(2024, 5, 1))
    assert [str(w) for w in kb.warnings] == [
        "warning: pricing.yml [test-fact]: review_by 2024-04 has passed: re-check it against its source"
    ]
    assert not load_knowledge_base(facts_dir, today=dt.date(2024, 4, 30)).warnings


def test_content_hash_follows_content(facts_dir: Path) -> None:
    before = load_knowledge_base(facts_dir).content_hash
    fact = make_fact()
    fact["statement"]["en"] = "One connection point costs about $250 a month."
    write_yaml(facts_dir / "pricing.yml", {"facts": [fact]})
    assert load_knowledge_base(facts_dir).content_hash != before


def test_source_url_must_be_a_url(facts_dir: Path) -> None:
    write_yaml(facts_dir / "sources.yml", {"sources": [{**SOURCE, "url": "not a url"}]})
    problems = problems_of(facts_dir)
    assert any("sources.yml [test-source]: url:" in p for p in problems)
    # the rejected source is not half-loaded: its fact's citation is reported as dangling too
    assert any("source 'test-source' is not in sources.yml" in p for p in problems)


def test_missing_label(facts_dir: Path) -> None:
    fact = make_fact()
    del fact["label"]
    write_yaml(facts_dir / "pricing.yml", {"facts": [fact]})
    assert problems_of(facts_dir) == ["error: pricing.yml [test-fact]: label: required field is missing"]


def test_missing_label_translation(facts_dir: Path) -> None:
    fact = make_fact()
    del fact["label"]["ru"]
    write_yaml(facts_dir / "pricing.yml", {"facts": [fact]})
    assert problems_of(facts_dir) == [
        "error: pricing.yml [test-fact]: label.ru: missing the Russian (ru) translation"
    ]


def test_over_long_label(facts_dir: Path) -> None:
    fact = make_fact()
    fact["label"]["kk"] = "Қосылу нүктесінің айлық бағасы туралы өте ұзын атау"
    write_yaml(facts_dir / "pricing.yml", {"facts": [fact]})
    assert problems_of(facts_dir) == [
        "error: pricing.yml [test-fact]: label.kk: 51 characters, over the limit of 48 for a label"
    ]


def test_label_of_exactly_the_limit_is_fine(facts_dir: Path) -> None:
    fact = make_fact()
    fact["label"]["en"] = "x" * 48 + "  "  # counted as shown, after trimming
    write_yaml(facts_dir / "pricing.yml", {"facts": [fact]})
    assert load_knowledge_base(facts_dir).facts["test-fact"].label.en == "x" * 48


@pytest.mark.parametrize("bad", ["two\nlines", "", "{fee}"])
def test_label_is_one_plain_line(facts_dir: Path, bad: str) -> None:
    fact = make_fact()
    fact["label"]["en"] = bad
    write_yaml(facts_dir / "pricing.yml", {"facts": [fact]})
    [problem] = problems_of(facts_dir)
    assert "pricing.yml [test-fact]: label.en:" in problem


def test_shipped_labels_fit_a_button() -> None:
    kb = load_knowledge_base(REAL_FACTS)
    labels = [fact.label.get(lang) for fact in kb.facts.values() for lang in LANGUAGES]
    assert all(0 < len(label) <= 48 for label in labels)
    for lang in LANGUAGES:  # a clarify question offers two facts: their titles must differ
        per_lang = [fact.label.get(lang) for fact in kb.facts.values()]
        assert len(set(per_lang)) == len(per_lang), lang
    kazakh = " ".join(fact.label.kk for fact in kb.facts.values())
    assert any(ch in kazakh for ch in "әғқңөұүһі")


def test_a_fact_is_superseded_once(facts_dir: Path) -> None:
    facts = [
        make_fact("old-fact"),
        make_fact("new-a", supersedes="old-fact"),
        make_fact("new-b", supersedes=["old-fact"]),
    ]
    write_yaml(facts_dir / "pricing.yml", {"facts": facts})
    assert problems_of(facts_dir) == [
        "error: pricing.yml [new-b]: supersedes 'old-fact', which new-a already supersedes"
    ]


def test_a_fact_cannot_supersede_a_newer_one(facts_dir: Path) -> None:
    facts = [
        make_fact("old-fact", as_of="2025-08-13"),
        make_fact("new-fact", as_of="2024-02", supersedes="old-fact"),
    ]
    write_yaml(facts_dir / "pricing.yml", {"facts": facts})
    assert problems_of(facts_dir) == [
        "error: pricing.yml [new-fact]: supersedes 'old-fact', which is newer (as_of 2025-08-13)"
    ]


def test_more_sources_must_exist_and_not_repeat(facts_dir: Path) -> None:
    write_yaml(facts_dir / "pricing.yml", {"facts": [make_fact(more_sources=["elsewhere"])]})
    assert problems_of(facts_dir) == [
        "error: pricing.yml [test-fact]: source 'elsewhere' is not in sources.yml"
    ]
    write_yaml(facts_dir / "pricing.yml", {"facts": [make_fact(more_sources=["test-source"])]})
    [problem] = problems_of(facts_dir)
    assert "more_sources repeats a source" in problem


def test_only_current_facts_go_stale(facts_dir: Path) -> None:
    facts = [
        make_fact("old-fact", review_by="2024-04"),
        make_fact("new-fact", review_by="2024-04", supersedes="old-fact"),
    ]
    write_yaml(facts_dir / "pricing.yml", {"facts": facts})
    kb = load_knowledge_base(facts_dir, today=dt.date(2026, 12, 1))
    stale = [p.fact_id for p in kb.warnings if "review_by" in p.message]
    assert stale == ["new-fact"]
