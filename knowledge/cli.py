"""The maintainers' command line: validate, build, search, stats, eval, the conversation logs and usage.

Every failure ends in one readable line and a non-zero exit, never a traceback: maintainers
run this by hand after editing YAML, and a traceback hides the one line that matters.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from rich.console import Console
from rich.table import Table
from rich.text import Text

from knowledge.calibrate import read_anchors
from knowledge.changes import changes_since
from knowledge.confusions import confusion_report, crowded_facts
from knowledge.eligibility import RuleSet
from knowledge.embedder import embedder_for
from knowledge.evaluate import QuestionSet, evaluate
from knowledge.identifiers import bin_problem
from knowledge.index import IndexUnusable
from knowledge.loader import KnowledgeBase, KnowledgeBaseError, Problem, load_knowledge_base
from knowledge.logs import ConversationLog, FeedbackEntry, UnansweredEntry
from knowledge.regions import RegionMatcher
from knowledge.retriever import Decision
from knowledge.schema import LANGUAGES, TOPICS
from knowledge.schools import COLUMNS, RegistryError, SchoolRegistry, parse_csv, save_registry
from knowledge.service import LiveKnowledge
from knowledge.settings import PROJECT_DIR, KnowledgeSettings
from knowledge.text import fold
from knowledge.usage import DEFAULT_DAYS, DEFAULT_TOP, MAX_DAYS, usage_stats

DEFAULT_QUESTIONS = (  # the regression sets
    PROJECT_DIR / "tests" / "data" / "questions.yml",
    PROJECT_DIR / "tests" / "data" / "current.yml",
)
HELDOUT_QUESTIONS = PROJECT_DIR / "tests" / "data" / "heldout.yml"  # reported, never tuned on
Logged = TypeVar("Logged", UnansweredEntry, FeedbackEntry)


def _settings(args: argparse.Namespace) -> KnowledgeSettings:
    settings = KnowledgeSettings.from_env()
    if args.facts_dir:
        settings = settings.model_copy(update={"facts_dir": Path(args.facts_dir)})
    if args.index_dir:
        settings = settings.model_copy(update={"index_dir": Path(args.index_dir)})
    if args.log_dir:
        settings = settings.model_copy(update={"log_dir": Path(args.log_dir)})
    return settings


def _show(out: Console, problem: Problem) -> None:
    out.print(
        str(problem), style="red" if problem.level == "error" else "yellow", markup=False, highlight=False
    )


def cmd_validate(args: argparse.Namespace, out: Console) -> int:
    settings = _settings(args)
    try:
        kb = load_knowledge_base(settings.facts_dir, max_file_bytes=settings.max_file_bytes)
    except KnowledgeBaseError as exc:
        for problem in exc.problems:
            _show(out, problem)
        errors = sum(p.level == "error" for p in exc.problems)
        out.print(f"[red]invalid: {errors} error(s); the index was not touched[/]")
        return 1
    warnings = kb.warnings + _crowding(kb)
    for problem in warnings:
        _show(out, problem)
    school_problems = _school_data_problems(kb, settings)
    for message in school_problems:
        out.print(f"error: {message}", style="red", markup=False, highlight=False)
    if school_problems:
        out.print(f"[red]invalid: {len(school_problems)} error(s) in the school-check data[/]")
        return 1
    out.print(
        f"[green]valid:[/] {len(kb.facts)} facts ({len(kb.current)} current), "
        f"{len(kb.sources)} sources, {len(warnings)} warning(s)"
    )
    return 0


def _crowding(kb: KnowledgeBase) -> list[Problem]:
    """A warning per fact whose example questions collide with other facts' (lexical signal)."""
    try:
        anchors = read_anchors()
    except (OSError, ValueError):
        anchors = {}  # the build reports a broken anchors file; crowding is only a hint
    return [
        Problem(
            "confusions",
            f"{c.lost} of its {c.questions} example questions retrieve another fact first, and "
            f"{c.taken} of other facts' retrieve it (lexical signal); see `python -m knowledge confusions`",
            c.fact_id,
            "warning",
        )
        for c in crowded_facts(kb, anchors)
    ]


