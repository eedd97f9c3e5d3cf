"""The shape of a fact and of a source, as maintainers write them in YAML.

Pydantic models reject a bad entry with a path to the bad field; ``loader`` turns those paths
into messages a maintainer can act on. The models are frozen: a loaded base never changes, a
reload builds a new one.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, HttpUrl, model_validator

from knowledge.dates import FlexibleDate
from knowledge.figures import Figure, FigureName
from knowledge.figures import problems as figure_problems
from knowledge.figures import render as render_figures
from texts.languages import LANGUAGES as LANGUAGES  # re-exported: knowledge/ names them from here
from texts.languages import Lang

LANGUAGE_NAMES: dict[str, str] = {"kk": "Kazakh", "ru": "Russian", "en": "English"}

Topic = Literal["availability", "regulation", "schools", "pricing", "rural-access", "actors", "guidance"]
TOPICS: tuple[Topic, ...] = get_args(Topic)

MAX_STATEMENT_CHARS = 1_500
MAX_QUESTION_CHARS = 300
MIN_QUESTIONS = 3
MAX_QUESTIONS = 60
MAX_LABEL_CHARS = 48  # a button title: longer ones are cut off on a phone screen


def _clean(value: str) -> str:
    """Reject text a reader could not see or a terminal could be fooled by."""
    value = unicodedata.normalize("NFC", value).strip()
    if not value:
        raise ValueError("text is empty")
    bad = [ch for ch in value if unicodedata.category(ch) in {"Cc", "Cs", "Co"} and ch != "\n"]
    if bad:
        raise ValueError(f"text contains control characters {sorted({hex(ord(c)) for c in bad})}")
    return value


def _label(value: str) -> str:
    """A label titles a button, so it is one short line; counted after cleaning, as shown."""
    value = _clean(value)
    if "\n" in value:
        raise ValueError("a label is one line")
    if len(value) > MAX_LABEL_CHARS:
        raise ValueError(f"{len(value)} characters, over the limit of {MAX_LABEL_CHARS} for a label")
    if "{" in value or "}" in value:
        raise ValueError("braces are not allowed in a label (figures are rendered in statements only)")
    return value


def _one_or_many(value: object) -> object:
    """``supersedes: old-id`` and ``supersedes: [a, b]`` both read as a list: one new report
    often replaces several old facts (the launch replaced "not on the market" and "illegal")."""
    return [value] if isinstance(value, str) else value


Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,79}$")]
Statement = Annotated[str, Field(max_length=MAX_STATEMENT_CHARS), AfterValidator(_clean)]
Question = Annotated[str, Field(max_length=MAX_QUESTION_CHARS), AfterValidator(_clean)]
QuestionList = Annotated[list[Question], Field(min_length=MIN_QUESTIONS, max_length=MAX_QUESTIONS)]
Line = Annotated[str, Field(max_length=500), AfterValidator(_clean)]
LabelText = Annotated[str, Field(max_length=1_000), AfterValidator(_label)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Translations(_Model):
    """One text in each language the bot answers in."""

    kk: Statement
    ru: Statement
    en: Statement

    def get(self, lang: str) -> str:
        return getattr(self, lang)


class Label(_Model):
    """A fact's short title in each language, for "which of these did you mean?" buttons."""

    kk: LabelText
    ru: LabelText
    en: LabelText

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
    label: Label
    statement: Translations
    figures: dict[FigureName, Figure] = Field(default_factory=dict)
    questions: ExampleQuestions
    source: Slug
    more_sources: list[Slug] = Field(default_factory=list, max_length=10)
    as_of: FlexibleDate
    review_by: FlexibleDate
    supersedes: Annotated[list[Slug], BeforeValidator(_one_or_many)] = Field(default_factory=list)
    note: Line | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> Fact:
        if self.review_by.last_day < self.as_of.first_day:
            raise ValueError(f"review_by {self.review_by} is before as_of {self.as_of}")
        if self.id in self.supersedes:
            raise ValueError("a fact cannot supersede itself")
        if self.source in self.more_sources or len(set(self.more_sources)) < len(self.more_sources):
            raise ValueError("more_sources repeats a source")
        return self

    @model_validator(mode="after")
    def _figures_fit(self) -> Fact:
        """Every placeholder has a figure and every figure is used, in every language, so
        ``render`` never fails and never leaves a brace for a reader to see."""
        problems = figure_problems(self.statement.model_dump(), self.figures)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def render(self, lang: str) -> str:
        """The statement in ``lang`` as a reader sees it, figures formatted for that language."""
        return render_figures(self.statement.get(lang), self.figures, lang)
