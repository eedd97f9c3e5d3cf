"""How every layer reads its settings from the environment: one leaf below all of them.

Each layer declares its own settings class (``knowledge/settings.py``, ``actions/settings.py``,
``bot/settings.py``, ``stack/settings.py``) on ``LayerSettings``, so a process reads only what it
uses and the bot does not load the retrieval stack to learn its token. The variables a layer
shares with another (ports, the Rasa token, the reply language) live once, in ``DialogueSettings``.
``docs/configuration.md`` is generated from these classes (``python -m stack configuration``).

Like ``texts/``, a leaf: nothing here imports the rest of the project.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import BeforeValidator, Field
from pydantic.fields import FieldInfo
from pydantic.json_schema import JsonDict
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _flag(value: object) -> object:
    """ "1", "true", "yes", "on" (any case) mean on; any other text means off, never an error."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return value


def _ids(value: object) -> object:
    """Comma- or space-separated Telegram user ids; anything else is a configuration error."""
    if isinstance(value, str):
        return frozenset(int(part) for part in value.replace(",", " ").split())
    return value


def _empty_is_none(value: object) -> object:
    return None if value == "" else value


def _stripped(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


Flag = Annotated[bool, BeforeValidator(_flag)]
Ids = Annotated[frozenset[int], NoDecode, BeforeValidator(_ids)]
OptionalFloat = Annotated[float | None, BeforeValidator(_empty_is_none)]
Stripped = Annotated[str, BeforeValidator(_stripped)]


def env(name: str, default: Any, description: str, *, default_shown: str | None = None) -> Any:
    """A field read from the variable ``name``; ``description`` is its row in the docs.

    ``default_shown`` (markdown) replaces the default in docs/configuration.md where the real one
    is a machine's absolute path or is computed (a generated token, another variable's value).
    """
    extra: JsonDict | None = {"default_shown": default_shown} if default_shown is not None else None
    return Field(default, validation_alias=name, description=description, json_schema_extra=extra)


class _MappingSource(EnvSettingsSource):
    """pydantic-settings' environment source (aliases as variable names, decoding), over a
    mapping we choose: ``from_env({})`` in a test must not see the developer's shell."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return dict(self._environ)


class LayerSettings(BaseSettings):
    """Frozen settings, read from the environment by ``from_env`` only.

    Keyword arguments alone build an instance (``BotSettings(flood_burst=50)``), without reading
    the environment, so a test never picks up the developer's shell; ``model_copy(update=...)``
    derives one from another.
    """

    model_config = SettingsConfigDict(
        frozen=True, case_sensitive=True, validate_by_name=True, validate_by_alias=True, extra="ignore"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        """Read the variables from ``env`` (default: ``os.environ``); unset ones keep their defaults."""
        return cls(**_MappingSource(cls, os.environ if env is None else env)())

    @classmethod
    def own_fields(cls) -> dict[str, FieldInfo]:
        """The fields this class declares itself, not those it inherits: its table in the docs."""
        inherited = {name for base in cls.__mro__[1:] for name in getattr(base, "model_fields", {})}
        return {name: info for name, info in cls.model_fields.items() if name not in inherited}


class DialogueSettings(LayerSettings):
    """What the action server, the bot and the supervisor share."""

    default_language: str = env(
        "AQPARAT_DEFAULT_LANGUAGE",
        "ru",
        "reply language when nothing else tells ([architecture.md](architecture.md#language))",
    )
    actions_port: int = env("AQPARAT_ACTIONS_PORT", 5055, "action server + NLG endpoint (127.0.0.1 only)")
    rasa_port: int = env("AQPARAT_RASA_PORT", 5005, "Rasa's REST channel and HTTP API (127.0.0.1 only)")
    rasa_token: str = env(
        "AQPARAT_RASA_TOKEN",
        "",
        "token for Rasa's HTTP API and the action server's `/admin` routes; empty: a random one is "
        "kept in `var/rasa-token` and given to every process",
        default_shown="generated",
    )
