"""Delete whole conversations from Rasa's SQL tracker store when their last event is too old.

Run by Rasa's Python (``.venv-rasa/bin/python stack/tracker_retention.py ENDPOINTS --before T``;
``python -m stack prune`` does it; in containers the ``retention`` service runs it in the Rasa
image with ``--days N --every 86400``), never by the app's: SQLAlchemy and the database drivers
(psycopg2 for PostgreSQL) are Rasa's dependencies, not ours, and reading the endpoints file with
Rasa's own functions (``${VAR}`` substitution, ``SQLTrackerStore.get_db_url``, the PostgreSQL
pool and schema variables) guarantees that the database pruned is the one Rasa writes. So this
file imports only the standard library, SQLAlchemy 1.4 and Rasa, and must stay valid for Python
3.10 (the Rasa environment; it would also run in the rasa/rasa image).

A conversation (all events of one ``sender_id``, every session of it) goes as a whole or not at
all, and only when its *last* event is older than the cutoff: deleting old events one by one
would leave a returning user a tracker without its session start or with half a form. One
``DELETE`` statement, so a concurrent reader sees the conversation or nothing. Prints one JSON
line: ``{"conversations": N, "events": M, "store": "<dialect>"}``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.utils.common import class_from_module_path
from rasa.utils.endpoints import read_endpoint_config

TABLE = "events"  # SQLTrackerStore.SQLEvent.__tablename__
# Its own copy of stack.periodic.DAY_SECONDS, and its own loop in main() rather than
# stack.periodic.repeat: this file runs under Rasa's Python (and alone in the Rasa image), where
# our packages are not importable, so it uses only the standard library, SQLAlchemy and Rasa.
DAY_SECONDS = 86_400


def is_sql_store(store_type: str, endpoints: Path) -> bool:
    """Whether Rasa builds an ``SQLTrackerStore`` (or a subclass, such as ours in
    ``nlu/sessions.py``) from this type. A class path is imported the way Rasa imports it from its
    working directory, which holds the endpoints file both here and in the container."""
    if store_type.lower() == "sql":
        return True
    if "." not in store_type:
        return False
    sys.path.insert(0, str(endpoints.resolve().parent))
    try:
        found = class_from_module_path(store_type)
    except (ImportError, AttributeError):
        return False
    return isinstance(found, type) and issubclass(found, SQLTrackerStore)


def engine_for(endpoints: str) -> sa.engine.Engine:
    """The engine Rasa's SQLTrackerStore would build from this endpoints file (without creating
    tables or waiting for the database: a prune run should fail, not hang, when it is down)."""
    config = read_endpoint_config(endpoints, "tracker_store")
    if config is None or not is_sql_store(config.type or "", Path(endpoints)):
        raise SystemExit(f"{endpoints}: retention needs an SQL tracker store, not {config and config.type}")
    kwargs = dict(config.kwargs)
    url = SQLTrackerStore.get_db_url(
        dialect=kwargs.get("dialect", "sqlite"),
        host=config.url,
        port=int(kwargs["port"]) if kwargs.get("port") not in (None, "") else None,
        db=kwargs.get("db", "rasa.db"),
        username=kwargs.get("username"),
        password=kwargs.get("password"),
        query=kwargs.get("query"),
    )
    return sa.create_engine(url, **create_engine_kwargs(url))


def prune(engine: sa.engine.Engine, before: float) -> dict[str, object]:
    """Delete every conversation whose newest event's timestamp (Unix seconds) is before ``before``."""
    if not sa.inspect(engine).has_table(TABLE):
        return {"conversations": 0, "events": 0, "store": engine.dialect.name}  # Rasa never ran
    events = sa.table(TABLE, sa.column("sender_id"), sa.column("timestamp"))
    stale = (
        sa.select(events.c.sender_id)
        .group_by(events.c.sender_id)
        .having(sa.func.max(events.c.timestamp) < before)
    )
    with engine.begin() as connection:
        conversations = connection.execute(sa.select(sa.func.count()).select_from(stale.subquery())).scalar()
        deleted = connection.execute(sa.delete(events).where(events.c.sender_id.in_(stale))).rowcount
    return {"conversations": int(conversations or 0), "events": int(deleted), "store": engine.dialect.name}


def prune_days(engine: sa.engine.Engine, days: int, now: float | None = None) -> dict[str, object]:
    """``prune`` with the cutoff ``days`` days before now; 0 days keeps everything."""
    if days <= 0:
        return {"conversations": 0, "events": 0, "store": engine.dialect.name, "retention": "off"}
    return prune(engine, (time.time() if now is None else now) - days * DAY_SECONDS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("endpoints", help="Rasa's endpoints file (the one Rasa runs with)")
    cutoff = parser.add_mutually_exclusive_group(required=True)
    cutoff.add_argument("--before", type=float, help="cutoff, Unix seconds")
    cutoff.add_argument("--days", type=int, help="cutoff, days before each round; 0 keeps everything")
    parser.add_argument(
        "--every", type=float, default=0, help="seconds between rounds, forever (with --days); 0: one round"
    )
    parser.add_argument("--heartbeat", help="a file touched after every successful round (health checks)")
    args = parser.parse_args(argv)
    if args.every > 0 and args.days is None:
        parser.error("--every needs --days: a fixed --before would delete the same nothing every day")
    while True:
        try:
            engine = engine_for(args.endpoints)
            try:
                pruned = prune(engine, args.before) if args.days is None else prune_days(engine, args.days)
            finally:
                engine.dispose()
            print(json.dumps(pruned), flush=True)
            if args.heartbeat:
                Path(args.heartbeat).touch()
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            if args.every <= 0:
                raise
            # A database down for a minute must not end the loop: the next round tries again,
            # and a heartbeat older than two rounds makes the container unhealthy.
            print(
                f"retention round failed, trying again in {args.every:.0f} s: {exc}",
                file=sys.stderr,
                flush=True,
            )
        if args.every <= 0:
            return 0
        time.sleep(args.every)


if __name__ == "__main__":
    sys.exit(main())
