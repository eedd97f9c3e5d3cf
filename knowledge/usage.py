"""Usage statistics for a period, from the conversation logs: what maintainers see in `/stats`
and `python -m knowledge usage`.

Pure functions over log entries, so the figures are tested without a server, and the action
server (which owns the logs) and the bot (which shows them) agree on one JSON shape.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from knowledge.logs import ConversationLog, QuestionEntry, UnansweredEntry
from knowledge.schema import LANGUAGES
from knowledge.text import fold

DEFAULT_DAYS = 7
MAX_DAYS = 3660  # ten years: a typo such as 70000 must not overflow the date arithmetic
DEFAULT_TOP = 10


@dataclass(frozen=True)
class LanguageUsage:
    """Questions asked in one language and how they ended."""

    lang: str
    asked: int
    answered: int
    clarified: int

    @property
    def answered_share(self) -> float:
        """Answered outright; a clarifying choice is not (yet) an answer. 0 when nothing was asked."""
        return self.answered / self.asked if self.asked else 0.0

    @property
    def clarified_share(self) -> float:
        return self.clarified / self.asked if self.asked else 0.0


@dataclass(frozen=True)
class UnansweredQuestion:
    """One unanswered question, however often and however it was worded (newest wording shown)."""

    text: str
    lang: str
    count: int
    last_asked: dt.datetime


@dataclass(frozen=True)
class UsageStats:
    since: dt.datetime
    until: dt.datetime
    languages: tuple[LanguageUsage, ...]
    top_unanswered: tuple[UnansweredQuestion, ...]

    @property
    def total(self) -> LanguageUsage:
        return LanguageUsage(
            "all",
            sum(u.asked for u in self.languages),
            sum(u.answered for u in self.languages),
            sum(u.clarified for u in self.languages),
        )

    def to_json(self) -> dict[str, Any]:
        def usage(u: LanguageUsage) -> dict[str, Any]:
            return {
                "lang": u.lang,
                "asked": u.asked,
                "answered": u.answered,
                "clarified": u.clarified,
                "answered_share": round(u.answered_share, 4),
            }

        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "total": usage(self.total),
            "languages": [usage(u) for u in self.languages],
            "top_unanswered": [
                {"text": q.text, "lang": q.lang, "count": q.count, "last_asked": q.last_asked.isoformat()}
                for q in self.top_unanswered
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UsageStats:
        """The inverse of ``to_json``; raises KeyError, TypeError or ValueError on anything else."""
        return cls(
            since=_time(data["since"]),
            until=_time(data["until"]),
            languages=tuple(
                LanguageUsage(str(u["lang"]), int(u["asked"]), int(u["answered"]), int(u["clarified"]))
                for u in data["languages"]
            ),
            top_unanswered=tuple(
                UnansweredQuestion(str(q["text"]), str(q["lang"]), int(q["count"]), _time(q["last_asked"]))
                for q in data["top_unanswered"]
            ),
        )


def question_key(text: str) -> str:
    """Two wordings count as one question when they fold alike ("Курс доллара?" = "курс  доллара");
    text with no letters or digits (emoji only) keeps its own case-folded form."""
    return fold(text) or " ".join(text.casefold().split())


def compute(
    questions: Iterable[QuestionEntry],
    unanswered: Iterable[UnansweredEntry],
    since: dt.datetime,
    until: dt.datetime,
    top: int = DEFAULT_TOP,
) -> UsageStats:
    """Statistics over entries with ``since <= time <= until``."""
    asked: Counter[str] = Counter()
    outcomes: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for q in questions:
        if since <= q.time <= until:
            asked[q.lang] += 1
            outcomes[q.lang][q.outcome] += 1
    languages = tuple(
        LanguageUsage(lang, asked[lang], outcomes[lang]["answer"], outcomes[lang]["clarify"])
        for lang in (*LANGUAGES, *sorted(set(asked) - set(LANGUAGES)))
    )
    counts: Counter[str] = Counter()
    newest: dict[str, UnansweredEntry] = {}
    for entry in unanswered:  # oldest first, so the last one seen is the newest wording
        if since <= entry.time <= until:
            key = question_key(entry.text)
            counts[key] += 1
            newest[key] = entry
    ranked = sorted(counts, key=lambda key: (-counts[key], -newest[key].time.timestamp()))[:top]
    return UsageStats(
        since,
        until,
        languages,
        tuple(
            UnansweredQuestion(newest[key].text, newest[key].lang, counts[key], newest[key].time)
            for key in ranked
        ),
    )


def usage_stats(
    log: ConversationLog, days: int = DEFAULT_DAYS, *, top: int = DEFAULT_TOP, now: dt.datetime | None = None
) -> UsageStats:
    """The last ``days`` × 24 hours up to ``now``, read from ``log``."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}, not {days}")
    until = now or dt.datetime.now(dt.UTC)
    return compute(log.questions(), log.unanswered(), until - dt.timedelta(days=days), until, top)


def _time(value: object) -> dt.datetime:
    moment = dt.datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"time {value!r} has no time zone")
    return moment
