"""School registry import: every row checked, all-or-nothing, spreadsheet quirks accepted."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from knowledge.cli import main
from knowledge.regions import RegionMatcher
from knowledge.schools import RegistryError, SchoolRegistry, parse_csv
from tests.test_identifiers import make_valid

HEADER = "bin,name,region,settlement,status,source,as_of"


@pytest.fixture(scope="module")
def regions() -> RegionMatcher:
    return RegionMatcher.load()


@pytest.fixture
def bins() -> list[str]:
    rng = random.Random(3)
    return [make_valid(rng) for _ in range(3)]


def csv_of(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def test_valid_rows_import(regions: RegionMatcher, bins: list[str]) -> None:
    schools = parse_csv(
        csv_of(
            f"{bins[0]},Test school one,Алматы облысы,Test village,connected,Test list,2023-10",
            f"{bins[1]},Test school two,карагандинская обл,,planned,Test list,2023-10-12",
        ),
        regions,
    )
    assert [(s.region, s.status) for s in schools] == [
        ("almaty-region", "connected"),
        ("karaganda", "planned"),
    ]


def test_semicolons_and_bom_from_spreadsheets(regions: RegionMatcher, bins: list[str]) -> None:
    raw = (
        "\ufeff"
        + HEADER.replace(",", ";")
        + f"\n{bins[0][:4]} {bins[0][4:]};Школа;ВКО;Ауыл;connected;Тізім;2023-10\n"
    )
    [school] = parse_csv(raw.encode("utf-8"), regions)
    assert school.bin == bins[0]
    assert school.region == "east-kazakhstan"


def test_every_bad_row_is_reported_and_nothing_is_imported(regions: RegionMatcher, bins: list[str]) -> None:
    bad_check = bins[2][:11] + str((int(bins[2][11]) + 1) % 10)
    raw = csv_of(
        f"{bins[0]},Good school,Астана,,connected,Test list,2023-10",
        f"{bad_check},Typo school,Астана,,connected,Test list,2023-10",
        f"{bins[1]},Nowhere school,Атлантида,,connected,Test list,2023-10",
        f"{bins[0]},Twice,Астана,,planned,Test list,2023-10",
        f"{bins[1]},Odd status,Астана,,maybe,Test list,2023-13",
    )
    with pytest.raises(RegistryError) as caught:
        parse_csv(raw, regions)
    problems = caught.value.problems
    assert problems[0].startswith("row 3: bin: BIN")
    assert "check digit" in problems[0]
    assert problems[1] == "row 4: unknown region 'Атлантида'"
    assert problems[2] == f"row 5: BIN {bins[0]} is listed twice"
    assert problems[3].startswith("row 6: status:")
    assert "as_of" in problems[3]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"bin,name\n1,2\n", "missing column(s) region, settlement, status, source, as_of"),
        (csv_of(), "no schools"),
        (b"\xff\xfe" + csv_of(), "not valid UTF-8"),
    ],
)
def test_unusable_files(regions: RegionMatcher, raw: bytes, message: str) -> None:
    with pytest.raises(RegistryError, match=re.escape(message)):
        parse_csv(raw, regions)


def test_cli_import_lookup_and_failed_import_keeps_the_registry(
    tmp_path: Path, bins: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = tmp_path / "schools.json"
    monkeypatch.setenv("AQPARAT_SCHOOLS_FILE", str(registry))
    good = tmp_path / "good.csv"
    good.write_bytes(csv_of(f"{bins[0]},Test school,Шымкент,,planned,Test list,2023-10"))
    assert main(["import-schools", str(good)]) == 0
    assert "imported 1 schools" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_of(f"{bins[1]},Bad,Nowhere,,planned,Test list,2023-10"))
    assert main(["import-schools", str(bad)]) == 1
    assert "the registry was not touched" in capsys.readouterr().out
    assert SchoolRegistry.load(registry).lookup(bins[0]).region == "shymkent"
    assert main(["lookup-school", f"{bins[0][:6]} {bins[0][6:]}"]) == 0
    assert '"status": "planned"' in capsys.readouterr().out
    assert main(["lookup-school", bins[1]]) == 0
    assert "not in the imported registry" in capsys.readouterr().out
    assert main(["lookup-school", "12345"]) == 1
    assert "invalid BIN: length" in capsys.readouterr().out


def test_no_registry_means_no_lookups(tmp_path: Path, bins: list[str]) -> None:
    assert SchoolRegistry.load(tmp_path / "missing.json").lookup(bins[0]) is None
