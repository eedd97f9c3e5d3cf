"""The top-level endpoints files, read by Rasa 3.6.21's own code with what the supervisor passes.

``endpoints.yml`` must work on a fresh clone with nothing set: a SQLite tracker store at
``AQPARAT_TRACKER_DB`` and Rasa's in-memory lock store. ``endpoints.production.yml`` must build
the same PostgreSQL and Redis stores as the containers' ``deploy/endpoints.yml``, from the same
variables.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from knowledge.settings import PROJECT_DIR
from stack.services import dialogue_services, rasa_env
from stack.settings import StackSettings

RASA_PYTHON = PROJECT_DIR / ".venv-rasa" / "bin" / "python"
DEFAULT = PROJECT_DIR / "endpoints.yml"
PRODUCTION = PROJECT_DIR / "endpoints.production.yml"
CONTAINERS = PROJECT_DIR / "deploy" / "endpoints.yml"

# Builds the stores exactly as `rasa run` does (TrackerStore.create / LockStore.create).
BUILD_STORES = """
import json, sys
from rasa.core.lock_store import LockStore
from rasa.core.tracker_store import TrackerStore
from rasa.core.utils import AvailableEndpoints

endpoints = AvailableEndpoints.read_endpoints(sys.argv[1])
found = {"action": endpoints.action.url, "nlg": endpoints.nlg.url}
lock = LockStore.create(endpoints.lock_store)  # Redis connects lazily
found["lock"] = type(lock).__name__
if sys.argv[2] == "create":
    store = TrackerStore.create(endpoints.tracker_store)  # connects (SQLite: creates the file)
    found["store"] = type(store).__name__
    found["url"] = str(store.engine.url)
else:
    import inspect
    from rasa.core.tracker_store import SQLTrackerStore
    url_keys = set(inspect.signature(SQLTrackerStore.get_db_url).parameters)
    kwargs = {k: v for k, v in endpoints.tracker_store.kwargs.items() if k in url_keys}
    url = SQLTrackerStore.get_db_url(host=endpoints.tracker_store.url, **kwargs)
    found["url"] = [url.drivername, url.username, url.password, url.host, url.port, url.database]
    found["lock_kwargs"] = {
        k: lock.red.connection_pool.connection_kwargs.get(k) for k in ("host", "port", "db", "password")
    }
print(json.dumps(found))
"""


def read_with_rasa(path: Path, env: dict[str, str], mode: str, home: Path) -> dict[str, Any]:
    if not RASA_PYTHON.exists():
        pytest.skip(".venv-rasa is missing (`make setup` creates it)")
    done = subprocess.run(
        [str(RASA_PYTHON), "-W", "ignore", "-c", BUILD_STORES, str(path), mode],
        # Not the project's directory, so the supervisor's absolute paths must not depend on it;
        # the project is on the path, as `rasa run` (started in it) puts it, for nlu.sessions.
        env={"PATH": "/usr/bin:/bin", "HOME": str(home), "RASA_TELEMETRY_ENABLED": "false"}
        | {"PYTHONPATH": str(PROJECT_DIR)}
        | env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def test_no_variable_is_quoted_so_rasa_substitutes_every_one() -> None:
    for path in (DEFAULT, PRODUCTION):
        assert not re.search(r"""["']\$\{""", path.read_text(encoding="utf-8")), path.name


def test_a_fresh_clone_keeps_conversations_in_sqlite_with_the_in_memory_lock_store(tmp_path: Path) -> None:
    settings = StackSettings.from_env({}).model_copy(
        update={"tracker_db": tmp_path / "new-dir" / "tracker.db", "actions_port": 5799}
    )
    env = rasa_env(settings)  # all the supervisor adds: a fresh clone sets nothing itself
    found = read_with_rasa(settings.endpoints, env, "create", tmp_path)
    assert found["action"] == "http://127.0.0.1:5799/webhook"
    assert found["nlg"] == "http://127.0.0.1:5799/nlg"
    assert found["store"] == "SessionTrackerStore"  # ours, not Rasa's in-memory fallback
    assert found["url"] == f"sqlite:///{tmp_path}/new-dir/tracker.db"
    assert found["lock"] == "InMemoryLockStore"
    assert settings.tracker_db.exists()  # Rasa created it, in the directory the supervisor made


def test_the_supervisor_hands_rasa_the_configured_endpoints_and_an_absolute_tracker_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = StackSettings.from_env(
        {"AQPARAT_TRACKER_DB": "rel/tracker.db", "AQPARAT_ENDPOINTS": str(PRODUCTION)}
    )
    rasa = dialogue_services(settings, tmp_path, "token")[1]
    assert rasa.command[rasa.command.index("--endpoints") + 1] == str(PRODUCTION)
    assert rasa.env["AQPARAT_TRACKER_DB"] == str(tmp_path / "rel" / "tracker.db")
    assert (tmp_path / "rel").is_dir()


def test_production_endpoints_build_postgresql_and_redis_from_the_deploy_variables(tmp_path: Path) -> None:
    env = {
        "AQPARAT_ACTIONS_PORT": "5055",
        "DB_HOST": "db.internal",
        "DB_PORT": "5433",
        "DB_NAME": "aqparat",
        "DB_USER": "rasa",
        "DB_PASSWORD": "p@ss:word/",
        "REDIS_HOST": "cache.internal",
        "REDIS_PORT": "6380",
        "REDIS_PASSWORD": "",  # empty is allowed (Rasa refuses only unset variables)
    }
    found = read_with_rasa(PRODUCTION, env, "describe", tmp_path)
    assert found["url"] == ["postgresql", "rasa", "p@ss:word/", "db.internal", 5433, "aqparat"]
    assert found["lock"] == "RedisLockStore"
    assert found["lock_kwargs"] == {"host": "cache.internal", "port": 6380, "db": 0, "password": ""}


def test_production_and_container_endpoints_share_their_stores() -> None:
    production = yaml.safe_load(PRODUCTION.read_text(encoding="utf-8"))
    containers = yaml.safe_load(CONTAINERS.read_text(encoding="utf-8"))
    for key in ("tracker_store", "lock_store"):
        assert production[key] == containers[key], key
    default = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    assert (default["action_endpoint"], default["nlg"]) == (production["action_endpoint"], production["nlg"])
