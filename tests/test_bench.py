"""The retrieval benchmark still runs end to end and reports every figure (it asserts no speed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "retrieval.py"


@pytest.mark.model
def test_benchmark_reports_all_figures() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--sizes", "300", "--rounds", "1", "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert [r["base"] for r in summary["results"]] == ["real", "synthetic 300"]
    for row in summary["results"]:
        assert row["rows"] > 0
        assert row["query_p95_ms"] >= row["query_p50_ms"] > 0
        assert row["ann_recall_at_10"] == 1.0  # small bases use exact search