def _school_data_problems(kb: KnowledgeBase, settings: KnowledgeSettings) -> list[str]:
    """regions.yml and eligibility.yml parse; the rules' facts exist (checked against the
    shipped facts only: the rules cite those, not a maintainer's scratch directory)."""
    try:
        RegionMatcher.load()
        rules = RuleSet.load()
    except (ValueError, OSError) as exc:  # pydantic's ValidationError is a ValueError
        return [str(exc)]
    if settings.facts_dir.resolve() != KnowledgeSettings().facts_dir.resolve():
        return []
    return [f"eligibility.yml: {problem}" for problem in rules.problems(kb)]


def _open(args: argparse.Namespace, out: Console) -> LiveKnowledge:
    with out.status("loading the model and the index…"):
        return LiveKnowledge.open(_settings(args))


def cmd_build(args: argparse.Namespace, out: Console) -> int:
    settings = _settings(args)
    start = time.perf_counter()
    with out.status("loading the embedding model…"):
        embedder = embedder_for(settings, threads=args.threads)
    out.print(f"model: {embedder.name if embedder else 'none (lexical signal only)'}")
    service = LiveKnowledge(settings, embedder)

    def say(message: str) -> None:
        out.print(f"[dim]{time.perf_counter() - start:6.1f}s[/] {message}")

    result = service.reload(force=args.force, say=say, progress=True)
    for problem in result.problems:
        _show(out, problem)
    if not result.ok:
        out.print(f"[red]build failed: {result.message}[/]")
        return 1
    manifest = service.retriever.index.manifest
    verb = "built" if result.rebuilt else "up to date"
    decides = (
        f"classifier over {c['classes']} classes, answers from p ≥ {c['answer']}, cross-validated "
        f"right {c['cv']['right']} wrong {c['cv']['wrong']}"
        if (c := manifest.classifier)
        else f"similarity thresholds {service.retriever.thresholds}"
    )
    out.print(
        f"[green]index {verb}[/] in {time.perf_counter() - start:.1f}s: {manifest.facts} facts, "
        f"{manifest.rows} rows, {manifest.index_type}; {decides}"
    )
    return 0


def cmd_search(args: argparse.Namespace, out: Console) -> int:
    service = _open(args, out)
    ranking = service.retriever.rank(args.question, k=args.k)
    hits, decision = ranking.hits, service.retriever.decide(ranking)
    table = Table(title=f"{args.question!r} ({args.lang})")
    for column in ("#", "fact", "topic", "p", "score", "lexical", "dense", "matched"):
        table.add_column(column, overflow="fold")
    for rank, hit in enumerate(hits, start=1):
        dense = f"{hit.dense:.3f}" if hit.dense is not None else "–"
        matched = f"[{hit.matched.lang}] {hit.matched.text}"
        table.add_row(
            str(rank),
            hit.fact.id,
            hit.fact.topic,
            f"{hit.confidence:.3f}",
            f"{hit.score:.3f}",
            f"{hit.lexical:.3f}",
            dense,
            matched,
        )
    out.print(table)
    out.print(f"best out-of-scope anchor: {ranking.decline:.3f}")
    if ranking.not_ours is not None:
        out.print(f"classifier: not ours {ranking.not_ours:.3f}")
    out.print(f"decision: [bold]{decision.kind}[/] (threshold {decision.threshold:.3f})")
    if decision.alternative is not None:
        out.print(f"or did you mean: {decision.alternative.fact.id} ({decision.alternative.confidence:.3f})")
    for hit in decision.hits if decision.kind != "unknown" else ():
        out.print(f"• {hit.statement(args.lang)}  [dim]({hit.source.publisher}, {hit.fact.as_of})[/]")
    return 0


def _print_decision(out: Console, decision: Decision, lang: str) -> None:
    if decision.kind == "unknown":
        why = (
            "an out-of-scope example matched better"
            if decision.off_topic
            else f"best {decision.confidence:.2f} < threshold {decision.threshold:.2f}"
        )
        out.print(f"[yellow]no confident answer[/] ({why})")
        return
    if decision.kind == "clarify":
        out.print("[cyan]two facts fit; which one did you mean?[/]")
    for hit in decision.hits:
        out.print(f"• {hit.statement(lang)}", markup=False, highlight=False)
        out.print(
            f"  [dim]{hit.source.publisher}, as of {hit.fact.as_of} · {hit.fact.id} · {hit.score:.2f}[/]"
        )


