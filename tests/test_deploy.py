"""deploy/: the compose file, the Dockerfiles and Rasa's container endpoints, checked without Docker.

No Docker engine runs here. The compose file is parsed, interpolated the way Compose does with the
values of deploy/.env.example (the required secrets filled with placeholders), validated against
the official Compose Specification schema (vendored as deploy/compose-spec.json), and held to our
own rules: what is published, what needs a token, what is healthy when. `docker compose config`
runs too where the Compose plugin is installed. deploy/endpoints.yml is read by Rasa's own code
from the Rasa environment, with the environment the compose file gives the rasa service.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from actions.settings import ActionSettings
from bot.settings import BotSettings
from knowledge.settings import PROJECT_DIR, KnowledgeSettings

DEPLOY = PROJECT_DIR / "deploy"
COMPOSE_FILE = DEPLOY / "docker-compose.yml"
ENV_EXAMPLE = DEPLOY / ".env.example"
SCHEMA_FILE = DEPLOY / "compose-spec.json"
ENDPOINTS = DEPLOY / "endpoints.yml"
HAPROXY_CFG = DEPLOY / "haproxy.cfg"
RASA_DOCKERFILE = DEPLOY / "rasa.Dockerfile"
APP_DOCKERFILE = DEPLOY / "app.Dockerfile"
RASA_PYTHON = PROJECT_DIR / ".venv-rasa" / "bin" / "python"

INTERNAL_SERVICES = ("postgres", "redis", "actions", "rasa", "retention")  # nothing of theirs leaves the host
SECRET_NAME = re.compile(r"TOKEN|PASSWORD|SECRET|SALT")
TELEGRAM_TOKEN_SHAPE = re.compile(r"\d{6,}:[A-Za-z0-9_-]{30,}")
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, ${NAME:+alt}, $NAME, $$
VARIABLE = re.compile(
    r"\$(?:\$|\{(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}|(?P<bare>[A-Za-z_]\w*))"
)


class MissingVariable(ValueError):
    """A ``${NAME:?…}`` whose variable is unset or empty: Compose refuses the file."""


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Compose's interpolation of one value (the forms listed at VARIABLE; no nesting)."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match["name"] or match["bare"]
        op, arg = match["op"] or "", match["arg"] or ""
        value = env.get(name)
        missing = not value if op.startswith(":") else value is None
        if op in (":-", "-"):
            return arg if missing else str(value)
        if op in (":?", "?"):
            if missing:
                raise MissingVariable(f"{name}: {arg}")
            return str(value)
        if op in (":+", "+"):
            return "" if missing else arg
        return value or ""

    return VARIABLE.sub(replace, text)


def walk(node: Any, change: Callable[[str], Any]) -> Any:
    """``node`` with ``change`` applied to every string value (mapping keys are left alone, as
    Compose leaves them)."""
    if isinstance(node, dict):
        return {key: walk(value, change) for key, value in node.items()}
    if isinstance(node, list):
        return [walk(item, change) for item in node]
    return change(node) if isinstance(node, str) else node


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)
    elif isinstance(node, str):
        yield node


def variables(node: Any, *, ops: tuple[str, ...] | None = None) -> set[str]:
    """Names of the variables referenced in string values; only those used with ``ops`` if given."""
    found = set()
    for text in strings(node):
        for match in VARIABLE.finditer(text):
            name = match["name"] or match["bare"]
            if name and (ops is None or (match["op"] or "") in ops):
                found.add(name)
    return found


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines; blank lines and ``#`` comments skipped; anything else is an error."""
    values = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = re.fullmatch(r"([A-Z][A-Z0-9_]*)=(\S*)", line)
        assert match, f"{path.name}:{number}: expected NAME=value without spaces or quotes: {line!r}"
        assert match[1] not in values, f"{path.name}:{number}: {match[1]} is set twice"
        values[match[1]] = match[2]
    return values


@cache
def raw_compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@cache
def example_env() -> dict[str, str]:
    return read_env_file(ENV_EXAMPLE)


