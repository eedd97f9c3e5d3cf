"""Delete whole conversations from Rasa's SQL tracker store when their last event is too old.

Run by Rasa's Python (``.venv-rasa/bin/python stack/tracker_retention.py ENDPOINTS --before T``;
``python -m stack prune`` does it), never by the app's: SQLAlchemy and the database drivers
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

os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.utils.endpoints import read_endpoint_config

TABLE = "events"  # SQLTrackerStore.SQLEvent.__tablename__


def engine_for(endpoints: str) -> sa.engine.Engine:
    """The engine Rasa's SQLTrackerStore would build from this endpoints file (without creating
    tables or waiting for the database: a prune run should fail, not hang, when it is down)."""
    config = read_endpoint_config(endpoints, "tracker_store")
    if config is None or (config.type or "").lower() != "sql":
        raise SystemExit(f"{endpoints}: retention needs tracker_store type SQL, not {config and config.type}")
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("endpoints", help="Rasa's endpoints file (the one Rasa runs with)")
    parser.add_argument("--before", type=float, required=True, help="cutoff, Unix seconds")
    args = parser.parse_args(argv)
    engine = engine_for(args.endpoints)
    try:
        print(json.dumps(prune(engine, args.before)))
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
