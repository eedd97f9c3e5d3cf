"""The on-disk index: one directory per build, swapped in atomically.

``<index_dir>/CURRENT`` names the live build. A build is written to a temporary directory,
renamed into place and only then named in CURRENT (``os.replace``), so a crash mid-build or a
broken fact file never replaces a good index. Each build carries a snapshot of the facts it
indexed, so answers always match the vectors they were found by, and a manifest (model,
dimension, facts hash, build time, index type, calibration) so a stale or foreign index is
detected instead of silently used.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from knowledge.classifier import Classifier
from knowledge.embedder import Embedder
from knowledge.files import write_atomically
from knowledge.lexical import LexicalIndex
from knowledge.loader import KnowledgeBase
from knowledge.schema import LANGUAGES, Fact, Source

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
CURRENT = "CURRENT"
DECLINE = "~decline"  # the group of out-of-scope anchor rows; sorts after every fact id
KEEP_BUILDS = 3
Progress = Callable[[str], None]


class IndexUnusable(Exception):
    """No usable index: missing, stale, foreign or unreadable. The message says which."""


@dataclass(frozen=True)
class Row:
    """One indexed text: a fact's statement or one of its example questions, in one language."""

    fact_id: str
    lang: str
    kind: str
    text: str


@dataclass(frozen=True)
class Manifest:
    """What a build was made from; compared with the present before the build is used."""

    facts_hash: str  # the facts' content hash, then a digest of the anchors and scoring recipe
    model: str | None
    dimension: int | None
    index_type: str
    rows: int
    facts: int
    built_at: str
    format: int = FORMAT_VERSION
    normalized: bool = True
    metric: str = "inner_product"
    calibration: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    classifier: dict[str, Any] | None = None  # the question classifier's summary (knowledge.classifier)

    def stale_reason(self, facts_hash: str, model: str | None) -> str | None:
        """Why this build must not serve the given facts and model, or None if it may."""
        if self.format != FORMAT_VERSION:
            return f"index format {self.format} is not {FORMAT_VERSION}"
        if self.facts_hash != facts_hash:
            return "the facts changed since the index was built"
        if self.model != model:
            return f"the index was built with model {self.model!r}, not {model!r}"
        return None


@dataclass
class KnowledgeIndex:
    """Everything a query needs, loaded once per process."""

    manifest: Manifest
    kb: KnowledgeBase
    rows: list[Row]
    fact_ids: list[str]
    bounds: np.ndarray  # fact i owns rows bounds[i]:bounds[i+1]
    lexical: LexicalIndex
    dense: faiss.Index | None = None
    path: Path | None = None
    classifier: Classifier | None = None  # fitted after the build (``knowledge.service``)

    @property
    def row_fact(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.fact_ids)), np.diff(self.bounds))

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """Stored vectors of ``rows``, read back from FAISS (no second copy is kept)."""
        assert self.dense is not None
        return self.dense.reconstruct_batch(rows.astype(np.int64))


def rows_for(facts: list[Fact], anchors: dict[str, list[str]] | None = None) -> list[Row]:
    """Statements and example questions of each fact, grouped by fact (rows stay contiguous),
    then the out-of-scope anchors as one last group."""
    rows = []
    for fact in facts:
        for lang in LANGUAGES:
            rows.append(Row(fact.id, lang, "statement", fact.render(lang)))  # as readers see it
            rows += [Row(fact.id, lang, "question", q) for q in fact.questions.get(lang)]
    for anchor_lang, questions in (anchors or {}).items():
        rows += [Row(DECLINE, anchor_lang, "decline", q) for q in questions]
    return rows


def encode_rows(embedder: Embedder, rows: list[Row], progress: bool = False) -> np.ndarray:
    """Statements as passages, example questions and anchors as questions (``encode_queries``)."""
    is_statement = np.array([row.kind == "statement" for row in rows], dtype=bool)
    vectors = np.zeros((len(rows), embedder.dimension), dtype=np.float32)
    for mask, encode in ((is_statement, embedder.encode_passages), (~is_statement, embedder.encode_queries)):
        if mask.any():
            vectors[mask] = encode([row.text for row, keep in zip(rows, mask, strict=True) if keep], progress)
    return vectors


def _bounds(rows: list[Row]) -> tuple[list[str], np.ndarray]:
    fact_ids: list[str] = []
    starts: list[int] = []
    for i, row in enumerate(rows):
        if not fact_ids or fact_ids[-1] != row.fact_id:
            fact_ids.append(row.fact_id)
            starts.append(i)
    return fact_ids, np.array([*starts, len(rows)], dtype=np.int64)


def make_dense(vectors: np.ndarray, exact_max_rows: int, nprobe: int) -> tuple[faiss.Index, dict]:
    """Exact inner product at our size; IVF past ``exact_max_rows``, where a flat scan gets slow."""
    n, dim = vectors.shape
    if n <= exact_max_rows:
        index = faiss.IndexFlatIP(dim)
        index.add(vectors)
        return index, {"index_type": "flat"}
    nlist = int(4 * np.sqrt(n))
    quantizer = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    sample = vectors[np.random.default_rng(0).choice(n, size=min(n, nlist * 64), replace=False)]
    ivf.train(sample)
    ivf.add(vectors)
    ivf.nprobe = nprobe
    ivf.make_direct_map()  # lets candidates be rescored exactly from the stored vectors
    return ivf, {"index_type": "ivf", "nlist": nlist, "nprobe": nprobe}