def filled_env() -> dict[str, str]:
    """The example's values, with a placeholder for every variable the compose file requires."""
    env = dict(example_env())
    for name in variables(raw_compose(), ops=(":?", "?")):
        env[name] = env.get(name) or f"placeholder-{name.lower().replace('_', '-')}"
    return env


def compose(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    return walk(raw_compose(), lambda text: interpolate(text, filled_env() if env is None else env))


def service(name: str) -> dict[str, Any]:
    return compose()["services"][name]


def environment(spec: dict[str, Any]) -> dict[str, str]:
    env = spec.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def dockerfile(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    logical, pending = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, rest = pending.strip().partition(" ")
        logical.append((keyword.upper(), rest.strip()))
        pending = ""
    return logical


def python_with(module: str) -> str:
    """An interpreter that can import ``module``: this one, else Rasa's (which ships jsonschema)."""
    if importlib.util.find_spec(module):
        return sys.executable
    if RASA_PYTHON.exists():
        probe = subprocess.run([str(RASA_PYTHON), "-c", f"import {module}"], capture_output=True, check=False)
        if probe.returncode == 0:
            return str(RASA_PYTHON)
    pytest.skip(f"{module} is installed neither here nor in .venv-rasa (`make setup` creates it)")


SCHEMA_CHECK = """
import json, sys
import jsonschema
validator = jsonschema.Draft7Validator(json.load(open(sys.argv[1], encoding="utf-8")))
for document in json.load(sys.stdin):
    errors = validator.iter_errors(document)
    print(json.dumps(sorted("/".join(map(str, e.absolute_path)) + ": " + e.message for e in errors)))
"""


def schema_errors(*documents: dict[str, Any]) -> list[list[str]]:
    """The Compose Specification's complaints about each document (Draft 7, as the schema says)."""
    result = subprocess.run(
        [python_with("jsonschema"), "-c", SCHEMA_CHECK, str(SCHEMA_FILE)],
        input=json.dumps(documents),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return [json.loads(line) for line in result.stdout.splitlines()]


# --- The Compose Specification -------------------------------------------------------------------


def test_the_compose_file_follows_the_compose_specification() -> None:
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))["title"] == "Compose Specification"
    raw_errors, interpolated_errors = schema_errors(raw_compose(), compose())
    assert raw_errors == []
    assert interpolated_errors == []


def test_the_schema_check_catches_mistakes() -> None:
    broken = compose()
    broken["services"]["rasa"]["healthcheck"]["intervall"] = "10s"
    broken["services"]["bot"]["depends_on"]["lb"]["condition"] = "service_up"
    broken["services"]["lb"]["ports"] = [{"published": 8443, "host": "127.0.0.1"}]  # host_ip
    (errors,) = schema_errors(broken)
    assert any(error.startswith("services/rasa/healthcheck") for error in errors), errors
    assert any(error.startswith("services/bot/depends_on") for error in errors), errors
    assert any(error.startswith("services/lb/ports") for error in errors), errors


def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    if not docker or subprocess.run([docker, "compose", "version"], capture_output=True).returncode:
        pytest.skip("the Docker Compose plugin is not installed here (`docker compose version` fails)")
    env_file = tmp_path / "test.env"
    env_file.write_text("".join(f"{name}={value}\n" for name, value in filled_env().items()))
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE_FILE), "--env-file", str(env_file), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_a_missing_secret_stops_compose() -> None:
    env = filled_env()
    del env["AQPARAT_RASA_TOKEN"]
    with pytest.raises(MissingVariable, match="AQPARAT_RASA_TOKEN"):
        compose(env)


# --- Our own rules -------------------------------------------------------------------------------


