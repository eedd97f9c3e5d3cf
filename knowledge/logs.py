"""What the bot could not answer and what users thought of its answers, for maintainers.

Three append-only JSON-lines files under one directory: ``unanswered.jsonl`` tells maintainers
which facts or example questions to add, ``feedback.jsonl`` which answers fall short, and
``questions.jsonl`` how every question ended, so usage statistics have a denominator (no text:
the first file keeps the unanswered ones, and keeping the answered ones would store what people
asked for no use). Users are known only by a salted hash of their sender id, so the files show
that one person asked three times without saying who; the salt stays in the log directory (or
in the settings), never in the lines.

The files themselves (locked appends, tolerant reads, pruning, the salt file) are
``knowledge/jsonl.py``'s; this module decides what a line holds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, get_args

from knowledge.jsonl import append_record, make_private_dir, prune_before, read_records, stored_salt
from knowledge.settings import KnowledgeSettings

log = logging.getLogger(__name__)

UNANSWERED_FILE = "unanswered.jsonl"
FEEDBACK_FILE = "feedback.jsonl"
QUESTIONS_FILE = "questions.jsonl"
LOG_FILES = (UNANSWERED_FILE, FEEDBACK_FILE, QUESTIONS_FILE)
SALT_FILE = "salt"
MAX_TEXT_CHARS = 1_000
MAX_FIELD_CHARS = 100  # language, reason, fact id: short by nature; capped so a bug cannot bloat the log
MAX_SCORES = 10
HASH_CHARS = 16
TOP, THRESHOLD = "top", "threshold"  # score names the reader understands; others are fact ids
Outcome = Literal["answer", "clarify", "unknown"]  # the retriever's decision kinds
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)


@dataclass(frozen=True)
class UnansweredEntry:
    """A question the bot declined or could not place, with the scores that fell short."""

    time: dt.datetime
    text: str
    lang: str
    user: str
    reason: str
    scores: dict[str, float]

    @property
    def best_score(self) -> float | None:
        """How close the bot came: ``scores["top"]`` when logged, else the highest fact score."""
        if TOP in self.scores:
            return self.scores[TOP]
        facts = [score for name, score in self.scores.items() if name != THRESHOLD]
        return max(facts) if facts else None

    @property
    def threshold(self) -> float | None:
        return self.scores.get(THRESHOLD)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> UnansweredEntry:
        scores = record["scores"]
        if not isinstance(scores, dict):
            raise TypeError("scores is not a mapping")
        return cls(
            time=_parse_time(record["time"]),
            text=_str(record["text"]),
            lang=_str(record["lang"]),
            user=_str(record["user"]),
            reason=_str(record["reason"]),
            scores={str(k): float(v) for k, v in scores.items()},
        )


@dataclass(frozen=True)
class FeedbackEntry:
    """A user's "helpful / not helpful" on an answer."""

    time: dt.datetime
    helpful: bool
    fact_id: str | None
    lang: str
    user: str
    question: str | None

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> FeedbackEntry:
        helpful = record["helpful"]
        if not isinstance(helpful, bool):
            raise TypeError("helpful is not true or false")
        return cls(
            time=_parse_time(record["time"]),
            helpful=helpful,
            fact_id=_optional_str(record.get("fact_id")),
            lang=_str(record["lang"]),
            user=_str(record["user"]),
            question=_optional_str(record.get("question")),
        )


@dataclass(frozen=True)
class QuestionEntry:
    """How one question ended: answered (with the fact), a clarifying choice offered, or declined."""

    time: dt.datetime
    lang: str
    user: str
    outcome: Outcome
    fact_id: str | None

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> QuestionEntry:
        outcome = record["outcome"]
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        return cls(
            time=_parse_time(record["time"]),
            lang=_str(record["lang"]),
            user=_str(record["user"]),
            outcome=outcome,
            fact_id=_optional_str(record.get("fact_id")),
        )


