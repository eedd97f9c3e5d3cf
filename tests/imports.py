"""What a module drags in: the import-layering tests run each check in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

from config import PROJECT_DIR


def loaded_packages(*modules: str) -> set[str]:
    """Top-level packages loaded by importing ``modules`` in a fresh interpreter."""
    code = f"import sys, {', '.join(modules)}; print(__import__('json').dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    )
    return {name.split(".")[0] for name in json.loads(done.stdout)}