def test_every_service_has_a_healthcheck_and_waits_for_healthy_dependencies() -> None:
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "actions", "rasa", "retention", "lb", "bot"}
    for name, spec in services.items():
        test = spec.get("healthcheck", {}).get("test")
        assert test, f"{name} has no health check"
        assert test[0] in ("CMD", "CMD-SHELL"), name
        for dependency, condition in (spec.get("depends_on") or {}).items():
            assert condition == {"condition": "service_healthy"}, f"{name} -> {dependency}"
    assert set(services["rasa"]["depends_on"]) == {"postgres", "redis", "actions"}
    assert set(services["bot"]["depends_on"]) == {"lb", "actions", "redis"}


def test_nothing_is_published_but_the_webhook_on_loopback() -> None:
    services = compose()["services"]
    for name in INTERNAL_SERVICES:
        assert "ports" not in services[name], f"{name} must not be published"
        assert services[name]["networks"] == ["backend"], name
        assert "network_mode" not in services[name], name
    assert "ports" not in services["bot"]
    assert compose()["networks"]["backend"] == {"internal": True}
    (published,) = services["lb"]["ports"]
    assert published == "127.0.0.1:8443:8443", "by default only the webhook, and only on loopback"
    assert example_env()["AQPARAT_WEBHOOK_PUBLISH"].startswith("127.0.0.1:")


def test_rasa_is_replicable_and_its_api_needs_the_token() -> None:
    rasa = service("rasa")
    assert "container_name" not in rasa, "a fixed name would make --scale fail"
    assert str(rasa["deploy"]["replicas"]) == example_env()["RASA_REPLICAS"]
    token = raw_compose()["services"]["rasa"]["environment"]["AQPARAT_RASA_TOKEN"]
    assert token.startswith("${AQPARAT_RASA_TOKEN:?")
    (entrypoint,) = [args for keyword, args in dockerfile(RASA_DOCKERFILE) if keyword == "ENTRYPOINT"]
    command = " ".join(json.loads(entrypoint))
    assert "rasa run --enable-api --auth-token" in command
    assert '"${AQPARAT_RASA_TOKEN:?' in command, "the container must refuse to start without a token"
    assert "--cors" not in command
    assert "--endpoints endpoints.yml --credentials credentials.yml" in command
    # The bot reaches Rasa only through the load balancer, which forwards only the REST channel.
    assert environment(service("bot"))["AQPARAT_RASA_URL"] == "http://lb:5005"
    assert "http-request deny deny_status 403 unless METH_POST { path /webhooks/rest/webhook }" in (
        HAPROXY_CFG.read_text(encoding="utf-8")
    )


def test_the_load_balancer_finds_every_replica_through_dockers_dns() -> None:
    config = HAPROXY_CFG.read_text(encoding="utf-8")
    assert "nameserver docker 127.0.0.11:53" in config
    assert re.search(r"server-template rasa \d+-\d+ rasa:5005\b", config)
    assert re.search(r"server-template bot \d+-\d+ bot:8443\b", config)
    assert re.search(r"server-template actions \d+-\d+ actions:5055\b", config)
    assert "http-check send meth GET uri /health\n" in config  # the action server's health route
    assert config.count("resolvers docker") == 4  # the section and the three backends' servers
    assert environment(service("bot"))["AQPARAT_WEBHOOK_PORT"] == "8443"
    assert "/dev/tcp/127.0.0.1/8405" in service("lb")["healthcheck"]["test"][-1]
    assert "monitor-uri /healthz" in config
    assert "bind :8405" in config
    # Logged at "notice": servers going up and down, never a request line.
    assert "log stdout format raw local0 notice" in config
    assert "option httplog" not in config


