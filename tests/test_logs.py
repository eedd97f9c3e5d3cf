"""Conversation logs: private (salted hashes only), safe under concurrent writers, tolerant readers."""

from __future__ import annotations

import datetime as dt
import json
import logging
import multiprocessing
import stat
import threading
from pathlib import Path

import pytest

from knowledge.logs import FEEDBACK_FILE, SALT_FILE, UNANSWERED_FILE, ConversationLog
from knowledge.settings import KnowledgeSettings

SENDER = "8123456789"


def unanswered(log: ConversationLog, text: str = "какой курс доллара", sender: str = SENDER) -> None:
    log.record_unanswered(
        text=text, lang="ru", sender_id=sender, reason="below-threshold", scores={"fact-a": 0.31, "b": 0.2}
    )


def test_hash_is_salted_stable_and_short(tmp_path: Path) -> None:
    one = ConversationLog(tmp_path / "one", salt="pepper")
    assert one.user_hash(SENDER) == ConversationLog(tmp_path / "other", salt="pepper").user_hash(SENDER)
    assert one.user_hash(SENDER) != ConversationLog(tmp_path, salt="salt").user_hash(SENDER)
    assert one.user_hash(SENDER) != one.user_hash("8123456780")
    assert len(one.user_hash(SENDER)) == 16
    int(one.user_hash(SENDER), 16)  # hex


def test_empty_salt_is_made_once_privately_and_reused(tmp_path: Path) -> None:
    directory = tmp_path / "log"
    first = ConversationLog(directory).user_hash(SENDER)
    salt_file = directory / SALT_FILE
    assert stat.S_IMODE(salt_file.stat().st_mode) == 0o600
    assert len(salt_file.read_text().strip()) == 64
    assert ConversationLog(directory).user_hash(SENDER) == first
    assert ConversationLog(tmp_path / "elsewhere").user_hash(SENDER) != first  # a new random salt


def test_from_settings_uses_the_log_settings(tmp_path: Path) -> None:
    settings = KnowledgeSettings.from_env({}).model_copy(
        update={"log_dir": tmp_path / "logs", "log_salt": "pepper"}
    )
    log = ConversationLog.from_settings(settings)
    assert log.directory == tmp_path / "logs"
    assert log.user_hash(SENDER) == ConversationLog(tmp_path, "pepper").user_hash(SENDER)
    assert not (tmp_path / "logs" / SALT_FILE).exists()  # a configured salt is never written down


