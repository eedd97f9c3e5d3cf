"""The benchmarks report every figure they promise (they assert no speed, and nor do these tests).

The retrieval benchmark runs end to end; the end-to-end benchmark's arithmetic (the long
conversation, the targets, the report) is tested on made-up levels, since a real run takes minutes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

BENCH = Path(__file__).resolve().parents[1] / "bench" / "retrieval.py"


def _load_e2e() -> ModuleType:
    """bench/ is a folder of scripts, not a package: load bench/e2e.py as a module."""
    spec = importlib.util.spec_from_file_location("bench_e2e", BENCH.with_name("e2e.py"))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


e2e = _load_e2e()


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


def level(users: int, p50_s: float, msgs_per_s: float, errors: int = 0) -> dict[str, Any]:
    """A level's summary as the benchmark makes it: ``users`` answered in ``p50_s`` each."""
    made = e2e.Level("rest", users, latencies=[p50_s] * 100, wall_s=100 / msgs_per_s)
    made.errors["timeout"] += errors
    made.errors += e2e.Counter()  # as the benchmark drops a zero count
    return made.summary()


def result(**changes: Any) -> dict[str, Any]:
    """What ``benchmark`` returns, before its targets are judged."""
    made = {
        "cores": 2,
        "load_avg_start": 1.0,
        "load_avg_end": 1.5,
        "cold_start_s": 52.0,
        "first_reply_ms": 300.0,
        "levels": [level(1, 0.090, 10.0), level(10, 0.400, 24.0), level(50, 1.500, 21.0)],
        "bot_levels": [],
        "rss_mb": {"action server": 280, "rasa": 1300, "supervisor": 40},
        "rss_mb_idle": {"action server": 270, "rasa": 1200, "supervisor": 40},
        "rss_mb_total": 1620,
        "bare_cold_start_s": 40.0,
        "bare_levels": [level(1, 0.060, 15.0), level(10, 0.250, 40.0), level(50, 1.000, 30.0)],
        "bare_rasa_p50_ms": 60.0,
        "ratio_p50": 1.5,
        "long_conversation": {
            "messages": 400,
            "first_p50_ms": 70.0,
            "last_p50_ms": 84.0,
            "errors": 0,
            "bare_first_p50_ms": 45.0,
            "bare_last_p50_ms": 307.0,
            "bare_errors": 0,
        },
        "phases_s": {"warm-up": 5.0},
        "flood_burst": None,
    }
    return made | changes


def test_the_long_conversation_goes_through_every_script_with_an_ok_after_each() -> None:
    sent = e2e.long_conversation(2 * 3 * 11 + 2)
    texts = [text for _, text in sent]
    first, second, third = e2e.SCRIPTS
    assert texts[:11] == [*first.messages, "ок"]
    assert texts[11:22] == [*second.messages, "ок"]
    assert texts[22:33] == [*third.messages, "ок"]
    assert texts[33:35] == list(first.messages[:2])  # round again
    assert len(sent) == 68
    assert {script.language_code for script, _ in sent[22:33]} == {third.language_code}


def test_the_long_summary_takes_the_p50_of_each_end_and_counts_errors() -> None:
    latencies = [0.1] * 50 + [1.0] * 20 + [0.2] * 49 + [None]
    assert e2e.long_summary(latencies) == {
        "messages": 120,
        "first_p50_ms": 100.0,
        "last_p50_ms": 200.0,
        "errors": 1,
    }


def test_the_targets_compare_with_bare_rasa_measured_the_same_way() -> None:
    judged = e2e.targets(result())
    assert judged["msgs_per_s_at_50_vs_bare"] == {"value": 0.7, "limit": 0.7, "ok": True}
    assert judged["long_last_first"] == {"value": 1.2, "limit": 1.2, "ok": True}
    assert judged["cold_start_vs_bare"] == {"value": 1.3, "limit": 1.3, "ok": True}
    assert judged["ratio_p50"] == {"value": 1.5, "limit": 1.5, "ok": True}
    assert judged["rss_mb_total"] == {"value": 1620, "limit": 2500.0, "ok": True}

    slower = e2e.targets(
        result(
            levels=[level(1, 0.090, 10.0), level(50, 1.500, 20.0)],
            long_conversation=result()["long_conversation"] | {"last_p50_ms": 480.0},
            cold_start_s=58.0,
        )
    )
    assert slower["msgs_per_s_at_50_vs_bare"]["ok"] is False  # 0.67×
    assert slower["long_last_first"] == {"value": 6.86, "limit": 1.2, "ok": False}
    assert slower["cold_start_vs_bare"]["ok"] is False  # 1.45×


def test_throughput_with_errors_misses_the_target_however_high() -> None:
    lossy = result(levels=[level(1, 0.090, 10.0), level(50, 1.0, 40.0, errors=3)])
    assert e2e.targets(lossy)["msgs_per_s_at_50_vs_bare"]["ok"] is False


def test_targets_not_measured_are_neither_met_nor_missed() -> None:
    judged = e2e.targets(
        result(bare_levels=[], bare_cold_start_s=None, bare_rasa_p50_ms=None, ratio_p50=None)
        | {"long_conversation": None}
    )
    for name in ("msgs_per_s_at_50_vs_bare", "long_last_first", "cold_start_vs_bare", "ratio_p50"):
        assert judged[name]["value"] is None
        assert judged[name]["ok"] is None


def test_the_report_shows_the_long_conversation_bare_levels_and_start(
    capsys: pytest.CaptureFixture[str],
) -> None:
    shown = result()
    shown["targets"] = e2e.targets(shown)
    args = argparse.Namespace(messages_per_user=10, min_messages=60, timeout=8.0)
    e2e.print_report(shown, args)
    out = capsys.readouterr().out
    assert "bare Rasa's start 40.0 s" in out
    assert "one conversation of 400 messages" in out
    assert "of the first 50 messages 70.0 ms, of the last 50 84.0 ms (1.2×)" in out
    assert "of the first 50 messages 45.0 ms, of the last 50 307.0 ms (6.82×)" in out
    assert "bare Rasa over REST" in out
    assert out.count("   50 |      100 |") == 2  # the 50-user row, ours and bare Rasa's
    for label, _, _ in e2e.TARGET_TEXT.values():
        assert label in out


@pytest.mark.skipif(not e2e.MODEL.exists(), reason="parse_args wants the trained model")
def test_the_long_conversation_is_on_by_default_and_zero_skips_it() -> None:
    assert e2e.parse_args([]).long == 400
    assert e2e.parse_args(["--long", "0"]).long == 0
    with pytest.raises(SystemExit):
        e2e.parse_args(["--long", "-1"])


def test_bare_rasa_learns_the_entities_our_entity_only_diet_extracts() -> None:
    """Without them its DIET, which extracts entities only, would have nothing to train."""
    files = e2e.bare_training_files(e2e.ROOT / "nlu", e2e.ROOT / "config.yml")
    assert "language" in yaml.safe_load(files["domain.yml"])["entities"]
    assert '[орысша]{"entity": "language", "value": "ru"}' in files["data/nlu.yml"]