def test_the_rasa_image_holds_every_module_rasa_is_told_to_import() -> None:
    """Rasa imports our pipeline components (config.yml) and tracker store (endpoints.yml) from
    its working directory; a tracker store it cannot import becomes, with only a warning, an
    in-memory one that forgets every conversation on restart."""
    config = yaml.safe_load((PROJECT_DIR / "config.yml").read_text(encoding="utf-8"))
    named = [step["name"] for step in config["pipeline"] if step["name"].startswith("nlu.")]
    named.append(yaml.safe_load(ENDPOINTS.read_text(encoding="utf-8"))["tracker_store"]["type"])
    copied = " ".join(args for keyword, args in dockerfile(RASA_DOCKERFILE) if keyword == "COPY")
    ignore = RASA_DOCKERFILE.with_name("rasa.Dockerfile.dockerignore")
    assert any(name.startswith("nlu.sessions.") for name in named)
    for name in named:
        module = "/".join(name.split(".")[:-1]) + ".py"
        assert (PROJECT_DIR / module).is_file(), name
        assert f" {module}" in f" {copied}", f"rasa.Dockerfile does not copy {module}"
        assert not ignored(module, ignore), f"{module} is left out of the build context"


def test_retention_runs_in_the_containers_too() -> None:
    """No supervisor runs in compose: the `retention` service prunes conversations with the Rasa
    image's Python and endpoints, and the action server prunes its logs, both from one setting."""
    retention, rasa = service("retention"), service("rasa")
    assert retention["image"] == rasa["image"]
    assert "build" not in retention, "one image: the one built for rasa"
    entrypoint = retention["entrypoint"]
    assert entrypoint[:3] == ["python", "/app/tracker_retention.py", "/app/endpoints.yml"]
    copied = [args for keyword, args in dockerfile(RASA_DOCKERFILE) if keyword == "COPY"]
    assert "--chown=1001:0 stack/tracker_retention.py ./tracker_retention.py" in copied
    days = raw_compose()["services"]["retention"]["entrypoint"]
    assert days[days.index("--days") + 1] == "${AQPARAT_RETENTION_DAYS:-0}"
    assert raw_compose()["services"]["actions"]["environment"]["AQPARAT_RETENTION_DAYS"] == (
        "${AQPARAT_RETENTION_DAYS:-0}"
    )
    assert example_env()["AQPARAT_RETENTION_DAYS"] == "0"
    # Every ${VAR} of the endpoints file is set, as for Rasa itself.
    assert variables(yaml.safe_load(ENDPOINTS.read_text(encoding="utf-8"))) <= set(environment(retention))
    # Healthy while the heartbeat the loop touches is fresh.
    heartbeat = entrypoint[entrypoint.index("--heartbeat") + 1]
    assert heartbeat in retention["healthcheck"]["test"][-1]
    assert entrypoint[entrypoint.index("--every") + 1] == "86400"


def test_no_secret_is_written_into_the_compose_file() -> None:
    raw = raw_compose()
    for name, spec in raw["services"].items():
        for key, value in environment(spec).items():
            if SECRET_NAME.search(key) and value:
                assert VARIABLE.search(value), f"{name}: {key} must come from deploy/.env"
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert not TELEGRAM_TOKEN_SHAPE.search(text)
    for key, value in example_env().items():
        if SECRET_NAME.search(key):
            assert value == "", f".env.example must not carry a value for {key}"


def test_the_env_example_documents_exactly_the_variables_in_use() -> None:
    used = variables(raw_compose())
    endpoint_variables = variables(yaml.safe_load(ENDPOINTS.read_text(encoding="utf-8")))
    listed = set(example_env())
    assert used - listed == set(), "used in docker-compose.yml but missing from .env.example"
    assert endpoint_variables - listed == set(), "used in endpoints.yml but missing from .env.example"
    assert listed - used == set(), "listed in .env.example but used nowhere"
    # Every variable is documented: a comment right above it or above its group of variables.
    setting = re.compile(r"[A-Z][A-Z0-9_]*=")
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if setting.match(line):
            above = index - 1
            while above >= 0 and setting.match(lines[above]):
                above -= 1
            assert above >= 0, f"{line.split('=')[0]} is undocumented"
            assert lines[above].startswith("#"), f"{line.split('=')[0]} is undocumented"