def test_records_round_trip_oldest_first(tmp_path: Path) -> None:
    log = ConversationLog(tmp_path / "new" / "log", salt="pepper")  # the directory is created
    unanswered(log, "first")
    unanswered(log, "second")
    log.record_feedback(
        helpful=False, fact_id="bot-scope", lang="kk", sender_id=SENDER, question="сен кімсің"
    )
    log.record_feedback(helpful=True, fact_id=None, lang="en", sender_id=SENDER, question=None)
    first, second = log.unanswered()
    assert [first.text, second.text] == ["first", "second"]
    assert first.time <= second.time
    assert first.time.tzinfo == dt.UTC
    assert abs(first.time - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert first.lang == "ru"
    assert first.reason == "below-threshold"
    assert first.scores == {"fact-a": 0.31, "b": 0.2}
    assert first.best_score == 0.31
    assert first.user == log.user_hash(SENDER)
    no, yes = log.feedback()
    assert (no.helpful, no.fact_id, no.lang, no.question) == (False, "bot-scope", "kk", "сен кімсің")
    assert (yes.helpful, yes.fact_id, yes.question) == (True, None, None)
    line = json.loads((log.directory / UNANSWERED_FILE).read_text().splitlines()[0])
    assert dt.datetime.fromisoformat(line["time"]).utcoffset() == dt.timedelta(0)
    assert stat.S_IMODE((log.directory / FEEDBACK_FILE).stat().st_mode) == 0o600


def test_raw_sender_id_never_reaches_the_files(tmp_path: Path) -> None:
    log = ConversationLog(tmp_path)
    unanswered(log)
    log.record_feedback(helpful=True, fact_id="bot-scope", lang="ru", sender_id=SENDER, question="?")
    for path in tmp_path.iterdir():
        assert SENDER not in path.read_text(), path.name


def test_text_is_kept_as_given_up_to_1000_characters(tmp_path: Path) -> None:
    log = ConversationLog(tmp_path, salt="pepper")
    tricky = 'line one\nline two "quoted" \\ {braces} [bold]not markup[/] әғқ 😀'
    unanswered(log, tricky)
    unanswered(log, "x" * 5_000)
    log.record_feedback(helpful=True, fact_id="f", lang="en", sender_id="1", question="q" * 5_000)
    kept, capped = log.unanswered()
    assert kept.text == tricky
    assert capped.text == "x" * 1_000
    assert log.feedback()[0].question == "q" * 1_000
    assert len((tmp_path / UNANSWERED_FILE).read_text().splitlines()) == 2  # newlines stay escaped


@pytest.mark.parametrize(
    ("scores", "best", "threshold"),
    [
        ({"top": 0.42, "threshold": 0.5}, 0.42, 0.5),  # what the action server logs
        ({"fact-a": 0.3, "fact-b": 0.35, "threshold": 0.5}, 0.35, 0.5),
        ({"threshold": 0.5}, None, 0.5),
        ({}, None, None),
    ],
)
def test_best_score_is_never_the_threshold(
    tmp_path: Path, scores: dict[str, float], best: float | None, threshold: float | None
) -> None:
    log = ConversationLog(tmp_path, salt="pepper")
    log.record_unanswered(text="q", lang="en", sender_id="1", reason="low-score", scores=scores)
    [entry] = log.unanswered()
    assert (entry.best_score, entry.threshold) == (best, threshold)


def test_non_finite_scores_are_dropped(tmp_path: Path) -> None:
    log = ConversationLog(tmp_path, salt="pepper")
    log.record_unanswered(
        text="q",
        lang="en",
        sender_id="1",
        reason="r",
        scores={"a": float("nan"), "b": float("inf"), "c": 0.5},
    )
    assert log.unanswered()[0].scores == {"c": 0.5}


def test_reading_an_absent_log_creates_nothing(tmp_path: Path) -> None:
    log = ConversationLog(tmp_path / "nothing-yet")
    assert log.unanswered() == []
    assert log.feedback() == []
    assert not (tmp_path / "nothing-yet").exists()


def test_concurrent_threads_write_intact_lines(tmp_path: Path) -> None:
    log = ConversationLog(tmp_path)  # the salt itself is created by racing threads too
    texts_per_thread, threads = 150, 8
    barrier = threading.Barrier(threads)

    def write(worker: int) -> None:
        barrier.wait()
        for i in range(texts_per_thread):
            unanswered(log, f"{worker}:{i}:" + "ж" * 900, sender=f"user-{worker}")

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    lines = (tmp_path / UNANSWERED_FILE).read_text().splitlines()
    assert len(lines) == threads * texts_per_thread
    assert all(json.loads(line)["text"].endswith("ж" * 900) for line in lines)
    entries = log.unanswered()
    assert {e.text.split(":")[0] for e in entries} == {str(n) for n in range(threads)}
    for n in range(threads):  # each writer's records keep their order
        mine = [int(e.text.split(":")[1]) for e in entries if e.text.startswith(f"{n}:")]
        assert mine == list(range(texts_per_thread))


def _write_from_process(directory: str, worker: int, count: int) -> None:
    log = ConversationLog(Path(directory))
    for i in range(count):
        unanswered(log, f"{worker}:{i}:" + "q" * 900, sender=f"process-{worker}")


def test_concurrent_processes_write_intact_lines_and_share_one_salt(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_write_from_process, args=(str(tmp_path), n, 100)) for n in range(3)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    lines = (tmp_path / UNANSWERED_FILE).read_text().splitlines()
    assert len(lines) == 300
    assert all(json.loads(line)["text"].endswith("q" * 900) for line in lines)
    log = ConversationLog(tmp_path)
    assert {e.user for e in log.unanswered()} == {log.user_hash(f"process-{n}") for n in range(3)}


def test_corrupt_and_truncated_lines_are_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = ConversationLog(tmp_path, salt="pepper")
    unanswered(log, "good one")
    with (tmp_path / UNANSWERED_FILE).open("ab") as file:
        file.write(b"not json at all\n")
        file.write(b"\xff\xfe invalid utf-8\n")
        file.write(b'["a", "list"]\n')
        file.write(b'{"time": "2026-01-01T00:00:00+00:00", "text": "no other fields"}\n')
        file.write(
            b'{"time": "yesterday", "text": "t", "lang": "ru", "user": "u", "reason": "r", "scores": {}}\n'
        )
        file.write(b'{"time": "2026-01-01T00:00:00+00:00", "text": "half a li')  # a writer died here
    unanswered(log, "good two")  # starts on its own line despite the torn one before it
    with caplog.at_level(logging.WARNING, logger="knowledge.jsonl"):
        entries = log.unanswered()
    assert [e.text for e in entries] == ["good one", "good two"]
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 6
    assert "line 2 skipped" in skipped[0]


def test_write_failure_is_logged_not_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    log = ConversationLog(blocker / "log", salt="pepper")
    with caplog.at_level(logging.ERROR, logger="knowledge.logs"):
        unanswered(log)
        log.record_feedback(helpful=True, fact_id=None, lang="en", sender_id="1", question=None)
    assert sum("cannot write to the conversation log" in r.getMessage() for r in caplog.records) == 2
