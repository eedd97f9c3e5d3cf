"""Reading fact files safely and all-or-nothing.

Maintainers edit YAML by hand and the bot trusts what it loads, so every file is size-checked
before parsing, aliases (the vehicle of "billion laughs" bombs), runaway nesting and duplicate
keys are refused, and every problem is reported with its file and fact id. The base is either
loaded whole or not at all: a caller never sees half of a broken edit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from knowledge.schema import LANGUAGE_NAMES, LANGUAGES, TOPICS, Fact, Source

SOURCES_FILE = "sources.yml"
MAX_FILES = 200


@dataclass(frozen=True)
class Problem:
    """Something wrong with the fact files, located well enough to fix it."""

    file: str
    message: str
    fact_id: str | None = None
    level: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = self.file + (f" [{self.fact_id}]" if self.fact_id else "")
        return f"{self.level}: {where}: {self.message}"


class KnowledgeBaseError(Exception):
    """The fact files cannot be loaded; ``problems`` says why, all at once."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.level == "error"]
        super().__init__(f"{len(errors)} error(s) in the fact files:\n" + "\n".join(map(str, errors)))


@dataclass(frozen=True)
class KnowledgeBase:
    """A validated, immutable set of facts and their sources."""

    facts: dict[str, Fact]
    sources: dict[str, Source]
    warnings: list[Problem] = field(default_factory=list)

    @property
    def current(self) -> list[Fact]:
        """Facts that describe the present as far as our sources know: those no newer fact
        supersedes. Superseded facts stay in the base as history (see ``successor``)."""
        return [f for f in self.facts.values() if f.id not in self._successors]

    @cached_property
    def _successors(self) -> dict[str, str]:
        return {old: f.id for f in self.facts.values() for old in f.supersedes}

    def successor(self, fact: Fact) -> Fact | None:
        """The fact that replaced ``fact``, or None while it is current."""
        newer = self._successors.get(fact.id)
        return self.facts[newer] if newer else None

    def newest(self, fact: Fact) -> Fact:
        """The end of ``fact``'s supersedes chain: what is true now (the loader refuses loops)."""
        while (newer := self.successor(fact)) is not None:
            fact = newer
        return fact

    def predecessors(self, fact: Fact) -> list[Fact]:
        """The facts ``fact`` replaced, newest first."""
        return sorted((self.facts[i] for i in fact.supersedes), key=_by_date, reverse=True)

    def is_current(self, fact: Fact) -> bool:
        return fact.id not in self._successors

    @property
    def content_hash(self) -> str:
        """Changes whenever anything a reader could see changes; keys the index."""
        payload = {
            "facts": [f.model_dump(mode="json") for f in sorted(self.facts.values(), key=_by_id)],
            "sources": [s.model_dump(mode="json") for s in sorted(self.sources.values(), key=_by_id)],
        }
        blob = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    def source_of(self, fact: Fact) -> Source:
        return self.sources[fact.source]


def _by_id(item: Fact | Source) -> str:
    return item.id


def _by_date(fact: Fact) -> tuple[object, ...]:
    return (fact.as_of.first_day, fact.as_of.day is not None)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and duplicate keys instead of expanding or dropping them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not allowed in fact files", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path, max_bytes: int) -> Any:
    """Parse one file, refusing oversized or hostile input before it costs memory."""
    size = path.stat().st_size
    if size > max_bytes:
        raise ValueError(f"file is {size:,} bytes, over the limit of {max_bytes:,}")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not valid UTF-8 at byte {exc.start}") from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ValueError(f"malformed YAML: {_yaml_reason(exc)}") from None
    except RecursionError:
        # PyYAML composes nested collections recursively: "[[[[…" a few thousand deep (a few KB,
        # well under the size limit) would otherwise escape as RecursionError and crash a reload.
        raise ValueError("malformed YAML: nested too deeply") from None