def build_index(
    kb: KnowledgeBase,
    embedder: Embedder | None,
    *,
    anchors: dict[str, list[str]] | None = None,
    exact_max_rows: int = 20_000,
    nprobe: int = 24,
    progress: bool = False,
    say: Progress = lambda _: None,
    rows: list[Row] | None = None,
    vectors: np.ndarray | None = None,
) -> KnowledgeIndex:
    """Embed and index every fact of ``kb``, history included (a question about the past needs it).

    ``rows`` and ``vectors`` let the benchmark index synthetic bases without encoding them.
    """
    rows = rows if rows is not None else rows_for(list(kb.facts.values()), anchors)
    fact_ids, bounds = _bounds(rows)
    texts = [row.text for row in rows]
    say(f"lexical index over {len(rows):,} rows")
    lexical = LexicalIndex.build(texts)
    dense, params = None, {"index_type": "lexical-only"}
    if embedder is not None:
        if vectors is None:
            say(f"embedding {len(rows):,} rows with {embedder.name}")
            vectors = encode_rows(embedder, rows, progress)
        say("building the FAISS index")
        dense, params = make_dense(vectors, exact_max_rows, nprobe)
    manifest = Manifest(
        facts_hash=kb.content_hash,
        model=embedder.name if embedder else None,
        dimension=embedder.dimension if embedder else None,
        index_type=params.pop("index_type"),
        rows=len(rows),
        facts=len(kb.facts),
        built_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        params=params,
    )
    return KnowledgeIndex(manifest, kb, rows, fact_ids, bounds, lexical, dense)


def save_index(index: KnowledgeIndex, index_dir: Path) -> Path:
    """Write a new build beside the old ones and point CURRENT at it, atomically."""
    index_dir.mkdir(parents=True, exist_ok=True)
    name = f"build-{dt.datetime.now():%Y%m%dT%H%M%S}-{index.manifest.facts_hash[:8]}-{uuid.uuid4().hex[:6]}"
    tmp = index_dir / f".tmp-{name}"
    tmp.mkdir()
    try:
        _write_build(index, tmp)
        final = index_dir / name
        tmp.rename(final)
        write_atomically(index_dir / CURRENT, name + "\n")  # readers see the old or the new name
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    index.path = final
    _prune(index_dir, keep=name)
    return final


def _write_build(index: KnowledgeIndex, directory: Path) -> None:
    kb = index.kb
    snapshot = {
        "facts": [f.model_dump(mode="json") for f in kb.facts.values()],
        "sources": [s.model_dump(mode="json") for s in kb.sources.values()],
    }
    (directory / "facts.json").write_text(json.dumps(snapshot, ensure_ascii=False))
    rows = [[r.fact_id, r.lang, r.kind, r.text] for r in index.rows]
    (directory / "rows.json").write_text(json.dumps(rows, ensure_ascii=False))
    index.lexical.save(directory)
    if index.dense is not None:
        faiss.write_index(index.dense, str(directory / "dense.faiss"))
    if index.classifier is not None:
        index.classifier.save(directory)
    manifest = json.dumps(index.manifest.__dict__, indent=2, ensure_ascii=False)
    (directory / "manifest.json").write_text(manifest + "\n")


def _prune(index_dir: Path, keep: str) -> None:
    """Keep the newest few builds so a reader that just resolved CURRENT can still open its build."""
    builds = sorted(p for p in index_dir.glob("build-*") if p.is_dir() and p.name != keep)
    for old in builds[: max(0, len(builds) - (KEEP_BUILDS - 1))]:
        shutil.rmtree(old, ignore_errors=True)
    for leftover in index_dir.glob(".tmp-*"):
        if leftover.is_dir() and leftover.stat().st_mtime < (dt.datetime.now().timestamp() - 3600):
            shutil.rmtree(leftover, ignore_errors=True)


def current_build(index_dir: Path) -> Path:
    pointer = index_dir / CURRENT
    if not pointer.is_file():
        raise IndexUnusable(f"no index in {index_dir}: run `python -m knowledge build`")
    build = index_dir / pointer.read_text().strip()
    if not build.is_dir():
        raise IndexUnusable(f"{pointer} names {build.name}, which is missing")
    return build


def read_manifest(build: Path) -> Manifest:
    try:
        return Manifest(**json.loads((build / "manifest.json").read_text()))
    except (OSError, ValueError, TypeError) as exc:
        raise IndexUnusable(f"unreadable manifest in {build}: {exc}") from None


def load_index(build: Path, *, nprobe: int | None = None) -> KnowledgeIndex:
    """Open one build directory completely (or raise ``IndexUnusable``)."""
    manifest = read_manifest(build)
    try:
        snapshot = json.loads((build / "facts.json").read_text())
        facts = {f["id"]: Fact.model_validate(f) for f in snapshot["facts"]}
        sources = {s["id"]: Source.model_validate(s) for s in snapshot["sources"]}
        rows = [Row(*r) for r in json.loads((build / "rows.json").read_text())]
        lexical = LexicalIndex.load(build)
        dense = None
        if manifest.model is not None:
            dense = faiss.read_index(str(build / "dense.faiss"))
            if isinstance(dense, faiss.IndexIVF):
                dense.make_direct_map()
                if nprobe is not None:
                    dense.nprobe = nprobe
        classifier = Classifier.load(build) if manifest.classifier else None
    except Exception as exc:  # noqa: BLE001 - any damage means "rebuild"
        raise IndexUnusable(f"damaged index in {build}: {type(exc).__name__}: {exc}") from None
    if len(rows) != manifest.rows or (dense is not None and dense.ntotal != manifest.rows):
        raise IndexUnusable(f"index in {build} does not match its manifest")
    fact_ids, bounds = _bounds(rows)
    kb = KnowledgeBase(facts=facts, sources=sources)
    return KnowledgeIndex(manifest, kb, rows, fact_ids, bounds, lexical, dense, build, classifier)
