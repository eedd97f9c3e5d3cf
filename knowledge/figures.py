"""Numbers and money inside fact statements, written once and formatted for each language.

A statement says ``about {monthly_fee}`` and the fact carries ``monthly_fee: {amount: 200,
currency: USD}``; each language then shows the figure the way its readers write it ("$200",
"200 $", "2,000", "2 000") and the three translations cannot drift apart on the number itself.
Formatting is Babel's (CLDR data), so we never hand-write separators or currency positions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import cache
from typing import Annotated

from babel import Locale
from babel.numbers import format_currency, format_decimal, list_currencies
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, field_validator

NAME_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
FigureName = Annotated[str, Field(pattern=NAME_PATTERN)]
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]{0,39})\}")
_BRACE = re.compile(r"[{}]")


def _number(value: object) -> int | float:
    """Strict and finite: a quoted "200", a ``true`` or an ``.inf`` in a fact file is a typo."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"expected a plain number such as 200 or 2.5, not {value!r}")
    return value


Amount = Annotated[int | float, PlainValidator(_number)]


class Figure(BaseModel):
    """One number a statement quotes; ``currency`` (ISO 4217) makes it an amount of money."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: Amount
    currency: str | None = None

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str | None) -> str | None:
        if value is not None and value not in _currencies():
            raise ValueError(f"unknown currency code {value!r}; use an ISO 4217 code such as USD or KZT")
        return value

    def format(self, lang: str) -> str:
        """The figure as ``lang`` writes it; whole amounts of money get no decimals ("$200",
        not "$200.00"), since the facts quote round figures."""
        if self.currency is None:
            return format_decimal(self.amount, locale=lang)
        whole = isinstance(self.amount, int) or self.amount.is_integer()
        pattern = _currency_pattern(lang, whole)
        return format_currency(
            self.amount, self.currency, format=pattern, locale=lang, currency_digits=not whole
        )


@cache
def _currencies() -> frozenset[str]:
    return frozenset(list_currencies())


@cache
def _currency_pattern(lang: str, whole: bool) -> str:
    pattern = Locale.parse(lang).currency_formats["standard"].pattern
    return pattern.replace(".00", "") if whole else pattern


def placeholders(text: str) -> list[str]:
    """The figure names ``text`` refers to, in order of appearance."""
    return _PLACEHOLDER.findall(text)


def stray_braces(text: str) -> bool:
    """A brace outside a ``{name}`` placeholder: we have no escape syntax, so it is an error
    rather than something that might reach a reader as a half-rendered template."""
    return bool(_BRACE.search(_PLACEHOLDER.sub("", text)))


def render(text: str, figures: Mapping[str, Figure], lang: str) -> str:
    """``text`` with each ``{name}`` replaced by its figure formatted for ``lang``."""
    if not figures:
        return text
    return _PLACEHOLDER.sub(lambda match: figures[match.group(1)].format(lang), text)


def problems(texts: Mapping[str, str], figures: Mapping[str, Figure]) -> list[str]:
    """Why these translations and figures do not fit together, one sentence per problem.

    Each language must use every figure: a number present in one translation and missing from
    another is the kind of drift figures exist to prevent.
    """
    found = [
        f"statement.{lang}: '{{' or '}}' outside a {{name}} placeholder "
        "(literal braces are not allowed; names use a-z, 0-9 and _)"
        for lang, text in texts.items()
        if stray_braces(text)
    ]
    used = {lang: set(placeholders(text)) for lang, text in texts.items()}
    for name in sorted(set().union(*used.values()) - set(figures)):
        where = ", ".join(f"statement.{lang}" for lang in texts if name in used[lang])
        found.append(f"{where}: placeholder {{{name}}} has no entry under figures")
    for name in sorted(figures):
        missing = [f"statement.{lang}" for lang in texts if name not in used[lang]]
        if missing:
            found.append(f"figures.{name}: not used in {', '.join(missing)}")
    return found
