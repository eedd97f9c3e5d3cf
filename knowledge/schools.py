"""The school registry: a CSV maintainers import, so a BIN lookup can say "connected" or "planned".

No school is shipped with the code: only what a maintainer imports from an official list. The
import is all-or-nothing (every row is checked, every problem reported with its row number, and
the registry file is replaced atomically), so a half-broken spreadsheet never hides good data.
Spreadsheets exported in Kazakh or Russian locales use ";" and a UTF-8 BOM; both are accepted.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from knowledge.dates import FlexibleDate
from knowledge.files import write_atomically
from knowledge.identifiers import bin_problem, normalise_bin
from knowledge.regions import RegionMatcher

COLUMNS = ("bin", "name", "region", "settlement", "status", "source", "as_of")
MAX_BYTES = 20_000_000
Status = Literal["connected", "planned"]


class School(BaseModel):
    """One registry row, as stored after import (region as its id, BIN digits only)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
    bin: str
    name: str = Field(min_length=1, max_length=300)
    region: str
    settlement: str = Field(default="", max_length=200)
    status: Status
    source: str = Field(min_length=1, max_length=300)
    as_of: FlexibleDate

    @field_validator("bin")
    @classmethod
    def _valid_bin(cls, value: str) -> str:
        value = normalise_bin(value)
        problem = bin_problem(value)
        if problem is not None:
            raise ValueError(f"BIN {value!r} is invalid ({problem.label})")
        return value


class RegistryError(Exception):
    """The CSV cannot be imported; ``problems`` lists every reason with its row number."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the school list:\n" + "\n".join(problems))


@dataclass(frozen=True)
class SchoolRegistry:
    """Imported schools by BIN; empty when nothing was imported (then lookups say so)."""

    schools: dict[str, School]

    @classmethod
    def load(cls, path: Path) -> SchoolRegistry:
        if not path.is_file():
            return cls({})
        rows = json.loads(path.read_text(encoding="utf-8"))
        return cls({row["bin"]: School.model_validate(row) for row in rows})

    def lookup(self, typed_bin: str) -> School | None:
        return self.schools.get(normalise_bin(typed_bin))


def parse_csv(raw: bytes, regions: RegionMatcher) -> list[School]:
    """Every row checked; raise ``RegistryError`` with all problems, or return all schools."""
    if len(raw) > MAX_BYTES:
        raise RegistryError([f"file is {len(raw):,} bytes, over the limit of {MAX_BYTES:,}"])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RegistryError([f"not valid UTF-8 at byte {exc.start} (save the sheet as CSV UTF-8)"]) from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise RegistryError([f"header: missing column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}"])
    reader.fieldnames = header
    problems: list[str] = []
    schools: dict[str, School] = {}
    for number, row in enumerate(reader, start=2):
        values = {c: (row.get(c) or "").strip() for c in COLUMNS}
        region = regions.resolve(values["region"])
        if region is None:
            problems.append(f"row {number}: unknown region {values['region']!r}")
            continue
        try:
            school = School.model_validate({**values, "region": region.id})
        except ValidationError as exc:
            reasons = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}"
                for e in exc.errors()
            )
            problems.append(f"row {number}: {reasons}")
            continue
        if school.bin in schools:
            problems.append(f"row {number}: BIN {school.bin} is listed twice")
            continue
        schools[school.bin] = school
    if problems:
        raise RegistryError(problems)
    if not schools:
        raise RegistryError(["the file has a header but no schools"])
    return list(schools.values())


def save_registry(schools: list[School], path: Path) -> None:
    """Replace the registry file atomically: readers see the old list or the new one."""
    payload = json.dumps([s.model_dump(mode="json") for s in schools], ensure_ascii=False, indent=1)
    write_atomically(path, payload)
