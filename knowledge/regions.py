"""Regions and cities of republican significance, and matching what a user typed to one of them.

People type region names in any of three languages, by their centre ("Өскемен"), by old names
("Нур-Султан"), abbreviated ("ЗКО") or misspelt. An exact folded name wins; otherwise a fuzzy
match (rapidfuzz) is accepted only when one region is clearly ahead, so "Kazakhstan" (which
half-matches West, North and East Kazakhstan) is not guessed but asked again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from rapidfuzz import fuzz, process

from knowledge.dates import FlexibleDate
from knowledge.loader import read_yaml
from knowledge.schema import Slug, Translations
from knowledge.text import fold

REGIONS_FILE = Path(__file__).resolve().parent / "regions.yml"
MIN_SCORE = 85.0
MIN_LEAD = 5.0


class Region(BaseModel):
    """One region (oblys) or city of republican significance."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: Slug
    kind: Literal["region", "city"]
    names: Translations
    aliases: list[str] = Field(default_factory=list)

    def name(self, lang: str) -> str:
        return self.names.get(lang)


class RegionList(BaseModel):
    """``regions.yml``: every name and alias must point to exactly one place."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    as_of: FlexibleDate
    review_by: FlexibleDate
    regions: list[Region] = Field(min_length=1)

    @model_validator(mode="after")
    def _unambiguous(self) -> RegionList:
        owner: dict[str, str] = {}
        for region in self.regions:
            for label in _labels(region):
                other = owner.setdefault(fold(label), region.id)
                if other != region.id:
                    raise ValueError(f"{label!r} names both {other} and {region.id}")
        ids = [r.id for r in self.regions]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicate region id")
        return self


def _labels(region: Region) -> list[str]:
    return [region.names.kk, region.names.ru, region.names.en, *region.aliases]


# Words that say what kind of place is meant but not which one; folded (see text.fold).
# Any word starting "обл" (облысы, область, обл, and their typos) counts as a region word.
_REGION_WORDS = frozenset({"region", "oblast", "oblysy", "регион"})
_CITY_WORDS = frozenset({"каласы", "кала", "город", "г", "city", "гор"})


def _is_region_word(word: str) -> bool:
    return word.startswith("обл") or word in _REGION_WORDS


def _core(text: str) -> tuple[str, str | None]:
    """The distinctive part of a place name, and the kind its generic words point to."""
    words = fold(text).split()
    has_region_word = any(_is_region_word(w) for w in words)
    kind = "region" if has_region_word else "city" if _CITY_WORDS & set(words) else None
    core = " ".join(w for w in words if not _is_region_word(w) and w not in _CITY_WORDS)
    return core, kind


@dataclass(frozen=True)
class RegionMatch:
    region: Region
    score: float  # 100 for an exact (folded) name or alias
    matched: str


class RegionMatcher:
    """Built once from the region list; ``resolve`` is cheap enough for every form answer."""

    def __init__(self, regions: RegionList) -> None:
        self.regions = regions
        self._by_label: dict[str, Region] = {}
        self._by_core: dict[str, list[Region]] = {}
        for region in regions.regions:
            for label in _labels(region):
                self._by_label.setdefault(fold(label), region)
                owners = self._by_core.setdefault(_core(label)[0], [])
                if region not in owners:
                    owners.append(region)
        self._cores = [core for core in self._by_core if core]

    @classmethod
    def load(cls, path: Path = REGIONS_FILE) -> RegionMatcher:
        return cls(RegionList.model_validate(read_yaml(path, 1_000_000)))

    def candidates(self, text: str, limit: int = 3) -> list[RegionMatch]:
        """Best match per region, best first: an exact name or alias, else the closest core names."""
        folded = fold(text)
        if folded in self._by_label:
            return [RegionMatch(self._by_label[folded], 100.0, folded)]
        core, kind = _core(text)
        if not core:
            return []
        best: dict[str, RegionMatch] = {}
        for label, score, _ in process.extract(core, self._cores, scorer=fuzz.ratio, limit=20):
            for region in self._by_core[label]:
                if kind and region.kind != kind:
                    continue
                if region.id not in best:
                    best[region.id] = RegionMatch(region, float(score), label)
        return sorted(best.values(), key=lambda m: m.score, reverse=True)[:limit]

    def resolve(self, text: str) -> Region | None:
        """The one region ``text`` names, or None when nothing (or more than one) fits well."""
        found = self.candidates(text)
        if not found or found[0].score < MIN_SCORE:
            return None
        if len(found) > 1 and found[0].score - found[1].score < MIN_LEAD:
            return None
        return found[0].region