def test_the_webhook_secret_is_required_with_a_webhook_url() -> None:
    from bot.telegram import webhook_options

    bot = raw_compose()["services"]["bot"]["environment"]
    assert bot["AQPARAT_WEBHOOK_URL"] == "${AQPARAT_WEBHOOK_URL:-}"
    assert bot["AQPARAT_WEBHOOK_SECRET"] == "${AQPARAT_WEBHOOK_SECRET:-}"
    env = filled_env() | {"AQPARAT_WEBHOOK_URL": "https://bot.example/telegram"}
    settings = BotSettings.from_env(environment(compose(env)["services"]["bot"]))
    with pytest.raises(SystemExit, match="AQPARAT_WEBHOOK_SECRET"):
        webhook_options(settings)
    env["AQPARAT_WEBHOOK_SECRET"] = "s3cret"
    options = webhook_options(BotSettings.from_env(environment(compose(env)["services"]["bot"])))
    assert options["secret_token"] == "s3cret"
    assert (options["listen"], options["port"]) == ("0.0.0.0", 8443)


def test_the_bot_store_and_salts_are_shared_by_replicas() -> None:
    bot = BotSettings.from_env(environment(service("bot")))
    assert bot.bot_store.startswith("redis://:placeholder-redis-password@redis:6379/1")
    assert bot.bot_salt
    assert bot.actions_base_url == "http://lb:5055"
    actions = ActionSettings.from_env(environment(service("actions")))
    assert actions.log_salt
    assert actions.log_dir == Path("/data/log")
    assert "app-data:/data" in service("actions")["volumes"]


def test_action_server_replicas_share_one_index_and_follow_each_others_reloads() -> None:
    actions = service("actions")
    assert "container_name" not in actions, "a fixed name would make --scale fail"
    assert str(actions["deploy"]["replicas"]) == example_env()["ACTIONS_REPLICAS"]
    settings = ActionSettings.from_env(environment(actions))
    assert settings.index_follow_seconds > 0
    # The volume sits where the image's build-time index is (var/index under the code, the
    # default index directory), so a new volume starts as a copy of it.
    (workdir,) = [args for keyword, args in dockerfile(APP_DOCKERFILE) if keyword == "WORKDIR"]
    assert "AQPARAT_INDEX_DIR" not in environment(actions)
    assert KnowledgeSettings().index_dir.relative_to(PROJECT_DIR) == Path("var/index")
    assert f"actions-index:{workdir}/var/index" in actions["volumes"]
    assert "actions-index" in compose()["volumes"]


def test_images_are_pinned() -> None:
    for name, spec in compose()["services"].items():
        image = spec["image"]
        repository, _, tag = image.rpartition(":")
        assert repository, f"{name}: {image} has no tag"
        assert tag not in ("", "latest"), f"{name}: {image}"
        assert "/" not in tag, f"{name}: {image} has no tag"
    for path in (RASA_DOCKERFILE, APP_DOCKERFILE):
        for keyword, args in dockerfile(path):
            if keyword == "FROM":
                image = args.split()[0]
                assert ":" in image, f"{path.name}: {image} has no tag"
                assert not image.endswith(":latest"), f"{path.name}: {image}"
    froms = [args for keyword, args in dockerfile(RASA_DOCKERFILE) if keyword == "FROM"]
    assert froms in (["rasa/rasa:3.6.21"], ["rasa/rasa:3.6.21-full"])
    assert "rasa==3.6.21" in (PROJECT_DIR / "requirements" / "rasa.txt").read_text(encoding="utf-8").lower()


def test_the_rasa_image_gets_the_jsonschema_of_our_rasa_environment() -> None:
    """The official image's jsonschema 4.17 makes every custom action ~14 ms slower (docs/measurements.md)."""
    pinned = re.search(r"^jsonschema==(\S+)$", (PROJECT_DIR / "requirements" / "rasa.txt").read_text(), re.M)
    assert pinned
    assert pinned.group(1) == "3.2.0"
    steps = dockerfile(RASA_DOCKERFILE)
    assert any(keyword == "COPY" and args.startswith("requirements/rasa.txt ") for keyword, args in steps)
    assert any(keyword == "RUN" and "grep '^jsonschema=='" in args for keyword, args in steps)


