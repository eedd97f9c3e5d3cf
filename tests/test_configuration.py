"""Settings per layer: the generated docs/configuration.md is current, and reading its settings
does not make the bot load the retrieval stack."""

from __future__ import annotations

from stack.configuration import PAGE, SECTIONS, render
from tests.imports import loaded_packages

RETRIEVAL_STACK = ("faiss", "sklearn", "torch", "sentence_transformers")


def test_the_configuration_page_is_generated_from_the_settings_classes() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(), (
        "docs/configuration.md is stale: run `make configuration` (python -m stack configuration)"
    )


def test_every_variable_is_declared_once() -> None:
    names = [info.validation_alias for cls, _ in SECTIONS for info in cls.own_fields().values()]
    assert len(names) == len(set(names)), sorted(name for name in names if names.count(name) > 1)


def test_the_bot_imports_neither_faiss_nor_scikit_learn() -> None:
    """As ``python -m bot`` starts: its settings live in bot/, and ``knowledge/__init__`` loads
    the retrieval stack only when one of its names is used."""
    loaded = loaded_packages(
        "bot.__main__", "bot.telegram", "bot.terminal", "bot.settings", "knowledge.usage"
    )
    assert not loaded & set(RETRIEVAL_STACK), loaded & set(RETRIEVAL_STACK)


def test_the_settings_base_is_a_leaf() -> None:
    """So knowledge/ may build on it, as on texts/, without a cycle."""
    loaded = loaded_packages("config")
    assert not loaded & {"actions", "bot", "knowledge", "stack", "texts", "nlu"}