def cmd_chat(args: argparse.Namespace, out: Console) -> int:
    service = _open(args, out)
    lang = args.lang
    out.print(
        "Ask a question in Kazakh, Russian or English. /kk /ru /en set the answer language; Ctrl-D quits."
    )
    while True:
        try:
            line = input(f"{lang}> ").strip()
        except EOFError:
            out.print()
            return 0
        if line.lstrip("/") in LANGUAGES and line.startswith("/"):
            lang = line[1:]
        elif line:
            _print_decision(out, service.decide(line, lang), lang)


def cmd_stats(args: argparse.Namespace, out: Console) -> int:
    settings = _settings(args)
    kb = load_knowledge_base(settings.facts_dir, max_file_bytes=settings.max_file_bytes)
    table = Table(title="facts per topic (example questions per language)")
    for column in ("topic", "facts", *LANGUAGES):
        table.add_column(column, justify="right")
    per_topic = Counter(f.topic for f in kb.current)
    for topic in TOPICS:
        facts = [f for f in kb.current if f.topic == topic]
        counts = [str(sum(len(f.questions.get(lang)) for f in facts)) for lang in LANGUAGES]
        table.add_row(topic, str(per_topic[topic]), *counts)
    out.print(table)
    today = dt.date.today()
    due = sorted((f for f in kb.current if f.review_by.last_day < today), key=lambda f: f.review_by)
    out.print(f"{len(kb.current)} current of {len(kb.facts)} facts; {len(due)} due for review:")
    for fact in due:
        out.print(
            f"  {fact.review_by}  {fact.id}  (as of {fact.as_of}, source {fact.source})", highlight=False
        )
    return 0


def cmd_review(args: argparse.Namespace, out: Console) -> int:
    """Current facts due for review (history does not go stale), oldest first, with the
    sources to re-check them against."""
    settings = _settings(args)
    kb = load_knowledge_base(settings.facts_dir, max_file_bytes=settings.max_file_bytes)
    horizon = dt.date.today() + dt.timedelta(days=args.within)
    due = sorted(
        (f for f in kb.current if f.review_by.last_day <= horizon), key=lambda f: f.review_by.last_day
    )
    if not due:
        out.print(f"no current fact is due for review by {horizon}")
        return 0
    table = Table(title=f"{len(due)} of {len(kb.current)} current facts due for review by {horizon}")
    for column in ("review by", "fact", "as of", "sources"):
        table.add_column(column, overflow="fold")
    for fact in due:
        cited = [kb.sources[s] for s in (fact.source, *fact.more_sources)]
        sources = "\n".join(f"{s.publisher}, {s.published}" + (f" {s.url}" if s.url else "") for s in cited)
        table.add_row(str(fact.review_by), fact.id, str(fact.as_of), sources)
    out.print(table)
    return 0


def cmd_changes(args: argparse.Namespace, out: Console) -> int:
    settings = _settings(args)
    kb = load_knowledge_base(settings.facts_dir, max_file_bytes=settings.max_file_bytes)
    found, no_history = changes_since(kb, settings.facts_dir, args.since)
    table = Table(title=f"changes since {args.since}")
    for column in ("change", "fact", "as of", "detail"):
        table.add_column(column, overflow="fold")
    for change in found:
        table.add_row(change.kind, change.fact_id, change.date, change.detail)
    out.print(table)
    if no_history:
        out.print(f"[yellow]edits not shown: {no_history}[/]", highlight=False)
    return 0


def cmd_confusions(args: argparse.Namespace, out: Console) -> int:
    service = _open(args, out)
    with out.status("searching every example question with its own row left out…"):
        report = confusion_report(service.retriever)
    table = Table(title="example questions that retrieve another fact first (leave-one-out)")
    for column in ("asked fact", "retrieved first", "n", "examples"):
        table.add_column(column, overflow="fold")
    for c in report.confusions[: args.limit]:
        got = c.got + (" (same chain)" if c.same_chain else "")
        examples = "\n".join(f"[{lang}] {text}" for lang, text in c.questions[:3])
        table.add_row(c.asked, got, str(c.count), examples)
    out.print(table)
    out.print(
        f"{report.confused} of {report.questions} example questions retrieve another fact first "
        f"({report.across_chains} outside their own supersedes chain), in {len(report.confusions)} pairs"
    )
    return 0


