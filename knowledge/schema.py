"""The shape of a fact and of a source, as maintainers write them in YAML.

Pydantic models reject a bad entry with a path to the bad field; ``loader`` turns those paths
into messages a maintainer can act on. The models are frozen: a loaded base never changes, a
reload builds a new one.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, model_validator

from knowledge.dates import FlexibleDate

Lang = Literal["kk", "ru", "en"]
LANGUAGES: tuple[Lang, ...] = get_args(Lang)
LANGUAGE_NAMES: dict[str, str] = {"kk": "Kazakh", "ru": "Russian", "en": "English"}

Topic = Literal["availability", "regulation", "schools", "pricing", "rural-access", "actors", "guidance"]
TOPICS: tuple[str, ...] = get_args(Topic)

MAX_STATEMENT_CHARS = 1_500
MAX_QUESTION_CHARS = 300
MIN_QUESTIONS = 3
MAX_QUESTIONS = 60


def _clean(value: str) -> str:
    """Reject text a reader could not see or a terminal could be fooled by."""
    value = unicodedata.normalize("NFC", value).strip()
    if not value:
        raise ValueError("text is empty")
    bad = [ch for ch in value if unicodedata.category(ch) in {"Cc", "Cs", "Co"} and ch != "\n"]
    if bad:
        raise ValueError(f"text contains control characters {sorted({hex(ord(c)) for c in bad})}")
    return value


Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,79}$")]
Statement = Annotated[str, Field(max_length=MAX_STATEMENT_CHARS), AfterValidator(_clean)]
Question = Annotated[str, Field(max_length=MAX_QUESTION_CHARS), AfterValidator(_clean)]
QuestionList = Annotated[list[Question], Field(min_length=MIN_QUESTIONS, max_length=MAX_QUESTIONS)]
Line = Annotated[str, Field(max_length=500), AfterValidator(_clean)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Translations(_Model):
    """One text in each language the bot answers in."""

    kk: Statement
    ru: Statement
    en: Statement

    def get(self, lang: str) -> str:
        return getattr(self, lang)


class ExampleQuestions(_Model):
    """Ways citizens ask for a fact; they are indexed, so more variety means better recall."""

    kk: QuestionList
    ru: QuestionList
    en: QuestionList

    def get(self, lang: str) -> list[str]:
        return getattr(self, lang)


class Source(_Model):
    """Where a fact comes from; a fact without one is never answered."""

    id: Slug
    publisher: Line
    title: Line
    url: HttpUrl | None = None
    published: FlexibleDate
    language: Lang


class Fact(_Model):
    """One statement the bot may give, in three languages, with its provenance."""

    id: Slug
    topic: Topic
    statement: Translations
    questions: ExampleQuestions
    source: Slug
    as_of: FlexibleDate
    review_by: FlexibleDate
    supersedes: Slug | None = None
    note: Line | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> Fact:
        if self.review_by.last_day < self.as_of.first_day:
            raise ValueError(f"review_by {self.review_by} is before as_of {self.as_of}")
        if self.supersedes == self.id:
            raise ValueError("a fact cannot supersede itself")
        return self
