"""The action server: rasa-sdk's app plus our NLG endpoint and the maintainers' admin routes
(actions/admin.py), in one process on loopback.

rasa-sdk's own runner binds to every interface (``0.0.0.0``) and starts worker processes that
would each load the embedding model; this runner binds to 127.0.0.1 by default, runs one
process, and loads the knowledge index before the first request rather than during it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
from pathlib import Path

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Request, Sanic, response

from actions.admin import add_admin_routes
from actions.nlg import render
from actions.resources import process_resources
from knowledge.logs import prune_logs
from knowledge.service import LiveKnowledge
from stack.periodic import DAY_SECONDS, repeat

log = logging.getLogger("actions.server")


def build_app() -> Sanic:
    executor = ActionExecutor()
    executor.register_package("actions")
    app = create_app(executor, cors_origins=None)

    @app.post("/nlg")
    async def nlg(request: Request) -> response.HTTPResponse:
        body = request.json if isinstance(request.json, dict) else {}
        return response.json(render(body, process_resources().settings.default_language))

    add_admin_routes(app, process_resources)

    @app.before_server_start
    async def warm_up(app: Sanic) -> None:
        shared = process_resources()
        shared.knowledge.retriever  # noqa: B018 - load the index and model before serving
        log.info("knowledge index loaded from %s", shared.settings.index_dir)
        if shared.settings.index_follow_seconds > 0:
            app.add_task(follow_published(shared.knowledge, shared.settings.index_follow_seconds))
        if shared.settings.retention_days > 0:
            app.add_task(prune_logs_daily(shared.settings.log_dir, shared.settings.retention_days))

    return app


async def prune_logs_daily(log_dir: Path, days: int, every: float = DAY_SECONDS) -> None:
    """Retention for the conversation logs this server writes: lines older than ``days`` days
    go, now and every day (stack/retention.py prunes the tracker store). Replicas sharing the
    files may all do it: the rewrite happens under the writers' lock and is idempotent."""

    def prune_once() -> None:
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
        log.info("retention (%d days): dropped log lines %s", days, prune_logs(log_dir, cutoff))

    await repeat(prune_once, every, "pruning the conversation logs", first_now=True, log=log)


async def follow_published(knowledge: LiveKnowledge, every: float) -> None:
    """Swap in builds other replicas publish (knowledge/service.py); loading one reads files and
    can take a second, hence off the event loop."""
    what = "looking for a published index"
    await repeat(knowledge.follow_published, every, what, first_now=False, log=log)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m actions.server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=process_resources().settings.actions_port)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    build_app().run(host=args.host, port=args.port, single_process=True, access_log=False)


if __name__ == "__main__":
    main()
