"""Settings per layer: the generated docs/configuration.md is current, and reading its settings
does not make the bot load the retrieval stack."""

from __future__ import annotations

import json
import subprocess
import sys

from config import PROJECT_DIR
from stack.configuration import PAGE, SECTIONS, render

RETRIEVAL_STACK = ("faiss", "sklearn", "torch", "sentence_transformers")


def test_the_configuration_page_is_generated_from_the_settings_classes() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(), (
        "docs/configuration.md is stale: run `make configuration` (python -m stack configuration)"
    )


def test_every_variable_is_declared_once() -> None:
    names = [info.validation_alias for cls, _ in SECTIONS for info in cls.own_fields().values()]
    assert len(names) == len(set(names)), sorted(name for name in names if names.count(name) > 1)


def test_the_bot_imports_neither_faiss_nor_scikit_learn() -> None:
    """In a fresh interpreter, as ``python -m bot`` starts: its settings live in bot/ and
    ``knowledge/__init__`` loads the retrieval stack only when one of its names is used."""
    code = (
        "import sys, bot.__main__, bot.telegram, bot.terminal, bot.settings, knowledge.usage; "
        f"print(__import__('json').dumps([m for m in {RETRIEVAL_STACK!r} if m in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == []
