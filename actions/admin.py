"""Maintainers' routes on the action server: reload the knowledge index, and usage statistics.

They live here, not in the bot, because the index lives in this process's memory: only this
process can swap it without a restart, and it also owns the conversation logs. They are guarded
by the bearer token the whole stack shares (``AQPARAT_RASA_TOKEN``; ``python -m stack`` hands it
to every process). Without a configured token they are off (403): the action server answers
anything that can reach its port, so "no token" must never mean "no check". The paths and the
reload reply are the contract in knowledge/admin_contract.py, which the bot's client reads too.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable

from sanic import Request, Sanic, response

from actions.resources import ActionResources
from knowledge.admin_contract import RELOAD_PATH, STATS_PATH, ReloadReply
from knowledge.service import LiveKnowledge
from knowledge.usage import DEFAULT_DAYS, DEFAULT_TOP, MAX_DAYS, usage_stats

log = logging.getLogger(__name__)

MAX_TOP = 50
MAX_PROBLEMS = 100  # a broken base can list hundreds; the first ones are what a maintainer fixes first


def authorized(header: str | None, token: str) -> bool:
    """``Authorization: Bearer <token>``, compared in constant time; never true without a token."""
    scheme, _, given = (header or "").strip().partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def reload_knowledge(knowledge: LiveKnowledge) -> ReloadReply:
    """Validate, rebuild if stale, swap; blocking (seconds to minutes), so run it off the loop.
    Errors come first among the problems: they are why nothing was swapped."""
    try:
        result = knowledge.reload()
    except Exception as exc:  # reload reports its expected failures; this is the unexpected rest
        log.exception("reload failed")
        return ReloadReply(False, False, f"reload failed: {exc}", facts=knowledge.fact_count)
    problems = sorted(result.problems, key=lambda problem: problem.level != "error")
    reply = ReloadReply(
        ok=result.ok,
        rebuilt=result.rebuilt,
        message=result.message.splitlines()[0] if result.message else "",
        problems=[str(problem) for problem in problems[:MAX_PROBLEMS]],
        facts=knowledge.fact_count,
    )
    log.info("reload: ok=%s rebuilt=%s facts=%d %s", reply.ok, reply.rebuilt, reply.facts, reply.message)
    return reply


def bounded_int(value: str | None, default: int, upper: int) -> int:
    """A query parameter as a whole number in 1..upper; ValueError otherwise."""
    if value is None:
        return default
    if not value.isdigit() or not 1 <= int(value) <= upper:
        raise ValueError(f"expected a whole number from 1 to {upper}, not {value[:20]!r}")
    return int(value)


def add_admin_routes(app: Sanic, shared: Callable[[], ActionResources]) -> None:
    def refused(request: Request) -> response.HTTPResponse | None:
        if authorized(request.headers.get("authorization"), shared().settings.rasa_token):
            return None
        log.warning("refused %s %s: no valid admin token", request.method, request.path)
        return response.json({"error": "forbidden"}, status=403)

    @app.post(RELOAD_PATH)
    async def admin_reload(request: Request) -> response.HTTPResponse:
        if (refusal := refused(request)) is not None:
            return refusal
        reply = await asyncio.to_thread(reload_knowledge, shared().knowledge)
        return response.json(reply.to_json())

    @app.get(STATS_PATH)
    async def admin_stats(request: Request) -> response.HTTPResponse:
        if (refusal := refused(request)) is not None:
            return refusal
        try:
            days = bounded_int(request.args.get("days"), DEFAULT_DAYS, MAX_DAYS)
            top = bounded_int(request.args.get("top"), DEFAULT_TOP, MAX_TOP)
        except ValueError as error:
            return response.json({"error": str(error)}, status=400)
        stats = await asyncio.to_thread(usage_stats, shared().log, days, top=top)
        return response.json(stats.to_json())
