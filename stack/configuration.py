"""``python -m stack configuration``: docs/configuration.md, written from the settings classes.

The variables' table comes from the fields (name, default, description) of each layer's class, so
a setting cannot be added without its row; the notes about variables our code does not read
(Rasa's, the Makefile's, Compose's) are fixed text below. ``tests/test_configuration.py`` fails
when the committed page differs from what this writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic.fields import FieldInfo

from actions.settings import ActionSettings
from bot.settings import BotSettings
from config import PROJECT_DIR, DialogueSettings, LayerSettings
from knowledge.settings import KnowledgeSettings
from stack.settings import StackSettings

PAGE = PROJECT_DIR / "docs" / "configuration.md"

# Each class with its heading; a class lists only the fields it declares, not those it inherits.
SECTIONS: tuple[tuple[type[LayerSettings], str], ...] = (
    (KnowledgeSettings, "Knowledge and retrieval (`knowledge/settings.py`)"),
    (DialogueSettings, "Shared by the dialogue stack (`config/__init__.py`)"),
    (ActionSettings, "Action server (`actions/settings.py`)"),
    (StackSettings, "Supervisor (`stack/settings.py`)"),
    (BotSettings, "Telegram bot (`bot/settings.py`)"),
)

HEADER = """\
# Configuration

> Generated from the settings classes by `make configuration` (`python -m stack configuration`);
> edit the field descriptions there, not this page. `tests/test_configuration.py` fails when it is
> stale.

Every setting is an environment variable. Nothing needs to be set for `make run`, `make serve` or
`make test` on one machine: the defaults below are what they use. Relative paths are relative to
the repository root, where the make targets run.

## Application settings

Each layer reads its own settings once, at start, from a class next to its code (`config/` holds
the base class and what several layers share). The action server reads the knowledge layer's,
the shared and its own; the supervisor (`python -m stack`) those and its own; the bot the shared
and its own; the `python -m knowledge` CLI the knowledge layer's.
"""

AFTER: dict[type[LayerSettings], str] = {
    StackSettings: """
`python -m stack` passes `AQPARAT_ACTIONS_PORT` and `AQPARAT_TRACKER_DB` (made absolute) on to
Rasa, which substitutes them into the endpoints file.
""",
}

FOOTER = """\
## Read by Rasa

Rasa itself substitutes these into `endpoints.production.yml` and `deploy/endpoints.yml`, and
refuses to start when one of them is unset (an empty value is allowed). Our code does not read
them, except `make test-integration`, which sets them for the cluster it starts.

| variable | meaning |
|---|---|
| `DB_HOST` / `DB_PORT` / `DB_NAME` / `DB_USER` / `DB_PASSWORD` | the PostgreSQL tracker store |
| `REDIS_HOST` / `REDIS_PORT` / `REDIS_PASSWORD` | the Redis lock store (database 0; the containers' bot store uses database 1) |

The containers also set Rasa's own `SQL_POOL_SIZE`, `SQL_MAX_OVERFLOW` (`deploy/docker-compose.yml`)
and `LOG_LEVEL_LIBRARIES` (`deploy/rasa.Dockerfile`); see [deploy/README.md](../deploy/README.md).

## Read elsewhere

| variable | read by | meaning |
|---|---|---|
| `PY311` | Makefile | the Python that creates `.venv` (default `python3`; it must be 3.11) |
| `PY310` | Makefile | the Python 3.10 that creates `.venv-rasa`; unset: found by `stack/python310.sh` |
| `BENCH_ARGS` | Makefile | extra arguments for `make bench`, `make bench-retrieval` and `make nlu-eval` |
| `LC_ALL` / `LC_MESSAGES` / `LANG` | terminal chat (`bot/terminal.py`) | the terminal's locale is sent as the language hint, as Telegram's language code is |
| `TOKENIZERS_PARALLELISM` | Makefile | exported as `false` unless set |

## Containers

`deploy/.env` (copied from `deploy/.env.example`, which documents every line) sets the
secrets and the settings above for the containers, and a few that only Compose reads:
`AQPARAT_WEBHOOK_PUBLISH` (where the webhook port is published, default `127.0.0.1:8443`),
`RASA_REPLICAS`, `ACTIONS_REPLICAS`, `BOT_REPLICAS` (default 1 each), `AQPARAT_VERSION` (image
tag, default `local`) and `AQPARAT_FACTS_DIR_HOST` (the host's fact directory, mounted read-only
into the action server). In the app image, `AQPARAT_MODEL_DOWNLOAD` (default `1`) only applies
to the index built at image build time; the running containers use `0`. See
[deploy/README.md](../deploy/README.md).
"""  # noqa: E501 (table rows)


def shown_default(info: FieldInfo) -> str:
    """The default as a reader would set it: a path relative to the repository, `0`/`1` for a flag;
    a field's ``default_shown`` (markdown) where the value itself would mislead."""
    extra = info.json_schema_extra
    if isinstance(extra, dict) and "default_shown" in extra:
        return str(extra["default_shown"])
    value = info.default
    if value in ("", frozenset()):
        return "empty"
    if isinstance(value, bool):
        return f"`{int(value)}`"
    if isinstance(value, Path) and value.is_relative_to(PROJECT_DIR):
        value = value.relative_to(PROJECT_DIR).as_posix()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value}`"


def table(cls: type[LayerSettings]) -> str:
    rows = [
        f"| `{info.validation_alias}` | {shown_default(info)} | {info.description} |"
        for info in cls.own_fields().values()
    ]
    return "\n".join(["| variable | default | meaning |", "|---|---|---|", *rows]) + "\n"


def render() -> str:
    """The whole page, as docs/configuration.md should read."""
    parts = [HEADER]
    for cls, heading in SECTIONS:
        intro = (cls.__doc__ or "").strip().splitlines()[0].replace("``", "`")
        parts.append(f"\n### {heading}\n\n{intro}\n\n{table(cls)}{AFTER.get(cls, '')}")
    parts.append("\n" + FOOTER)
    return "".join(parts)


def write(*, check: bool = False) -> int:
    """Write the page; with ``check``, only report (exit status 1) whether it is stale."""
    page = render()
    name = PAGE.relative_to(PROJECT_DIR)
    if check:
        stale = PAGE.read_text(encoding="utf-8") != page
        if stale:
            print(f"{name} is stale: run `make configuration`", file=sys.stderr)
        return int(stale)
    PAGE.write_text(page, encoding="utf-8")
    print(f"wrote {name}")
    return 0