class ConversationLog:
    """The three logs in one directory; safe to share between threads and processes."""

    def __init__(self, directory: Path, salt: str = "") -> None:
        self.directory = Path(directory)
        self._given_salt = salt

    @classmethod
    def from_settings(cls, settings: KnowledgeSettings) -> ConversationLog:
        return cls(settings.log_dir, settings.log_salt)

    @property
    def unanswered_path(self) -> Path:
        return self.directory / UNANSWERED_FILE

    @property
    def feedback_path(self) -> Path:
        return self.directory / FEEDBACK_FILE

    @property
    def questions_path(self) -> Path:
        return self.directory / QUESTIONS_FILE

    @cached_property
    def _salt(self) -> str:
        """The configured salt, else the one kept in the directory (made on first use, so reading
        the logs never creates anything)."""
        return self._given_salt or stored_salt(self.directory / SALT_FILE)

    def user_hash(self, sender_id: str) -> str:
        """Stable for one sender under one salt, meaningless without the salt (HMAC-SHA256)."""
        digest = hmac.new(self._salt.encode(), str(sender_id).encode(), hashlib.sha256)
        return digest.hexdigest()[:HASH_CHARS]

    def record_unanswered(
        self, *, text: str, lang: str, sender_id: str, reason: str, scores: dict[str, float]
    ) -> None:
        """Log a question the bot did not answer. ``scores`` explain why: ``top`` (the best
        fact's score) and ``threshold``, and/or scores by fact id; the ``MAX_SCORES`` highest
        are kept."""
        finite = {str(k): round(float(v), 4) for k, v in scores.items() if math.isfinite(v)}
        best = dict(sorted(finite.items(), key=lambda item: -item[1])[:MAX_SCORES])
        self._append(
            self.unanswered_path,
            {
                "text": _cap(text, MAX_TEXT_CHARS),
                "lang": _cap(lang, MAX_FIELD_CHARS),
                "sender_id": sender_id,
                "reason": _cap(reason, MAX_FIELD_CHARS),
                "scores": best,
            },
        )

    def record_feedback(
        self, *, helpful: bool, fact_id: str | None, lang: str, sender_id: str, question: str | None
    ) -> None:
        """Log a user's verdict on an answer (the fact it gave and the question it answered)."""
        self._append(
            self.feedback_path,
            {
                "helpful": bool(helpful),
                "fact_id": None if fact_id is None else _cap(fact_id, MAX_FIELD_CHARS),
                "lang": _cap(lang, MAX_FIELD_CHARS),
                "sender_id": sender_id,
                "question": None if question is None else _cap(question, MAX_TEXT_CHARS),
            },
        )

    def record_question(self, *, lang: str, sender_id: str, outcome: Outcome, fact_id: str | None) -> None:
        """Log how a question ended; ``fact_id`` is the fact answered with, if any."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
        self._append(
            self.questions_path,
            {
                "lang": _cap(lang, MAX_FIELD_CHARS),
                "sender_id": sender_id,
                "outcome": outcome,
                "fact_id": None if fact_id is None else _cap(fact_id, MAX_FIELD_CHARS),
            },
        )

    def unanswered(self) -> list[UnansweredEntry]:
        """Every readable entry, oldest first."""
        return read_records(self.unanswered_path, UnansweredEntry.from_record)

    def feedback(self) -> list[FeedbackEntry]:
        """Every readable entry, oldest first."""
        return read_records(self.feedback_path, FeedbackEntry.from_record)

    def questions(self) -> list[QuestionEntry]:
        """Every readable entry, oldest first."""
        return read_records(self.questions_path, QuestionEntry.from_record)

    def _append(self, path: Path, record: dict[str, Any]) -> None:
        """Write one line; a failure is logged, not raised: a full disk must not cost a user
        their answer."""
        try:
            make_private_dir(self.directory)
            fields = {"user": self.user_hash(record.pop("sender_id")), **record}
        except (OSError, ValueError):
            log.exception("cannot write to the conversation log %s", path)
            return
        append_record(path, fields)


def _parse_time(value: object) -> dt.datetime:
    moment = dt.datetime.fromisoformat(_str(value))
    if moment.tzinfo is None:
        raise ValueError(f"time {value!r} has no time zone")
    return moment.astimezone(dt.UTC)


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def _optional_str(value: object) -> str | None:
    return None if value is None else _str(value)


def _cap(text: str, limit: int) -> str:
    return str(text)[:limit]


def prune_logs(directory: Path, before: dt.datetime) -> dict[str, int]:
    """Every conversation log in ``directory``: lines dropped per file that exists."""
    return {name: prune_before(directory / name, before) for name in LOG_FILES if (directory / name).exists()}
