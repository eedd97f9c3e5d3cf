"""A small production on 127.0.0.1: PostgreSQL, Redis, one action server and two Rasa replicas.

Built from the pieces ``make serve`` uses (``stack.services.dialogue_services`` with
``endpoints.production.yml``, ``stack.supervisor.Service`` and ``stack.process``), so the tests
exercise what ships. PostgreSQL and Redis come from Debian's packages, installed with apt when
missing, and run in the foreground as our children with throwaway data directories, so every
process of the cluster can be killed and restarted by the tests and all of them are stopped at
the end, whatever happened.

Ports are 57xx (``PORTS``); a port already taken fails the run at once instead of testing
someone else's server.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis

from knowledge.settings import PROJECT_DIR
from stack import process
from stack.services import MODEL, dialogue_services
from stack.settings import StackSettings
from stack.supervisor import Service

log = logging.getLogger(__name__)

PG_PORT = 5781
REDIS_PORT = 5782
ACTIONS_PORT = 5785
RASA_PORTS = (5791, 5792)
PORTS = (PG_PORT, REDIS_PORT, ACTIONS_PORT, *RASA_PORTS)
TOKEN = "integration-token"
DB_NAME = DB_USER = "aqparat"
PRODUCTION_ENDPOINTS = PROJECT_DIR / "endpoints.production.yml"
START_TIMEOUT = 300.0


def postgres_bin() -> Path | None:
    """Debian keeps the server binaries in /usr/lib/postgresql/<version>/bin, off PATH; newest wins."""
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/postgres")]
    if found:
        return max(found, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    on_path = shutil.which("postgres")
    return Path(on_path).resolve().parent if on_path else None


def redis_server() -> str | None:
    return shutil.which("redis-server")


def ensure_installed() -> None:
    """``apt-get install`` PostgreSQL and Redis when missing (``apt-get update`` first only if the
    install fails, so a machine with fresh lists makes no extra request)."""
    missing = [
        package
        for package, present in (("postgresql", postgres_bin()), ("redis-server", redis_server()))
        if present is None
    ]
    if not missing:
        return
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if prefix and shutil.which("sudo") is None:
        raise RuntimeError(f"{' and '.join(missing)} missing, and installing them needs root or sudo")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*prefix, "apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
    log.warning("installing %s from Debian's packages", ", ".join(missing))
    if subprocess.run(install, env=env, check=False).returncode != 0:
        subprocess.run([*prefix, "apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(install, env=env, check=True)
    if postgres_bin() is None or redis_server() is None:
        raise RuntimeError(f"apt-get installed {missing}, but postgres or redis-server is still missing")


@dataclass
class Cluster:
    """Everything the integration tests start, and how to kill and restart each piece."""

    work: Path  # logs and Redis's directory
    pg_root: Path  # PostgreSQL's data and socket; world-traversable so the postgres user reaches it
    db_password: str = field(default_factory=lambda: secrets.token_hex(16))
    redis_password: str = field(default_factory=lambda: secrets.token_hex(16))
    postgres: Service = field(init=False)
    redis: Service = field(init=False)
    actions: Service = field(init=False)
    replicas: list[Service] = field(init=False)

    def __post_init__(self) -> None:
        pg_bin = postgres_bin()
        redis_bin = redis_server()
        assert pg_bin is not None, "call ensure_installed() first"
        assert redis_bin is not None, "call ensure_installed() first"
        self.pg_bin = pg_bin
        self.pg_data = self.pg_root / "data"
        postgres = [
            str(pg_bin / "postgres"), "-D", str(self.pg_data), "-h", "127.0.0.1", "-p", str(PG_PORT),
            "-k", str(self.pg_root), "-c", "max_connections=40",
        ]  # fmt: skip
        self.postgres = Service(
            "postgresql",
            postgres,
            None,
            log_file=self.work / "postgres.log",
            user="postgres" if os.geteuid() == 0 else None,  # PostgreSQL refuses to run as root
        )
        (self.work / "redis").mkdir(exist_ok=True)
        redis_command = [
            redis_bin, "--bind", "127.0.0.1", "--port", str(REDIS_PORT), "--requirepass",
            self.redis_password, "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--dir", str(self.work / "redis"),
        ]  # fmt: skip
        self.redis = Service("redis", redis_command, None, log_file=self.work / "redis.log")
        env = self.env()
        pieces = [
            dialogue_services(
                StackSettings.from_env(env | {"AQPARAT_RASA_PORT": str(port)}), self.work, TOKEN
            )
            for port in RASA_PORTS
        ]
        self.actions = dataclasses.replace(pieces[0][0], env={**pieces[0][0].env, **env})
        self.replicas = [
            dataclasses.replace(
                rasa,
                name=f"rasa {index}",
                env={**rasa.env, **env, "SQL_POOL_SIZE": "5", "SQL_MAX_OVERFLOW": "5"},
                log_file=self.work / f"rasa-{index}.log",
            )
            for index, (_, rasa) in enumerate(pieces)
        ]

    # --- what the processes read ---------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """The environment of every process we start, and of ``python -m stack prune``: our
        settings, and the DB_*/REDIS_* variables endpoints.production.yml reads."""
        return {
            "AQPARAT_ENDPOINTS": str(PRODUCTION_ENDPOINTS),
            "AQPARAT_ACTIONS_PORT": str(ACTIONS_PORT),
            "AQPARAT_RASA_TOKEN": TOKEN,
            "AQPARAT_LOG_DIR": str(self.work / "log"),
            "AQPARAT_LOG_SALT": "integration",
            "AQPARAT_SCHOOLS_FILE": str(self.work / "no-registry.json"),
            "AQPARAT_TRACKER_DB": str(self.work / "unused-sqlite-tracker.db"),
            "DB_HOST": "127.0.0.1",
            "DB_PORT": str(PG_PORT),
            "DB_NAME": DB_NAME,
            "DB_USER": DB_USER,
            "DB_PASSWORD": self.db_password,
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(REDIS_PORT),
            "REDIS_PASSWORD": self.redis_password,
            "RASA_TELEMETRY_ENABLED": "false",
        }

    @property
    def bot_store(self) -> str:
        """The bot's store as in production: Redis database 1, beside the lock store's 0."""
        return f"redis://:{self.redis_password}@127.0.0.1:{REDIS_PORT}/1"

    def rasa_url(self, replica: int) -> str:
        return f"http://127.0.0.1:{RASA_PORTS[replica]}"

    # --- starting and stopping -------------------------------------------------------------------

    def _as_postgres_user(self) -> list[str]:
        """PostgreSQL refuses to run as root: as root, initialise it as the package's ``postgres`` user."""
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def init_postgres(self) -> None:
        """A fresh cluster with a password-protected user and database, as production has."""
        self.pg_root.mkdir(parents=True, exist_ok=True)
        password_file = self.pg_root / "password"
        password_file.write_text(self.db_password, encoding="utf-8")
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            for path in (self.pg_root, password_file):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        self.pg_root.chmod(0o700)
        initdb = [
            *self._as_postgres_user(), str(self.pg_bin / "initdb"), "-D", str(self.pg_data),
            "-U", DB_USER, f"--pwfile={password_file}", "--auth=scram-sha-256",
            "--encoding=UTF8", "--locale=C", "--no-sync",
        ]  # fmt: skip
        subprocess.run(initdb, check=True, capture_output=True)
        password_file.unlink()
        self.start(self.postgres)
        self.psql(f"CREATE DATABASE {DB_NAME}", database="postgres")

    def start(self, service: Service) -> None:
        """Start one process (no waiting for Rasa: see ``wait_ready``)."""
        service.start(PROJECT_DIR)
        if service is self.postgres:
            self._wait_until(self._postgres_ready, service, 60)
        elif service is self.redis:
            self._wait_until(self._redis_ready, service, 30)

    @staticmethod
    def _wait_until(ready: Callable[[], bool], service: Service, timeout: float) -> None:
        assert service.process is not None
        process.wait_until(ready, service.process, service.name, timeout=timeout, log=service.log_file)

    def wait_ready(self, services: list[Service]) -> None:
        """Each of ``services`` healthy, in turn (one that dies meanwhile fails on its turn)."""
        with httpx.Client(timeout=2.0) as client:
            for service in services:
                service.wait_ready(client, START_TIMEOUT)

    def start_all(self) -> None:
        """Databases first (initialised on the first start), then the action server, then both
        Rasa replicas side by side (each spends ~40 s loading the model)."""
        assert MODEL.exists(), "no Rasa model: run `make model` (make test-integration does)"
        # A process killed a moment ago may hold its port a little longer (PostgreSQL's children
        # die after the postmaster); anything else on our ports is someone else's server.
        deadline = time.monotonic() + 15
        while taken := [port for port in PORTS if not process.port_free(port)]:
            if time.monotonic() > deadline:
                raise RuntimeError(f"ports {taken} are in use: is another integration run going on?")
            time.sleep(0.5)
        if not self.pg_data.exists():
            self.init_postgres()
        else:
            self.start(self.postgres)
        self.start(self.redis)
        self.start(self.actions)
        self.wait_ready([self.actions])
        for replica in self.replicas:
            self.start(replica)
        self.wait_ready(self.replicas)

    def ensure_up(self) -> None:
        """Restart whatever an earlier test left dead, so each test starts from a full cluster."""
        for service in (self.postgres, self.redis, self.actions):
            if service.process is None or service.exited() is not None:
                self.start(service)
                if service is self.actions:
                    self.wait_ready([service])
        dead = [r for r in self.replicas if r.process is None or r.exited() is not None]
        for replica in dead:
            self.start(replica)
        self.wait_ready(dead)

    @staticmethod
    def kill(service: Service) -> None:
        """SIGKILL to the process group: no shutdown code runs, as in a crash or an OOM kill."""
        if service.process is not None:
            process.kill(service.process)

    def kill_all(self) -> None:
        """Every process at once, databases included, as a power cut of the processes would."""
        for service in (*self.replicas, self.actions, self.redis, self.postgres):
            self.kill(service)

    def stop_all(self) -> None:
        """Everything, Rasa first (PostgreSQL's shutdown waits for its clients to leave)."""
        for service in (*self.replicas, self.actions, self.redis, self.postgres):
            try:
                service.stop()
            except Exception:
                log.exception("stopping %s", service.name)
                self.kill(service)

    # --- talking to it -------------------------------------------------------------------------

    def _postgres_ready(self) -> bool:
        done = subprocess.run(
            [str(self.pg_bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(PG_PORT)], check=False
        )
        return done.returncode == 0

    def _redis_ready(self) -> bool:
        try:
            with redis.Redis(port=REDIS_PORT, password=self.redis_password, socket_timeout=1) as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    def psql(self, sql: str, database: str = DB_NAME) -> str:
        """One statement through psql, as the database user; the output, unaligned."""
        psql = [
            str(self.pg_bin / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
            "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", DB_USER, "-d", database, "-c", sql,
        ]  # fmt: skip
        done = subprocess.run(
            psql,
            env={**os.environ, "PGPASSWORD": self.db_password},
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    def say(
        self, replica: int, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> httpx.Response:
        """One message over a replica's REST channel, as the bot sends it."""
        body = {"sender": sender, "message": text, "metadata": metadata or {}}
        return httpx.post(f"{self.rasa_url(replica)}/webhooks/rest/webhook", json=body, timeout=60)

    def text(self, replica: int, sender: str, text: str, metadata: dict[str, Any] | None = None) -> str:
        response = self.say(replica, sender, text, metadata)
        response.raise_for_status()
        return "\n".join(m.get("text", "") for m in response.json())

    def slots(self, replica: int, sender: str) -> dict[str, Any]:
        """The conversation's slots as a replica reads them from the tracker store."""
        response = httpx.get(
            f"{self.rasa_url(replica)}/conversations/{sender}/tracker",
            params={"token": TOKEN},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["slots"]

    def log_tails(self, lines: int = 20) -> str:
        parts = []
        for path in sorted(self.work.glob("*.log")):
            parts.append(f"--- {path.name} ---\n{process.tail(path, lines)}")
        return "\n".join(parts)


def make_cluster(work: Path) -> Cluster:
    """A cluster whose PostgreSQL lives in a fresh directory outside pytest's (0700) temp tree."""
    pg_parent = Path(tempfile.mkdtemp(prefix="aqparat-pg-"))
    pg_parent.chmod(0o755)  # the postgres user must reach pg_root inside it
    return Cluster(work=work, pg_root=pg_parent / "pg")


def remove_cluster(cluster: Cluster) -> None:
    shutil.rmtree(cluster.pg_root.parent, ignore_errors=True)
