"""Maintainers' ``/reload`` and ``/stats``: who may use them, and what they say back.

Only listed Telegram user ids, and only in a private chat: the statistics quote what users
asked, which must not be posted into a group a maintainer happens to be in. Everyone else is
answered as for an unknown command (bot/telegram.py), so the commands stay invisible.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.admin import AdminClient, AdminUnavailable
from bot.relay import Who
from bot.settings import BotSettings
from bot.texts import (
    RELOAD_FAILED,
    RELOAD_MORE,
    RELOAD_REBUILT,
    RELOAD_UNCHANGED,
    RELOAD_WARNINGS,
    STATS_ALL_LANGUAGES,
    STATS_EMPTY,
    STATS_HEADER,
    STATS_LINE,
    STATS_NO_UNANSWERED,
    STATS_TOP,
    STATS_USAGE,
    UNAVAILABLE,
)
from knowledge.admin_contract import ReloadReply
from knowledge.usage import DEFAULT_DAYS, MAX_DAYS, LanguageUsage, UsageStats
from texts.localized import Texts

SHOWN_PROBLEMS = 10
PROBLEM_CHARS = 300  # one problem line; ten of them and the header stay well inside one message
SHOWN_QUESTIONS = 5
QUESTION_CHARS = 200


def is_maintainer(who: Who, settings: BotSettings) -> bool:
    return who.chat_type == "private" and who.user_id in settings.maintainers


def requested_days(args: Sequence[str]) -> int | None:
    """``/stats`` → the default period, ``/stats 30`` → 30 days; None for anything else."""
    if not args:
        return DEFAULT_DAYS
    if len(args) == 1 and args[0].isdigit() and 1 <= int(args[0]) <= MAX_DAYS:
        return int(args[0])
    return None


async def reload_reply(client: AdminClient, texts: Texts) -> str:
    try:
        report = await client.reload()
    except AdminUnavailable:
        return texts(UNAVAILABLE)
    return reload_text(report, texts)


async def stats_reply(client: AdminClient, texts: Texts, args: Sequence[str]) -> str:
    days = requested_days(args)
    if days is None:
        return texts(STATS_USAGE, max=texts.number(MAX_DAYS))
    try:
        stats = await client.stats(days)
    except AdminUnavailable:
        return texts(UNAVAILABLE)
    return stats_text(stats, texts)


def reload_text(report: ReloadReply, texts: Texts) -> str:
    """Success with the fact count, or the problems that stopped the swap (the first few: the
    full list is one ``make validate`` away)."""
    facts = texts.number(report.facts)
    if report.ok:
        lines = [texts(RELOAD_REBUILT if report.rebuilt else RELOAD_UNCHANGED, facts=facts)]
        if report.problems:
            lines += ["", texts(RELOAD_WARNINGS)]
    else:
        lines = [texts(RELOAD_FAILED, facts=facts)]
        if not report.problems:
            lines.append(_short(report.message, PROBLEM_CHARS))
    lines += [f"• {_short(problem, PROBLEM_CHARS)}" for problem in report.problems[:SHOWN_PROBLEMS]]
    if len(report.problems) > SHOWN_PROBLEMS:
        lines.append(texts(RELOAD_MORE, count=texts.number(len(report.problems) - SHOWN_PROBLEMS)))
    return "\n".join(lines)


def stats_text(stats: UsageStats, texts: Texts) -> str:
    header = texts(STATS_HEADER, start=texts.date(stats.since.date()), end=texts.date(stats.until.date()))
    if not stats.total.asked and not stats.top_unanswered:
        return f"{header}\n{texts(STATS_EMPTY)}"
    lines = [header, _usage_line(stats.total, texts(STATS_ALL_LANGUAGES), texts)]
    lines += [_usage_line(u, texts.language_name(u.lang), texts) for u in stats.languages if u.asked]
    lines.append("")
    if stats.top_unanswered:
        lines.append(texts(STATS_TOP))
        lines += [
            f"{rank}. {_short(q.text, QUESTION_CHARS)} (×{texts.number(q.count)})"
            for rank, q in enumerate(stats.top_unanswered[:SHOWN_QUESTIONS], start=1)
        ]
    else:
        lines.append(texts(STATS_NO_UNANSWERED))
    return "\n".join(lines)


def _usage_line(usage: LanguageUsage, label: str, texts: Texts) -> str:
    return texts(
        STATS_LINE,
        language=label,
        asked=texts.number(usage.asked),
        answered=texts.percent(usage.answered_share) if usage.asked else "–",
        clarified=texts.percent(usage.clarified_share) if usage.asked else "–",
    )


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())  # a question's line breaks would break the numbered list
    return text if len(text) <= limit else text[: limit - 1] + "…"
