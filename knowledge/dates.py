"""Dates that may be known only to the month.

Our first source says "October 2023" and no day; writing 2023-10-01 would invent a day, so a
date here keeps the precision its source gave (``2023-10`` or ``2023-10-12``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

_PATTERN = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


@dataclass(frozen=True, order=True)
class PartialDate:
    """A calendar date whose day may be unknown."""

    year: int
    month: int
    day: int | None = None

    @classmethod
    def parse(cls, value: Any) -> PartialDate:
        """Accept ``YYYY-MM``, ``YYYY-MM-DD`` or a ``date``; raise ValueError otherwise."""
        if isinstance(value, PartialDate):
            return value
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return cls(value.year, value.month, value.day)
        if not isinstance(value, str):
            raise ValueError(f"expected a date like 2023-10 or 2023-10-12, got {value!r}")
        match = _PATTERN.match(value.strip())
        if not match:
            raise ValueError(f"expected a date like 2023-10 or 2023-10-12, got {value!r}")
        year, month = int(match[1]), int(match[2])
        day = int(match[3]) if match[3] else None
        if not 1 <= month <= 12:
            raise ValueError(f"month {month} does not exist in {value!r}")
        if day is not None:
            dt.date(year, month, day)  # raises ValueError("day is out of range for month")
        return cls(year, month, day)

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, self.day or 1)

    @property
    def last_day(self) -> dt.date:
        """The latest day this date can mean: a deadline of ``2024-04`` runs to April 30."""
        last = self.day or calendar.monthrange(self.year, self.month)[1]
        return dt.date(self.year, self.month, last)

    def __str__(self) -> str:
        base = f"{self.year:04d}-{self.month:02d}"
        return base if self.day is None else f"{base}-{self.day:02d}"


FlexibleDate = Annotated[
    PartialDate,
    BeforeValidator(PartialDate.parse),
    PlainSerializer(str, return_type=str),
]
