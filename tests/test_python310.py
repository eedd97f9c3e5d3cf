"""Finding Python 3.10 for Rasa on machines that keep it in different places."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from knowledge.settings import PROJECT_DIR

SCRIPT = PROJECT_DIR / "stack" / "python310.sh"


def find(path: str) -> str:
    done = subprocess.run(
        ["sh", str(SCRIPT)], env={**os.environ, "PATH": path}, capture_output=True, text=True
    )
    assert done.returncode == 0
    return done.stdout.strip()


def test_a_python310_on_path_that_fails_is_skipped(tmp_path: Path) -> None:
    shim = tmp_path / "python3.10"  # what pyenv's shim does when 3.10 is not a selected version
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.10: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    assert find(f"{tmp_path}:/usr/bin:/bin") == ""


def test_a_working_python310_on_path_is_found(tmp_path: Path) -> None:
    real = find(os.environ["PATH"])
    assert real, "this machine has a Python 3.10 (Rasa's environment is built from it)"
    (tmp_path / "python3.10").symlink_to(real)
    assert find(f"{tmp_path}:/usr/bin:/bin") == str(tmp_path / "python3.10")


def test_another_python_is_not_taken_for_310(tmp_path: Path) -> None:
    (tmp_path / "python3.10").symlink_to("/usr/bin/python3")  # a 3.11 behind the 3.10 name
    assert find(f"{tmp_path}:/usr/bin:/bin") == ""