def test_the_app_image_installs_cpu_torch_first_and_runs_as_non_root() -> None:
    steps = dockerfile(APP_DOCKERFILE)
    runs = [args for keyword, args in steps if keyword == "RUN"]
    (torch,) = [i for i, args in enumerate(runs) if "torch.txt" in args]
    (app,) = [i for i, args in enumerate(runs) if "app.txt" in args]
    assert torch < app
    assert "--index-url https://download.pytorch.org/whl/cpu" in runs[torch]
    assert "--index-url" not in runs[app], "everything but torch comes from PyPI"
    assert "pip check" in runs[app]
    assert any("pybabel compile -d locales" in args for args in runs)
    assert any("python -m knowledge build" in args for args in runs)
    for path in (APP_DOCKERFILE, RASA_DOCKERFILE):
        users = [args for keyword, args in dockerfile(path) if keyword == "USER"]
        assert users, f"{path.name} never leaves root"
        assert users[-1].split(":")[0] not in ("root", "0"), f"{path.name} runs as root"


def test_rasa_logs_no_request_urls() -> None:
    """Rasa's API takes its token in the URL; Sanic's access log (INFO) would print it."""
    env = {}
    for keyword, args in dockerfile(RASA_DOCKERFILE):
        if keyword == "ENV":
            env.update(arg.split("=", 1) for arg in args.split())
    assert env["LOG_LEVEL_LIBRARIES"] in ("ERROR", "WARNING")
    assert env["RASA_TELEMETRY_ENABLED"] == "false"
    assert "LOG_LEVEL_LIBRARIES" not in environment(service("rasa"))


# --- What reaches each build ---------------------------------------------------------------------


