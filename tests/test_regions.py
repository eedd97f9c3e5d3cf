"""Region matching: every name in three languages, centres and old names, typos; no guessing."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from knowledge.regions import RegionList, RegionMatcher
from knowledge.schema import LANGUAGES


@pytest.fixture(scope="module")
def matcher() -> RegionMatcher:
    return RegionMatcher.load()


def test_all_regions_and_cities_are_listed(matcher: RegionMatcher) -> None:
    kinds = [r.kind for r in matcher.regions.regions]
    assert kinds.count("region") == 17
    assert {r.id for r in matcher.regions.regions if r.kind == "city"} == {"astana", "almaty", "shymkent"}


def test_every_official_name_resolves_to_itself(matcher: RegionMatcher) -> None:
    for region in matcher.regions.regions:
        for lang in LANGUAGES:
            assert matcher.resolve(region.name(lang)) == region, (lang, region.name(lang))


def test_kazakh_names_use_kazakh_letters(matcher: RegionMatcher) -> None:
    assert matcher.resolve("Шығыс Қазақстан облысы").id == "east-kazakhstan"
    assert any(ch in r.names.kk for r in matcher.regions.regions for ch in "әғқңөұүһі")


@pytest.mark.parametrize(
    ("typed", "region"),
    [
        ("алматы", "almaty"),
        ("Алматы облысы", "almaty-region"),
        ("алматинская обл", "almaty-region"),
        ("г. Алматы", "almaty"),
        ("карганда", "karaganda"),
        ("карагандинская", "karaganda"),
        ("павлодарская облась", "pavlodar"),
        ("East Kazakstan", "east-kazakhstan"),
        ("Өскемен", "east-kazakhstan"),
        ("вко", "east-kazakhstan"),
        ("Нур-Султан", "astana"),
        ("taraz", "jambyl"),
        ("kostanai", "kostanay"),
        ("солтустик казакстан облысы", "north-kazakhstan"),
        ("туркестанская обл", "turkistan"),
    ],
)
def test_typed_names_match(matcher: RegionMatcher, typed: str, region: str) -> None:
    found = matcher.resolve(typed)
    assert found is not None
    assert found.id == region


@pytest.mark.parametrize(
    "typed",
    ["Москва", "Kazakhstan", "область", "", "😀", "иә", "жоқ", "сельская школа", "алматв"],
)
def test_unrelated_or_ambiguous_input_is_not_guessed(matcher: RegionMatcher, typed: str) -> None:
    assert matcher.resolve(typed) is None


def test_a_name_shared_by_two_regions_is_rejected(matcher: RegionMatcher) -> None:
    data = matcher.regions.model_dump(mode="json")
    data["regions"][1]["aliases"].append("Семей")  # Abai's centre, given to Akmola too
    with pytest.raises(ValidationError, match="names both abai and akmola"):
        RegionList.model_validate(data)
