"""What changed in the knowledge base since a date, for maintainers (``python -m knowledge changes``).

Two views of time meet here. The facts' own dates say what happened in the world (a report of
2025-08-13 is news whenever it was typed in); the git history says what maintainers did to the
files (a fact added, reworded, superseded or re-reviewed last week). The first also feeds the
bot's "what's new"; the second is read only where the fact files live in a git checkout.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from knowledge.loader import KnowledgeBase, KnowledgeBaseError, load_knowledge_base
from knowledge.timeline import recent_changes

Kind = Literal["new report", "added", "reworded", "superseded", "re-reviewed", "removed"]
_GIT_TIMEOUT = 20


@dataclass(frozen=True)
class FactChange:
    kind: Kind
    fact_id: str
    date: str  # the fact's as_of: when the fact was true, whatever the edit
    detail: str = ""


def changes_since(kb: KnowledgeBase, facts_dir: Path, since: dt.date) -> tuple[list[FactChange], str | None]:
    """Reports dated on or after ``since``, then the edits git shows since that day; the second
    value says why git could not be read (None when it was)."""
    found = [
        FactChange("new report", c.fact.id, str(c.fact.as_of), _replaced(c.fact.supersedes))
        for c in recent_changes(kb, limit=len(kb.facts), since=since)
    ]
    try:
        base = _base_facts(facts_dir, since)
    except _NoHistory as exc:
        return found, str(exc)
    if base is None:  # the files did not exist yet: everything was added
        found += [FactChange("added", f.id, str(f.as_of)) for f in kb.facts.values()]
        return found, None
    return found + _diff(base, kb), None


def _replaced(ids: list[str]) -> str:
    return f"replaces {', '.join(ids)}" if ids else ""


def _diff(old: KnowledgeBase, new: KnowledgeBase) -> list[FactChange]:
    edits: list[FactChange] = []
    for fact in new.facts.values():
        before = old.facts.get(fact.id)
        if before is None:
            edits.append(FactChange("added", fact.id, str(fact.as_of), _replaced(fact.supersedes)))
            continue
        if before.statement != fact.statement or before.figures != fact.figures:
            edits.append(FactChange("reworded", fact.id, str(fact.as_of)))
        if old.is_current(before) and not new.is_current(fact):
            successor = new.successor(fact)
            edits.append(
                FactChange("superseded", fact.id, str(fact.as_of), f"by {successor.id if successor else '?'}")
            )
        if before.review_by != fact.review_by:
            edits.append(
                FactChange(
                    "re-reviewed",
                    fact.id,
                    str(fact.as_of),
                    f"review_by {before.review_by} → {fact.review_by}",
                )
            )
    edits += [FactChange("removed", i, str(f.as_of)) for i, f in old.facts.items() if i not in new.facts]
    return edits


class _NoHistory(Exception):
    """No git history for the fact files (not a checkout, git missing, or unreadable then)."""


def _git(cwd: Path, *args: str) -> str:
    try:
        done = subprocess.run(  # noqa: S603 - fixed git subcommands, no shell
            ["git", *args],  # noqa: S607 - git from PATH, like a maintainer's own shell
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise _NoHistory(f"git is not available: {exc}") from None
    if done.returncode != 0:
        raise _NoHistory(f"git {args[0]} failed: {done.stderr.strip()[:200]}")
    return done.stdout


def _base_facts(facts_dir: Path, since: dt.date) -> KnowledgeBase | None:
    """The fact files as the last commit before ``since`` had them (None if there were none)."""
    facts_dir = facts_dir.resolve()
    top = Path(_git(facts_dir, "rev-parse", "--show-toplevel").strip())
    relative = facts_dir.relative_to(top).as_posix()
    commit = _git(top, "rev-list", "-1", f"--before={since.isoformat()}T00:00:00", "HEAD").strip()
    if not commit:
        return None
    names = [
        n for n in _git(top, "ls-tree", "--name-only", f"{commit}:{relative}").split() if n.endswith(".yml")
    ]
    if not names:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            (Path(tmp) / name).write_text(_git(top, "show", f"{commit}:{relative}/{name}"), encoding="utf-8")
        try:
            return load_knowledge_base(Path(tmp), today=since)
        except KnowledgeBaseError as exc:
            raise _NoHistory(f"the fact files at {commit[:10]} do not load: {exc.problems[0]}") from None
