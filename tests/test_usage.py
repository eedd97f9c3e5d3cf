"""Usage statistics from the conversation logs: the questions log, the figures, the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from knowledge.cli import main
from knowledge.logs import QUESTIONS_FILE, UNANSWERED_FILE, ConversationLog
from knowledge.usage import UsageStats, question_key, usage_stats

NOW = dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC)


def write_lines(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def asked(days_ago: float, lang: str, outcome: str, fact_id: str | None = None) -> dict:
    time = NOW - dt.timedelta(days=days_ago)
    return {"time": time.isoformat(), "user": "u1", "lang": lang, "outcome": outcome, "fact_id": fact_id}


def declined(days_ago: float, text: str, lang: str = "ru") -> dict:
    time = NOW - dt.timedelta(days=days_ago)
    return {
        "time": time.isoformat(),
        "user": "u1",
        "text": text,
        "lang": lang,
        "reason": "low-score",
        "scores": {"top": 0.2, "threshold": 0.5},
    }


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    """A week of traffic and some older: 10 questions in the last 7 days, 2 before."""
    write_lines(
        tmp_path / QUESTIONS_FILE,
        [
            asked(30, "kk", "answer", "a"),  # outside a 7-day window
            asked(8, "ru", "unknown"),
            *[asked(6, "kk", "answer", "a") for _ in range(3)],
            asked(5, "kk", "unknown"),
            asked(4, "ru", "answer", "b"),
            asked(3, "ru", "clarify"),
            *[asked(2, "ru", "unknown") for _ in range(3)],
            asked(1, "en", "answer", "c"),
        ],
    )
    write_lines(
        tmp_path / UNANSWERED_FILE,
        [
            declined(8, "курс доллара"),  # outside the window: does not count
            declined(5, "ауа райы қандай", "kk"),
            declined(2, "Курс  доллара?"),
            declined(2, "курс доллара"),
            declined(1.5, "КУРС ДОЛЛАРА!!"),  # the newest wording of the most asked question
        ],
    )
    return tmp_path


def test_questions_are_logged_with_outcome_and_fact_but_no_text(tmp_path: Path) -> None:
    log = ConversationLog(tmp_path, salt="pepper")
    log.record_question(lang="kk", sender_id="8123456789", outcome="answer", fact_id="starlink-market-status")
    log.record_question(lang="ru", sender_id="8123456789", outcome="unknown", fact_id=None)
    first, second = log.questions()
    assert (first.lang, first.outcome, first.fact_id) == ("kk", "answer", "starlink-market-status")
    assert (second.outcome, second.fact_id) == ("unknown", None)
    assert first.user == second.user == log.user_hash("8123456789")
    assert set(json.loads((tmp_path / QUESTIONS_FILE).read_text().splitlines()[0])) == {
        "time",
        "user",
        "lang",
        "outcome",
        "fact_id",
    }
    with pytest.raises(ValueError, match="outcome"):
        log.record_question(lang="ru", sender_id="1", outcome="maybe", fact_id=None)  # type: ignore[arg-type]


def test_an_unknown_outcome_line_is_skipped_not_fatal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_lines(tmp_path / QUESTIONS_FILE, [asked(1, "ru", "perhaps"), asked(1, "ru", "answer", "x")])
    [entry] = ConversationLog(tmp_path).questions()
    assert entry.outcome == "answer"
    assert "line 1 skipped" in caplog.text


def test_figures_per_language_and_overall_for_the_period(log_dir: Path) -> None:
    stats = usage_stats(ConversationLog(log_dir), 7, now=NOW)
    per_lang = {u.lang: (u.asked, u.answered, u.clarified) for u in stats.languages}
    assert per_lang == {"kk": (4, 3, 0), "ru": (5, 1, 1), "en": (1, 1, 0)}
    total = stats.total
    assert (total.asked, total.answered, total.clarified) == (10, 5, 1)
    assert total.answered_share == pytest.approx(0.5)
    assert {u.lang: u.answered_share for u in stats.languages} == pytest.approx(
        {"kk": 0.75, "ru": 0.2, "en": 1}
    )
    assert stats.since == NOW - dt.timedelta(days=7)


def test_top_unanswered_groups_wordings_and_shows_the_newest(log_dir: Path) -> None:
    stats = usage_stats(ConversationLog(log_dir), 7, now=NOW)
    top = [(q.text, q.count, q.lang) for q in stats.top_unanswered]
    assert top == [("КУРС ДОЛЛАРА!!", 3, "ru"), ("ауа райы қандай", 1, "kk")]
    assert usage_stats(ConversationLog(log_dir), 7, now=NOW, top=1).top_unanswered[0].count == 3
    assert [q.count for q in usage_stats(ConversationLog(log_dir), 30, now=NOW).top_unanswered] == [4, 1]


def test_a_longer_period_includes_older_entries_and_an_empty_one_is_all_zero(
    log_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert usage_stats(ConversationLog(log_dir), 31, now=NOW).total.asked == 12
    empty = usage_stats(ConversationLog(tmp_path_factory.mktemp("none")), 7, now=NOW)
    assert [u.asked for u in empty.languages] == [0, 0, 0]
    assert empty.total.answered_share == 0.0
    assert empty.top_unanswered == ()
    for days in (0, 10_000):
        with pytest.raises(ValueError):
            usage_stats(ConversationLog(log_dir), days, now=NOW)


def test_stats_survive_the_json_round_trip(log_dir: Path) -> None:
    stats = usage_stats(ConversationLog(log_dir), 7, now=NOW)
    data = json.loads(json.dumps(stats.to_json()))
    assert UsageStats.from_json(data) == stats
    assert data["total"] == {"lang": "all", "asked": 10, "answered": 5, "clarified": 1, "answered_share": 0.5}
    with pytest.raises(KeyError):
        UsageStats.from_json({"since": NOW.isoformat()})


@pytest.mark.parametrize(
    ("one", "other"),
    [("Курс доллара?", "курс   доллара"), ("қанша тұрады", "канша турады"), ("🙂🙂", "🙂🙂")],
)
def test_question_key_folds_case_spaces_punctuation_and_kazakh_letters(one: str, other: str) -> None:
    assert question_key(one) == question_key(other)
    assert question_key(one)


def test_cli_usage(log_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    now = dt.datetime.now(dt.UTC)
    log = ConversationLog(log_dir / "live", salt="pepper")
    for outcome in ("answer", "answer", "unknown"):
        log.record_question(
            lang="ru", sender_id="1", outcome=outcome, fact_id="f" if outcome == "answer" else None
        )
    log.record_unanswered(
        text="погода [bold]завтра[/]", lang="ru", sender_id="1", reason="low-score", scores={}
    )
    assert main(["--log-dir", str(log_dir / "live"), "usage", "--days", "1"]) == 0
    out = capsys.readouterr().out
    assert "questions in the last 1 day(s)" in out
    assert now.strftime("%Y-%m-%d") in out
    assert "67%" in out  # 2 of 3 answered
    assert "погода [bold]завтра[/]" in out  # shown as typed, not as markup
    assert main(["--log-dir", str(log_dir / "nothing"), "usage"]) == 0
    assert "no questions logged in the last 7 day(s)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--log-dir", str(log_dir), "usage", "--days", "0"])
