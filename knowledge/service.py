"""The knowledge layer as a long-lived service: open once, search often, reload atomically.

This is the API the action server imports. ``reload`` validates the fact files, builds a new
index if the facts or the model changed, and only then swaps the retriever; until the swap,
and whenever anything fails, the previous retriever keeps serving.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.calibrate import WRONG_ANSWER_COST, anchors_hash, calibrate, read_anchors
from knowledge.classifier import RECIPE as CLASSIFIER_RECIPE
from knowledge.embedder import Embedder, embedder_for
from knowledge.index import (
    IndexUnusable,
    KnowledgeIndex,
    Progress,
    build_index,
    current_build,
    load_index,
    read_manifest,
    save_index,
)
from knowledge.lexical import MAX_ROWS_PER_NGRAM, NGRAMS
from knowledge.loader import KnowledgeBase, KnowledgeBaseError, Problem, load_knowledge_base
from knowledge.retriever import TOP_ROWS, Decision, Hit, Retriever
from knowledge.schema import LANGUAGES, Fact, Source
from knowledge.settings import KnowledgeSettings
from knowledge.timeline import Timeline, place

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReloadResult:
    """What a reload did: ``ok`` False means the old index still serves, ``problems`` says why."""

    ok: bool
    rebuilt: bool
    problems: list[Problem] = field(default_factory=list)
    message: str = ""


def inputs_hash(kb: KnowledgeBase, anchors: dict[str, list[str]], settings: KnowledgeSettings) -> str:
    """Facts, anchors and the scoring recipe: a change to any makes the index (and its
    calibrated thresholds) stale."""
    recipe = (
        f"top{TOP_ROWS}:anchor-vs-score:w{settings.dense_weight}:ng{NGRAMS}:df{MAX_ROWS_PER_NGRAM}"
        f":cost{WRONG_ANSWER_COST}:chains:classifier{CLASSIFIER_RECIPE}"
    )
    digest = hashlib.sha256(f"{anchors_hash(anchors)}:{recipe}".encode()).hexdigest()
    return f"{kb.content_hash}:{digest[:16]}"


def build_and_save(
    kb: KnowledgeBase,
    embedder: Embedder | None,
    settings: KnowledgeSettings,
    anchors: dict[str, list[str]],
    say: Progress = lambda _: None,
    progress: bool = False,
) -> KnowledgeIndex:
    """Build, calibrate and atomically publish a new index for ``kb``."""
    index = build_index(
        kb,
        embedder,
        anchors=anchors,
        exact_max_rows=settings.exact_search_max_rows,
        nprobe=settings.ivf_nprobe,
        progress=progress,
        say=say,
    )
    say("fitting the question classifier")
    probe = Retriever(index, embedder, margin=settings.margin, dense_weight=settings.dense_weight)
    thresholds, classifier = calibrate(probe)
    index.classifier = classifier
    index.manifest = dataclasses.replace(
        index.manifest,
        facts_hash=inputs_hash(kb, anchors, settings),
        calibration=thresholds,
        classifier=classifier.summary() if classifier else None,
    )
    save_index(index, settings.index_dir)
    say(f"index written to {index.path}")
    return index


class LiveKnowledge:
    """Holds the live retriever; safe to search from many threads while a reload runs."""

    def __init__(self, settings: KnowledgeSettings, embedder: Embedder | None) -> None:
        self.settings = settings
        self.embedder = embedder
        self._retriever: Retriever | None = None
        self._reload_lock = threading.Lock()
        self._declined: Path | None = None  # a published build follow_published could not use

    @classmethod
    def open(cls, settings: KnowledgeSettings | None = None, *, build: bool = True) -> LiveKnowledge:
        """Load the model and the index (building it when missing or stale and ``build``)."""
        settings = settings or KnowledgeSettings.from_env()
        embedder = embedder_for(settings)
        service = cls(settings, embedder)
        result = service.reload(build=build)
        if not result.ok:
            raise IndexUnusable(result.message)
        return service

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            raise IndexUnusable("no index is loaded")
        return self._retriever

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base behind the live index (it changes only with the index)."""
        return self.retriever.index.kb

    @property
    def fact_count(self) -> int:
        """Current facts the live index answers from; 0 before one is loaded."""
        return len(self._retriever.index.kb.current) if self._retriever is not None else 0

    def _retriever_for(self, index: KnowledgeIndex) -> Retriever:
        overrides = {"fused": self.settings.threshold, "lexical": self.settings.threshold}
        return Retriever(
            index,
            self.embedder,
            thresholds={k: v for k, v in overrides.items() if v is not None},
            margin=self.settings.margin,
            dense_weight=self.settings.dense_weight,
            max_query_chars=self.settings.max_query_chars,
            answer_threshold=self.settings.threshold,
        )

    def reload(
        self,
        *,
        build: bool = True,
        force: bool = False,
        say: Progress = lambda _: None,
        progress: bool = False,
    ) -> ReloadResult:
        """Validate facts, rebuild if stale (or ``force``), then swap; on any failure the old
        index keeps serving, in this process and on disk."""
        with self._reload_lock:
            try:
                kb = load_knowledge_base(self.settings.facts_dir, max_file_bytes=self.settings.max_file_bytes)
                anchors = read_anchors()
            except KnowledgeBaseError as exc:
                return ReloadResult(False, False, exc.problems, str(exc))
            except (OSError, ValueError) as exc:
                return ReloadResult(False, False, [], f"out-of-scope anchors: {exc}")
            model = self.embedder.name if self.embedder else None
            wanted = inputs_hash(kb, anchors, self.settings)
            index, rebuilt = None, False
            try:
                build_dir = current_build(self.settings.index_dir)
                reason = read_manifest(build_dir).stale_reason(wanted, model)
                if force:
                    reason = "a rebuild was asked for"
                elif reason is None:
                    index = load_index(build_dir, nprobe=self.settings.ivf_nprobe)
                else:
                    log.info("index is stale: %s", reason)
            except IndexUnusable as exc:
                log.info("%s", exc)
                reason = str(exc)
            if index is None:
                if not build:
                    return ReloadResult(False, False, kb.warnings, f"index unusable: {reason}")
                try:
                    index = build_and_save(kb, self.embedder, self.settings, anchors, say, progress)
                except Exception as exc:
                    log.exception("index build failed")
                    return ReloadResult(False, False, kb.warnings, f"index build failed: {exc}")
                rebuilt = True
            self._retriever = self._retriever_for(index)
            return ReloadResult(True, rebuilt, kb.warnings, "rebuilt" if rebuilt else "loaded")

    def follow_published(self) -> bool:
        """Serve the build another process published in the shared index directory, if it is
        not the one serving here; True if it swapped.

        Several action-server replicas share one index directory, and a maintainer's /reload
        reaches only one of them: that one builds and publishes, the others follow here without
        encoding anything. Never builds: a published build that does not match the facts on
        disk (edited again since) is declined once, and the old index keeps serving."""
        try:
            published = current_build(self.settings.index_dir)
        except IndexUnusable:
            return False
        serving = self._retriever.index.path if self._retriever is not None else None
        if published in (serving, self._declined):
            return False
        result = self.reload(build=False)
        if not result.ok:
            log.warning("not following %s: %s", published.name, result.message)
            self._declined = published
            return False
        log.info("now serving %s, published by another process", published.name)
        return True

    def search(self, text: str, lang: str, k: int = 5) -> list[Hit]:
        """Ranked facts for ``text``; render them with ``hit.statement(lang)``."""
        _check_lang(lang)
        return self.retriever.search(text, k)

    def fact(self, fact_id: str) -> Fact | None:
        """A fact of the loaded index by id, history included (a button names one)."""
        return self.kb.facts.get(fact_id)

    def place(
        self, fact: Fact, question: str = "", *, past: bool = False, ranked: Sequence[Fact] = ()
    ) -> Timeline:
        """How to show ``fact`` in time for ``question`` (see ``knowledge.timeline``); ``past``
        when the user chose this very fact, so a history fact leads even without a past word;
        ``ranked``, the other facts retrieval found, in order."""
        return place(self.kb, fact, question, past=past, ranked=ranked)

    def source(self, source_id: str) -> Source | None:
        return self.retriever.index.kb.sources.get(source_id)

    def decide(self, text: str, lang: str, *, on_topic: bool = False) -> Decision:
        """Answer / clarify / unknown for ``text`` asked in ``lang``; ``on_topic`` when the
        conversation already established that the question is about our subject."""
        _check_lang(lang)
        return self.retriever.ask(text, on_topic=on_topic)


def _check_lang(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; expected one of {', '.join(LANGUAGES)}")