def cmd_eval(args: argparse.Namespace, out: Console) -> int:
    sets = [(Path(path), QuestionSet.read(Path(path))) for path in args.questions]
    service = _open(args, out)
    model = service.retriever.index.manifest.model or "none (lexical only)"
    failed = False
    for path, questions in sets:
        reports = evaluate(service.retriever, questions)
        table = Table(title=f"retrieval on {path.name} — model: {model}")
        for column in (
            "lang",
            "questions",
            "recall@1",
            "recall@3",
            "answered right",
            "answered wrong",
            "right offered",
            "bare clarify",
            "out of scope",
            "declined",
        ):
            table.add_column(column, justify="right")
        for lang, r in reports.items():
            table.add_row(
                lang,
                str(r.questions),
                f"{r.recall_at_1:.3f}",
                f"{r.recall_at_3:.3f}",
                f"{r.share(r.answered_right):.3f}",
                f"{r.share(r.answered_wrong):.3f}",
                f"{r.share(r.offered):.3f}",
                f"{r.share(r.clarified):.3f}",
                str(r.out_of_scope),
                f"{r.declined_share:.3f}",
            )
            failed |= r.recall_at_1 < args.require or r.declined_share < args.require
        out.print(table)
        if args.show_misses:
            for lang, r in reports.items():
                for miss in r.misses:
                    out.print(f"{lang} {miss}", style="yellow", markup=False, highlight=False)
    if failed:
        out.print(f"[red]below the required {args.require:.2f}[/]")
    return 1 if failed else 0


def cmd_import_schools(args: argparse.Namespace, out: Console) -> int:
    settings = _settings(args)
    try:
        schools = parse_csv(Path(args.csv).read_bytes(), RegionMatcher.load())
    except RegistryError as exc:
        for problem in exc.problems:
            out.print(f"error: {problem}", style="red", markup=False, highlight=False)
        out.print(f"[red]not imported: {len(exc.problems)} problem(s); the registry was not touched[/]")
        return 1
    save_registry(schools, settings.schools_file)
    statuses = Counter(s.status for s in schools)
    out.print(f"[green]imported[/] {len(schools)} schools ({dict(statuses)}) into {settings.schools_file}")
    return 0


def cmd_lookup_school(args: argparse.Namespace, out: Console) -> int:
    problem = bin_problem(args.bin)
    if problem is not None:
        out.print(f"[red]invalid BIN: {problem.label}[/]")
        return 1
    school = SchoolRegistry.load(_settings(args).schools_file).lookup(args.bin)
    if school is None:
        out.print("not in the imported registry (or no registry imported)")
        return 0
    out.print(school.model_dump_json(indent=2), markup=False, highlight=False)
    return 0


def _since(entries: list[Logged], since: dt.date | None) -> list[Logged]:
    return [e for e in entries if since is None or e.time.date() >= since]


