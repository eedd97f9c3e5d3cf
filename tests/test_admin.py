"""The action server's maintainer routes (actions/admin.py) over HTTP, and the bot's client for them.

The routes run in a real Sanic app driven through ASGI (httpx's transport, after Sanic's
lifespan start-up), over a real LiveKnowledge on a tiny fact set: a reload really builds,
really refuses a broken base, and the old index really keeps answering.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
import pytest
from sanic import Sanic

from actions.admin import add_admin_routes, authorized, reload_knowledge
from actions.resources import ActionResources
from actions.server import follow_published
from actions.settings import ActionSettings
from bot.admin import AdminClient, AdminUnavailable
from bot.settings import BotSettings
from knowledge.admin_contract import ReloadReply
from knowledge.admin_contract import ReloadReply as ReloadReport  # the bot's former name for it
from knowledge.embedder import Embedder
from knowledge.service import LiveKnowledge, ReloadResult
from tests.conftest import make_fact, write_yaml

TOKEN = "s3cret-token"
_apps = itertools.count()


@asynccontextmanager
async def serving(shared: ActionResources) -> AsyncIterator[httpx.AsyncClient]:
    """A fresh Sanic app with the admin routes, started through the ASGI lifespan protocol."""
    app = Sanic(f"admin_test_{next(_apps)}", configure_logging=False)
    app.config.TOUCHUP = False  # it rewrites shared classes at each start; a second app's start fails
    add_admin_routes(app, lambda: shared)
    inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    done = {kind: asyncio.Event() for kind in ("lifespan.startup.complete", "lifespan.shutdown.complete")}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] in done:
            done[message["type"]].set()

    lifespan = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, send))
    await inbox.put({"type": "lifespan.startup"})
    await asyncio.wait_for(done["lifespan.startup.complete"].wait(), 10)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://actions.test") as client:
            yield client
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(done["lifespan.shutdown.complete"].wait(), 10)
        lifespan.cancel()


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def shared(
    facts_dir: Path, settings_for: Callable[..., ActionSettings], embedder: Embedder, tmp_path: Path
) -> ActionResources:
    settings = settings_for(facts_dir, log_dir=tmp_path / "log", log_salt="pepper", rasa_token=TOKEN)
    process_resources = ActionResources(settings)
    services.__dict__["knowledge"] = LiveKnowledge(settings, embedder)  # not loaded yet
    return services


@pytest.mark.parametrize(
    ("header", "token", "allowed"),
    [
        (f"Bearer {TOKEN}", TOKEN, True),
        (f"bearer   {TOKEN} ", TOKEN, True),
        (f"Bearer {TOKEN}x", TOKEN, False),
        (TOKEN, TOKEN, False),
        (f"Basic {TOKEN}", TOKEN, False),
        (None, TOKEN, False),
        ("Bearer ", "", False),  # no configured token: the routes are off, whatever is sent
        (None, "", False),
        ("Bearer ключ", TOKEN, False),  # not ASCII: compared as bytes, refused, no exception
    ],
)
def test_only_the_configured_bearer_token_is_accepted(header: str | None, token: str, allowed: bool) -> None:
    assert authorized(header, token) is allowed


def test_routes_refuse_a_missing_or_wrong_token_and_are_off_without_one(shared: ActionResources) -> None:
    off = ActionResources(shared.settings.model_copy(update={"rasa_token": ""}))

    async def scenario() -> list[int]:
        statuses = []
        async with serving(shared) as client:
            for headers in ({}, bearer("wrong"), {"Authorization": TOKEN}):
                statuses.append((await client.post("/admin/reload", headers=headers)).status_code)
                statuses.append((await client.get("/admin/stats", headers=headers)).status_code)
        async with serving(off) as client:
            statuses.append((await client.post("/admin/reload", headers=bearer(""))).status_code)
            statuses.append((await client.get("/admin/stats", headers=bearer())).status_code)
        return statuses

    assert asyncio.run(scenario()) == [403] * 8
    assert shared.knowledge.fact_count == 0  # nothing was loaded by a refused request


def test_reload_builds_then_reuses_then_refuses_a_broken_base_and_keeps_serving(
    shared: ActionResources, facts_dir: Path
) -> None:
    async def reload(client: httpx.AsyncClient) -> dict[str, Any]:
        response = await client.post("/admin/reload", headers=bearer())
        assert response.status_code == 200
        return response.json()

    async def scenario() -> list[dict[str, Any]]:
        async with serving(shared) as client:
            first = await reload(client)
            second = await reload(client)
            write_yaml(facts_dir / "pricing.yml", {"facts": [make_fact(source="no-such-source")]})
            broken = await reload(client)
            return [first, second, broken]

    first, second, broken = asyncio.run(scenario())
    assert first == {"ok": True, "rebuilt": True, "message": "rebuilt", "problems": [], "facts": 1}
    assert second == {"ok": True, "rebuilt": False, "message": "loaded", "problems": [], "facts": 1}
    assert broken["ok"] is False
    assert broken["rebuilt"] is False
    assert broken["facts"] == 1  # the previous index still serves
    assert "error(s) in the fact files" in broken["message"]
    assert any("no-such-source" in p and p.startswith("error:") for p in broken["problems"])
    decision = shared.knowledge.decide("how much is a connection point", "en")
    assert decision.kind == "answer"  # and still answers
    assert ReloadReport.from_json(broken).problems == tuple(broken["problems"])


class SlowKnowledge:
    """Stands in for LiveKnowledge: a reload that lasts until the test lets it finish."""

    fact_count = 7

    def __init__(self) -> None:
        self.release = threading.Event()

    def reload(self) -> ReloadResult:
        assert self.release.wait(10), "the reload was never released"
        return ReloadResult(True, True, [], "rebuilt")


def test_a_running_reload_does_not_block_other_requests(shared: ActionResources) -> None:
    slow = SlowKnowledge()
    shared.__dict__["knowledge"] = slow

    async def scenario() -> tuple[int, dict[str, Any]]:
        async with serving(shared) as client:
            reloading = asyncio.create_task(client.post("/admin/reload", headers=bearer()))
            await asyncio.sleep(0.1)
            stats = await asyncio.wait_for(client.get("/admin/stats", headers=bearer()), 5)
            assert not reloading.done()
            slow.release.set()
            return stats.status_code, (await reloading).json()

    status, reloaded = asyncio.run(scenario())
    assert status == 200
    assert reloaded == {"ok": True, "rebuilt": True, "message": "rebuilt", "problems": [], "facts": 7}


def test_stats_route_reports_the_logged_period_and_checks_its_parameters(shared: ActionResources) -> None:
    log = shared.log
    for outcome in ("answer", "unknown", "unknown"):
        log.record_question(lang="kk", sender_id="1", outcome=outcome, fact_id=None)
    log.record_unanswered(text="ауа райы", lang="kk", sender_id="1", reason="low-score", scores={})

    async def scenario() -> list[httpx.Response]:
        async with serving(shared) as client:
            return [
                await client.get(f"/admin/stats{query}", headers=bearer())
                for query in ("", "?days=30&top=1", "?days=0", "?days=abc", "?days=99999", "?top=51")
            ]

    fine, longer, *bad = asyncio.run(scenario())
    body = fine.json()
    assert body["total"]["asked"] == 3
    assert body["total"]["answered_share"] == pytest.approx(1 / 3, abs=1e-4)
    assert body["top_unanswered"][0]["text"] == "ауа райы"
    assert longer.status_code == 200
    assert [r.status_code for r in bad] == [400] * 4
    assert "1 to" in bad[0].json()["error"]


def test_an_unexpected_reload_failure_is_reported_not_raised() -> None:
    class Broken:
        fact_count = 3

        def reload(self) -> ReloadResult:
            raise RuntimeError("disk on fire")

    reply = reload_knowledge(Broken())  # type: ignore[arg-type]
    assert reply == ReloadReply(False, False, "reload failed: disk on fire", [], 3)


# --- the bot's client ----------------------------------------------------------------------------


def client_for(handler: Callable[[httpx.Request], httpx.Response]) -> AdminClient:
    return AdminClient("http://actions.test", TOKEN, 2.0, transport=httpx.MockTransport(handler))


def test_client_sends_the_token_and_reads_what_the_server_writes() -> None:
    reply = ReloadReply(False, False, "2 error(s) in the fact files:", ["error: a.yml: x", "warning: b"], 41)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=asdict(reply))

    async def scenario() -> ReloadReport:
        client = client_for(handler)
        try:
            return await client.reload()
        finally:
            await client.aclose()

    report = asyncio.run(scenario())
    assert report == ReloadReport(False, False, reply.message, tuple(reply.problems), 41)
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert (seen[0].method, seen[0].url.path) == ("POST", "/admin/reload")


@pytest.mark.parametrize(
    "handler",
    [
        lambda request: httpx.Response(403, json={"error": "forbidden"}),
        lambda request: httpx.Response(500, text="boom"),
        lambda request: httpx.Response(200, text="not json"),
        lambda request: httpx.Response(200, json={"ok": "yes"}),
        lambda request: httpx.Response(200, json=[1, 2]),
    ],
    ids=["forbidden", "server-error", "not-json", "wrong-shape", "not-an-object"],
)
def test_client_turns_every_failure_into_unavailable(handler: Callable) -> None:
    async def scenario() -> None:
        client = client_for(handler)
        try:
            with pytest.raises(AdminUnavailable):
                await client.reload()
            with pytest.raises(AdminUnavailable):
                await client.stats(7)
        finally:
            await client.aclose()

    asyncio.run(scenario())


def test_client_reports_an_unreachable_action_server_as_unavailable() -> None:
    async def scenario() -> None:
        client = AdminClient("http://127.0.0.1:9", TOKEN, 1.0)  # the discard port: nothing listens
        try:
            with pytest.raises(AdminUnavailable):
                await client.stats(7)
        finally:
            await client.aclose()

    asyncio.run(scenario())


def test_settings_point_the_bot_at_the_action_server() -> None:
    assert BotSettings.from_env({}).actions_base_url == "http://127.0.0.1:5055"
    assert BotSettings.from_env({"AQPARAT_ACTIONS_PORT": "6000"}).actions_base_url == "http://127.0.0.1:6000"
    env = {"AQPARAT_ACTIONS_URL": "http://actions.internal:5055/"}
    assert BotSettings.from_env(env).actions_base_url == "http://actions.internal:5055"


def test_the_follow_loop_outlives_a_failed_look_at_the_shared_index() -> None:
    """A replica that once failed to read the shared index directory still follows later builds."""
    looks: list[str] = []

    class SharedDiskHiccup:
        def follow_published(self) -> bool:
            looks.append("look")
            if len(looks) == 1:
                raise OSError("stale NFS handle")
            return False

    async def watch() -> None:
        task = asyncio.create_task(follow_published(SharedDiskHiccup(), 0.01))  # type: ignore[arg-type]
        while len(looks) < 3:
            await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(asyncio.wait_for(watch(), 10))
    assert len(looks) >= 3