def _yaml_reason(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark else problem


def _describe(error: ErrorDetails) -> str:
    """Turn one pydantic error into a sentence a maintainer understands."""
    loc = [str(part) for part in error["loc"]]
    path = ".".join(loc)
    if error["type"] == "missing" and loc and loc[-1] in LANGUAGE_NAMES:
        return f"{path}: missing the {LANGUAGE_NAMES[loc[-1]]} ({loc[-1]}) translation"
    if error["type"] == "missing":
        return f"{path}: required field is missing"
    if error["type"] == "extra_forbidden":
        return f"{path}: unknown field (check its spelling)"
    if error["type"] == "literal_error" and loc and loc[-1] == "topic":
        return f"topic: unknown topic {error['input']!r}; known topics: {', '.join(TOPICS)}"
    message = error["msg"].removeprefix("Value error, ")
    return f"{path}: {message}" if loc else message  # a whole-fact check names its fields itself


def _validate(model: type[BaseModel], data: Any) -> tuple[Any, list[str]]:
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, [_describe(e) for e in exc.errors(include_url=False)]


def _entries(data: Any, key: str, file: str, problems: list[Problem]) -> list[Any]:
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        problems.append(Problem(file, f"expected a top-level '{key}:' list"))
        return []
    extra = set(data) - {key}
    if extra:
        problems.append(Problem(file, f"unknown top-level keys: {', '.join(map(str, extra))}"))
    return data[key]


def load_knowledge_base(
    facts_dir: Path, *, max_file_bytes: int = 1_000_000, today: dt.date | None = None
) -> KnowledgeBase:
    """Load and cross-check every fact file; raise ``KnowledgeBaseError`` listing all errors."""
    problems: list[Problem] = []
    if not facts_dir.is_dir():
        raise KnowledgeBaseError([Problem(str(facts_dir), "facts directory does not exist")])
    files = sorted(facts_dir.glob("*.yml")) + sorted(facts_dir.glob("*.yaml"))
    if len(files) > MAX_FILES:
        raise KnowledgeBaseError([Problem(str(facts_dir), f"more than {MAX_FILES} files")])

    parsed: dict[Path, Any] = {}
    for path in files:
        try:
            parsed[path] = read_yaml(path, max_file_bytes)
        except (OSError, ValueError) as exc:
            problems.append(Problem(path.name, str(exc)))

    sources: dict[str, Source] = {}
    facts: dict[str, Fact] = {}
    origin: dict[str, str] = {}
    for path, data in parsed.items():
        if path.name == SOURCES_FILE:
            _collect(data, "sources", Source, path.name, sources, {}, problems)
        else:
            _collect(data, "facts", Fact, path.name, facts, origin, problems, topic=path.stem)
    if not any(p.name == SOURCES_FILE for p in files):
        problems.append(Problem(SOURCES_FILE, "missing: every fact must cite a source listed there"))

    problems += _cross_check(facts, sources, origin, today or dt.date.today())
    if any(p.level == "error" for p in problems):
        raise KnowledgeBaseError(problems)
    return KnowledgeBase(facts=facts, sources=sources, warnings=problems)


def _collect(
    data: Any,
    key: str,
    model: type[Fact] | type[Source],
    file: str,
    into: dict[str, Any],
    origin: dict[str, str],
    problems: list[Problem],
    topic: str | None = None,
) -> None:
    for position, entry in enumerate(_entries(data, key, file, problems), start=1):
        entry_id = entry.get("id") if isinstance(entry, dict) else None
        label = str(entry_id) if entry_id else f"entry #{position}"
        if not isinstance(entry, dict):
            problems.append(Problem(file, "expected a mapping of fields", label))
            continue
        item, errors = _validate(model, entry)
        problems += [Problem(file, message, label) for message in errors]
        if item is None:
            continue
        if item.id in into:
            where = origin.get(item.id, file)
            problems.append(Problem(file, f"duplicate id (also in {where})", item.id))
            continue
        if topic is not None and item.topic != topic:
            problems.append(Problem(file, f"topic {item.topic!r} belongs in {item.topic}.yml", item.id))
        into[item.id] = item
        origin[item.id] = file


def _cross_check(
    facts: dict[str, Fact], sources: dict[str, Source], origin: dict[str, str], today: dt.date
) -> list[Problem]:
    problems: list[Problem] = []
    seen_questions: dict[str, str] = {}
    replaced_by: dict[str, str] = {}
    for fact in facts.values():
        file = origin[fact.id]
        if fact.source not in sources:
            problems.append(Problem(file, f"source {fact.source!r} is not in {SOURCES_FILE}", fact.id))
        for cited in fact.more_sources:
            if cited not in sources:
                problems.append(Problem(file, f"source {cited!r} is not in {SOURCES_FILE}", fact.id))
        for old in fact.supersedes:
            if old not in facts:
                problems.append(Problem(file, f"supersedes {old!r}, which does not exist", fact.id))
            elif old in replaced_by:
                problems.append(
                    Problem(file, f"supersedes {old!r}, which {replaced_by[old]} already supersedes", fact.id)
                )
            else:
                replaced_by[old] = fact.id
                if facts[old].as_of.first_day > fact.as_of.last_day:
                    problems.append(
                        Problem(
                            file, f"supersedes {old!r}, which is newer (as_of {facts[old].as_of})", fact.id
                        )
                    )
    for fact in facts.values():
        file = origin[fact.id]
        # History does not go stale: a superseded fact says what was true then, dated.
        if fact.id not in replaced_by and fact.review_by.last_day < today:
            problems.append(
                Problem(
                    file,
                    f"review_by {fact.review_by} has passed: re-check it against its source",
                    fact.id,
                    "warning",
                )
            )
        for lang in LANGUAGES:
            for question in fact.questions.get(lang):
                key = question.casefold()
                other = seen_questions.setdefault(key, fact.id)
                if other != fact.id:
                    problems.append(
                        Problem(
                            file, f"example question {question!r} also belongs to {other}", fact.id, "warning"
                        )
                    )
    problems += _supersede_cycles(facts, origin)
    return problems


def _supersede_cycles(facts: dict[str, Fact], origin: dict[str, str]) -> list[Problem]:
    problems = []
    for start in facts.values():
        seen: set[str] = set()
        frontier = list(start.supersedes)
        while frontier:
            current = frontier.pop()
            if current == start.id:
                problems.append(Problem(origin[start.id], "supersedes chain loops back", start.id))
                break
            if current in seen or current not in facts:
                continue
            seen.add(current)
            frontier += facts[current].supersedes
    return problems