def _glob(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regex: ``*`` and ``?`` stay within one path element."""
    out = ""
    for token in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
        out += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(token, re.escape(token))
    return re.compile(out)


def ignored(path: str, ignore_file: Path) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    verdict = False
    parts = path.split("/")
    for line in ignore_file.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        regex = _glob(line.lstrip("!").strip("/"))
        if any(regex.fullmatch("/".join(parts[:i])) for i in range(1, len(parts) + 1)):
            verdict = not negated
    return verdict


NEVER_IN_A_BUILD = (
    "deploy/.env",
    ".git/config",
    ".venv/bin/python",
    "var/index/CURRENT",
    "var/log/salt",
    "tests/test_deploy.py",
    "README.md",
)


def copied_sources(path: Path) -> list[str]:
    sources = []
    for keyword, args in dockerfile(path):
        if keyword == "COPY":
            words = [word for word in args.split() if not word.startswith("--")]
            sources += [word.rstrip("/") for word in words[:-1]]
    return sources


@pytest.mark.parametrize("path", [RASA_DOCKERFILE, APP_DOCKERFILE], ids=lambda path: path.name)
def test_each_build_gets_what_it_copies_and_nothing_else(path: Path) -> None:
    ignore_file = path.with_name(path.name + ".dockerignore")
    for source in copied_sources(path):
        source_path = PROJECT_DIR / source
        files = [source]
        if source_path.is_dir():
            files = [
                str(file.relative_to(PROJECT_DIR))
                for file in source_path.rglob("*")
                if file.suffix in (".py", ".yml", ".po", ".pot") and "__pycache__" not in file.parts
            ]
            assert files, source
        for file in files:
            assert not ignored(file, ignore_file), f"{path.name} copies {file}, which is ignored"
    for secret_or_bulk in NEVER_IN_A_BUILD:
        assert ignored(secret_or_bulk, ignore_file), f"{secret_or_bulk} reaches the {path.name} build"


def test_the_ignore_rules_work_like_dockers() -> None:
    app = APP_DOCKERFILE.with_name("app.Dockerfile.dockerignore")
    assert not ignored("knowledge/facts/pricing.yml", app)
    assert ignored("knowledge/__pycache__/cli.cpython-311.pyc", app)
    assert ignored("locales/kk/LC_MESSAGES/messages.mo", app)
    assert ignored("models/aqparat.tar.gz", app)
    assert ignored("knowledge/facts/pricing.yml", RASA_DOCKERFILE.with_name("rasa.Dockerfile.dockerignore"))


# --- Rasa reads deploy/endpoints.yml ---------------------------------------------------------------

ENDPOINTS_CHECK = """
import inspect, json, sys
from rasa.core.lock_store import RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore
from rasa.core.utils import AvailableEndpoints

from rasa.shared.utils.common import class_from_module_path

endpoints = AvailableEndpoints.read_endpoints(sys.argv[1])
store, lock = endpoints.tracker_store, endpoints.lock_store
store_class = class_from_module_path(store.type)  # imported from the working directory, as Rasa does
accepted = set(inspect.signature(store_class.__init__).parameters)
accepted |= set(inspect.signature(SQLTrackerStore.__init__).parameters)
url_keys = set(inspect.signature(SQLTrackerStore.get_db_url).parameters)
url = SQLTrackerStore.get_db_url(host=store.url, **{k: v for k, v in store.kwargs.items() if k in url_keys})
redis = RedisLockStore(host=lock.url, **lock.kwargs)  # connects lazily
lock_kwargs = redis.red.connection_pool.connection_kwargs
print(json.dumps({
    "action": endpoints.action.url,
    "nlg": endpoints.nlg.url,
    "store_type": store.type,
    "store_is_sql": issubclass(store_class, SQLTrackerStore),
    "store_unknown_keys": sorted(set(store.kwargs) - accepted),
    "store_url": [url.drivername, url.username, url.password, url.host, url.port, url.database],
    "lock_type": lock.type,
    "lock": {k: lock_kwargs.get(k) for k in ("host", "port", "db", "password")},
    "lock_prefix": redis.key_prefix,
}))
"""


def test_rasa_reads_the_container_endpoints(tmp_path: Path) -> None:
    if not RASA_PYTHON.exists():
        pytest.skip(".venv-rasa is missing (`make setup` creates it)")
    text = ENDPOINTS.read_text(encoding="utf-8")
    assert not re.search(r"""["']\$\{""", text), "Rasa substitutes only unquoted ${VAR}"
    env = environment(service("rasa")) | {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    assert variables(yaml.safe_load(text)) <= set(env), "the rasa service must set every variable"
    result = subprocess.run(
        [str(RASA_PYTHON), "-W", "ignore", "-c", ENDPOINTS_CHECK, str(ENDPOINTS)],
        env=env | {"SQLALCHEMY_SILENCE_UBER_WARNING": "1", "RASA_TELEMETRY_ENABLED": "false"},
        cwd=PROJECT_DIR,  # Rasa's working directory in the image holds nlu/ as here
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found = json.loads(result.stdout.splitlines()[-1])
    # Through the load balancer, which spreads them over the action-server replicas.
    assert found["action"] == "http://lb:5055/webhook"
    assert found["nlg"] == "http://lb:5055/nlg"
    assert found["store_type"] == "nlu.sessions.SessionTrackerStore"
    assert found["store_is_sql"]
    assert found["store_unknown_keys"] == []
    assert found["store_url"] == ["postgresql", "rasa", env["DB_PASSWORD"], "postgres", 5432, "rasa"]
    assert found["lock_type"] == "redis"
    assert found["lock"] == {"host": "redis", "port": 6379, "db": 0, "password": env["REDIS_PASSWORD"]}
    assert found["lock_prefix"] == "aqparat:lock:"
    # The compose file points PostgreSQL's own settings at the same database and user.
    postgres = environment(service("postgres"))
    assert (postgres["POSTGRES_DB"], postgres["POSTGRES_USER"]) == ("rasa", "rasa")
    assert postgres["POSTGRES_PASSWORD"] == env["DB_PASSWORD"]