def _when(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _shorten(text: str, limit: int = 200) -> str:
    """Log text may be 1,000 characters; a table row shows the start (the file keeps it all)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _nothing_logged(out: Console, what: str, path: Path, since: dt.date | None) -> int:
    after = f" since {since}" if since else " yet"
    out.print(f"no {what} logged{after} ({path})", markup=False, highlight=False)
    return 0


def cmd_unanswered(args: argparse.Namespace, out: Console) -> int:
    log = ConversationLog.from_settings(_settings(args))
    entries = _since(log.unanswered(), args.since)
    if not entries:
        return _nothing_logged(out, "unanswered questions", log.unanswered_path, args.since)
    asked = Counter(fold(e.text) for e in entries)
    shown = entries[::-1][: args.limit]
    table = Table(title=f"unanswered questions, newest first ({len(shown)} of {len(entries)}; times UTC)")
    for column in ("time", "lang", "reason", "best (threshold)", "asked", "text"):
        numeric = column.startswith("best") or column == "asked"
        table.add_column(column, overflow="fold", justify="right" if numeric else "left")
    for e in shown:
        best = f"{e.best_score:.3f}" if e.best_score is not None else "–"
        if e.threshold is not None:
            best += f" ({e.threshold:.3f})"
        text = _shorten(e.text)
        table.add_row(_when(e.time), e.lang, Text(e.reason), best, str(asked[fold(e.text)]), Text(text))
    out.print(table)
    repeated = [(count, key) for key, count in asked.most_common(10) if count > 1]
    if repeated:
        latest = {fold(e.text): e for e in entries}  # the newest wording of each question
        top = Table(title="asked more than once")
        for column in ("times", "last asked", "lang", "text"):
            top.add_column(column, overflow="fold", justify="right" if column == "times" else "left")
        for count, key in repeated:
            e = latest[key]
            top.add_row(str(count), _when(e.time), e.lang, Text(_shorten(e.text)))
        out.print(top)
    return 0


def cmd_feedback(args: argparse.Namespace, out: Console) -> int:
    log = ConversationLog.from_settings(_settings(args))
    entries = _since(log.feedback(), args.since)
    if not entries:
        return _nothing_logged(out, "feedback", log.feedback_path, args.since)
    shown = entries[::-1][: args.limit]
    table = Table(title=f"feedback, newest first ({len(shown)} of {len(entries)}; times UTC)")
    for column in ("time", "helpful", "fact", "lang", "question"):
        table.add_column(column, overflow="fold")
    for e in shown:
        table.add_row(
            _when(e.time),
            "yes" if e.helpful else "[red]no[/]",
            Text(e.fact_id or "–"),
            e.lang,
            Text(_shorten(e.question or "–")),
        )
    out.print(table)
    helpful = sum(e.helpful for e in entries)
    out.print(f"{len(entries)} in all: {helpful} helpful, {len(entries) - helpful} not helpful")
    unhelpful = Counter(e.fact_id or "(no fact)" for e in entries if not e.helpful)
    for fact_id, count in unhelpful.most_common(5):
        out.print(f"  not helpful ×{count}: {fact_id}", markup=False, highlight=False)
    return 0


def cmd_usage(args: argparse.Namespace, out: Console) -> int:
    log = ConversationLog.from_settings(_settings(args))
    stats = usage_stats(log, args.days, top=args.top)
    period = f"{_when(stats.since)} – {_when(stats.until)} UTC"
    if not stats.total.asked and not stats.top_unanswered:
        out.print(f"no questions logged in the last {args.days} day(s), {period} ({log.questions_path})")
        return 0
    table = Table(title=f"questions in the last {args.days} day(s), {period}")
    for column in ("lang", "asked", "answered", "clarified", "answered share"):
        table.add_column(column, justify="left" if column == "lang" else "right")
    for usage in (*stats.languages, stats.total):
        table.add_row(
            usage.lang,
            str(usage.asked),
            str(usage.answered),
            str(usage.clarified),
            f"{usage.answered_share:.0%}" if usage.asked else "–",
            end_section=usage is stats.languages[-1],
        )
    out.print(table)
    if stats.top_unanswered:
        top = Table(title="most asked unanswered questions (newest wording)")
        for column in ("times", "last asked", "lang", "text"):
            top.add_column(column, overflow="fold", justify="right" if column == "times" else "left")
        for question in stats.top_unanswered:
            top.add_row(
                str(question.count), _when(question.last_asked), question.lang, Text(_shorten(question.text))
            )
        out.print(top)
    return 0


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, not {value!r}") from None


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {value!r}")
    return int(value)


def _days(value: str) -> int:
    days = _positive(value)
    if days > MAX_DAYS:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_DAYS} days, not {value!r}")
    return days


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m knowledge", description="Aqparat knowledge base tools.")
    parser.add_argument("--facts-dir", help="fact files (default: AQPARAT_FACTS_DIR or knowledge/facts)")
    parser.add_argument("--index-dir", help="index directory (default: AQPARAT_INDEX_DIR or var/index)")
    parser.add_argument("--log-dir", help="conversation logs (default: AQPARAT_LOG_DIR or var/log)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("validate", help="check every fact file; errors exit 1")
    build = commands.add_parser("build", help="build the index if the facts or the model changed")
    build.add_argument("--force", action="store_true", help="rebuild even if the index is current")
    build.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count() or 1,
        help="encoder threads (default: all cores; a running service uses AQPARAT_ENCODER_THREADS)",
    )
    search = commands.add_parser("search", help="rank facts for a question")
    search.add_argument("question")
    search.add_argument("--lang", choices=LANGUAGES, default="en", help="the asker's language")
    search.add_argument("-k", type=int, default=5, help="how many facts to show")
    chat = commands.add_parser("chat", help="ask questions interactively")
    chat.add_argument("--lang", choices=LANGUAGES, default="kk", help="the answer language to start with")
    commands.add_parser("stats", help="facts per topic and language, facts due for review")
    review = commands.add_parser(
        "review", help="current facts due for review, oldest first, with their sources"
    )
    review.add_argument("--within", type=int, default=0, help="also facts due in the next N days (default 0)")
    changes = commands.add_parser(
        "changes", help="facts reported, added, reworded, superseded or re-reviewed since a day"
    )
    changes.add_argument("--since", type=_date, required=True, help="YYYY-MM-DD")
    confusions = commands.add_parser("confusions", help="example questions that retrieve another fact first")
    confusions.add_argument("--limit", type=_positive, default=30, help="pairs to show (default 30)")
    schools = commands.add_parser("import-schools", help="import the school registry from a CSV")
    schools.add_argument("csv", help="columns: " + ",".join(COLUMNS))
    lookup = commands.add_parser("lookup-school", help="find a school in the imported registry by BIN")
    lookup.add_argument("bin")
    ev = commands.add_parser("eval", help="recall@1/@3 per language and out-of-scope declined")
    ev.add_argument(
        "--questions",
        nargs="+",
        default=[str(p) for p in (*DEFAULT_QUESTIONS, HELDOUT_QUESTIONS)],
        help="question sets (YAML; default: the 2023 and current-facts regression sets and the "
        "held-out set in tests/data)",
    )
    ev.add_argument("--require", type=float, default=0.0, help="exit 1 if any figure is below this")
    ev.add_argument("--show-misses", action="store_true", help="list the questions that failed")
    for name, what in (("unanswered", "questions the bot did not answer"), ("feedback", "users' feedback")):
        logged = commands.add_parser(name, help=f"{what}, newest first")
        logged.add_argument("--limit", type=_positive, default=20, help="how many to show (default 20)")
        logged.add_argument("--since", type=_date, help="only entries from this day on (YYYY-MM-DD, UTC)")
    usage = commands.add_parser("usage", help="questions per language, share answered, top unanswered")
    usage.add_argument(
        "--days", type=_days, default=DEFAULT_DAYS, help=f"the last N days (default {DEFAULT_DAYS})"
    )
    usage.add_argument(
        "--top",
        type=_positive,
        default=DEFAULT_TOP,
        help=f"unanswered questions to show (default {DEFAULT_TOP})",
    )
    return parser


COMMANDS: dict[str, Callable[[argparse.Namespace, Console], int]] = {
    "validate": cmd_validate,
    "build": cmd_build,
    "search": cmd_search,
    "chat": cmd_chat,
    "stats": cmd_stats,
    "review": cmd_review,
    "changes": cmd_changes,
    "confusions": cmd_confusions,
    "eval": cmd_eval,
    "import-schools": cmd_import_schools,
    "lookup-school": cmd_lookup_school,
    "unanswered": cmd_unanswered,
    "feedback": cmd_feedback,
    "usage": cmd_usage,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("sentence_transformers", "transformers", "huggingface_hub", "httpx"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    out = Console(width=None if sys.stdout.isatty() else 120)  # pipes and CI logs: no cut headers
    err = Console(stderr=True)
    try:
        return COMMANDS[args.command](args, out)
    except KnowledgeBaseError as exc:
        err.print(str(exc), style="red", markup=False, highlight=False)
    except (IndexUnusable, ValueError, OSError) as exc:
        err.print(f"error: {exc}", style="red", markup=False, highlight=False)
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    return 1


if __name__ == "__main__":
    sys.exit(main())
