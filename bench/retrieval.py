"""Retrieval benchmark: build and query time and memory, real base and synthetic 1k–100k facts.

Prints figures; asserts nothing (targets are read by people, see docs/measurements.md). Query latency excludes
encoding the question: each question is encoded once with the real model beforehand, and encoding
is timed and printed on its own (p50 and p95), since its cost depends on the model, not the base.
Synthetic bases are built from the real facts' words;
encoding 100,000 facts for real would take a quarter of an hour on 2 cores, so their row vectors
are noisy copies of a pool of really encoded synthetic texts (same dimension, same clustering
character). Encoding throughput is measured separately and printed, so a real build time can be
estimated. ANN recall is measured against exact search on the same vectors.

    python bench/retrieval.py                       # real base + 1k, 10k, 100k
    python bench/retrieval.py --sizes 1000 --json   # one size, JSON as the last line
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import faiss
import numpy as np

from knowledge.cli import DEFAULT_QUESTIONS
from knowledge.embedder import Embedder, embedder_for
from knowledge.evaluate import QuestionSet
from knowledge.index import Row, build_index
from knowledge.loader import KnowledgeBase, load_knowledge_base
from knowledge.retriever import Retriever
from knowledge.schema import Fact
from knowledge.service import LiveKnowledge
from knowledge.settings import KnowledgeSettings

POOL = 3_000


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentiles(samples: list[float]) -> tuple[float, float]:
    values = np.array(samples) * 1000
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


class Precomputed(Embedder):
    """The real model, with the benchmark's questions encoded once beforehand, so query times
    measure retrieval (search, scoring, the classifier) and not the encoder."""

    def __init__(self, inner: Embedder, questions: list[str]) -> None:
        super().__init__(inner.name, inner.profile)
        self.inner = inner
        self.cache = {q: inner.encode_query(q) for q in dict.fromkeys(questions)}

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.inner.encode_passages(texts, progress)

    def encode_queries(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.inner.encode_queries(texts, progress)

    def encode_query(self, text: str) -> np.ndarray:
        found = self.cache.get(text)
        return found if found is not None else self.inner.encode_query(text)


def time_queries(retriever: Retriever, queries: list[str], rounds: int) -> tuple[float, float]:
    for text in queries[:5]:
        retriever.ask(text)
    samples = []
    for _ in range(rounds):
        for text in queries:
            start = time.perf_counter()
            retriever.ask(text)
            samples.append(time.perf_counter() - start)
    return percentiles(samples)


def synthetic_base(kb: KnowledgeBase, facts: int, rng: random.Random) -> tuple[KnowledgeBase, list[Row]]:
    """``facts`` facts whose texts are random draws from the real facts' words, in all languages."""
    words = sorted(
        {w for f in kb.facts.values() for lang in ("kk", "ru", "en") for w in f.render(lang).split()}
    )
    template = next(iter(kb.facts.values()))
    source = template.source
    made: dict[str, Fact] = {}
    rows: list[Row] = []
    for i in range(facts):
        fact_id = f"synthetic-{i:06d}"
        lang = rng.choice(("kk", "ru", "en"))
        made[fact_id] = template.model_copy(update={"id": fact_id})
        rows.append(Row(fact_id, lang, "statement", " ".join(rng.choices(words, k=rng.randint(12, 24)))))
        rows += [
            Row(fact_id, lang, "question", " ".join(rng.choices(words, k=rng.randint(4, 9))))
            for _ in range(3)
        ]
    return KnowledgeBase(facts=made, sources={source: kb.sources[source]}), rows


def synthetic_vectors(embedder: Embedder, rows: list[Row], rng: np.random.Generator) -> np.ndarray:
    pool = embedder.encode_passages([r.text for r in rows[:POOL]])
    picks = pool[rng.integers(0, len(pool), size=len(rows))]
    noisy = picks + rng.normal(0, 0.03, size=picks.shape).astype(np.float32)
    return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)


def ann_recall(index: faiss.Index, vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> float:
    if isinstance(index, faiss.IndexFlat):
        return 1.0
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(queries, k)
    _, found = index.search(queries, k)
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(truth, found, strict=True)]))


def bench_real(settings: KnowledgeSettings, embedder: Embedder, queries: list[str], rounds: int) -> dict:
    kb = load_knowledge_base(settings.facts_dir)
    with tempfile.TemporaryDirectory() as index_dir:
        service = LiveKnowledge(settings.model_copy(update={"index_dir": Path(index_dir)}), embedder)
        before = rss_mb()
        start = time.perf_counter()
        result = service.reload()  # an empty index dir: a full build + calibration
        build_s = time.perf_counter() - start
        if not result.rebuilt:
            raise RuntimeError(f"expected a fresh build: {result.message}")
    p50, p95 = time_queries(service.retriever, queries, rounds)
    return {
        "base": "real",
        "facts": len(kb.facts),
        "rows": service.retriever.index.manifest.rows,
        "index": service.retriever.index.manifest.index_type,
        "build_s": round(build_s, 2),
        "rss_mb": round(rss_mb() - before, 1),
        "query_p50_ms": round(p50, 2),
        "query_p95_ms": round(p95, 2),
        "ann_recall_at_10": 1.0,
    }


def bench_synthetic(
    settings: KnowledgeSettings, embedder: Embedder, facts: int, queries: list[str], rounds: int
) -> dict:
    kb = load_knowledge_base(settings.facts_dir)
    rng = random.Random(facts)
    synthetic, rows = synthetic_base(kb, facts, rng)
    vectors = synthetic_vectors(embedder, rows, np.random.default_rng(facts))
    gc.collect()
    before = rss_mb()
    start = time.perf_counter()
    index = build_index(
        synthetic,
        embedder,
        rows=rows,
        vectors=vectors,
        exact_max_rows=settings.exact_search_max_rows,
        nprobe=settings.ivf_nprobe,
    )
    build_s = time.perf_counter() - start
    retriever = Retriever(index, embedder)
    p50, p95 = time_queries(retriever, queries, rounds)
    probe = np.vstack(
        [embedder.encode_query(q) for q in queries[:50]] + [vectors[:: max(1, len(vectors) // 200)]]
    )
    return {
        "base": f"synthetic {facts:,}",
        "facts": facts,
        "rows": len(rows),
        "index": index.manifest.index_type
        + (
            f" nlist={index.manifest.params['nlist']} nprobe={index.manifest.params['nprobe']}"
            if index.manifest.index_type == "ivf"
            else ""
        ),
        "build_s": round(build_s, 2),
        "rss_mb": round(rss_mb() - before, 1),
        "query_p50_ms": round(p50, 2),
        "query_p95_ms": round(p95, 2),
        "ann_recall_at_10": round(ann_recall(index.dense, vectors, probe), 3),
    }


def encode_rate(embedder: Embedder, texts: list[str]) -> tuple[float, tuple[float, float]]:
    start = time.perf_counter()
    embedder.encode_passages(texts)
    batch = len(texts) / (time.perf_counter() - start)
    samples = []
    for text in texts:
        start = time.perf_counter()
        embedder.encode_query(text)
        samples.append(time.perf_counter() - start)
    return batch, percentiles(samples)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,100000", help="synthetic base sizes, comma-separated")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the query set per base")
    parser.add_argument("--json", action="store_true", help="print the results as JSON on the last line")
    args = parser.parse_args()

    settings = KnowledgeSettings.from_env()
    embedder = embedder_for(settings)
    if embedder is None:
        print("no embedding model could be loaded", file=sys.stderr)
        return 1
    questions = QuestionSet.read(DEFAULT_QUESTIONS[0])
    queries = [q.text for q in questions.questions] + [q.text for q in questions.out_of_scope]
    rate, (query_encode_ms, query_encode_p95_ms) = encode_rate(embedder, queries)
    print(f"model {embedder.name}; encoder threads {settings.encoder_threads}; cores {os.cpu_count()}")
    print(
        f"encoding: {rate:,.0f} texts/s in batches; one question p50 {query_encode_ms:.1f} ms, "
        f"p95 {query_encode_p95_ms:.1f} ms (not included in the query times below)"
    )
    embedder = Precomputed(embedder, queries)
    results = [bench_real(settings, embedder, queries, args.rounds)]
    print(_row(results[-1]), flush=True)
    for size in [int(s) for s in args.sizes.split(",") if s]:
        results.append(bench_synthetic(settings, embedder, size, queries, args.rounds))
        print(_row(results[-1]), flush=True)
    summary = {
        "model": embedder.name,
        "encode_texts_per_s": round(rate),
        "query_encode_p50_ms": round(query_encode_ms, 2),
        "query_encode_p95_ms": round(query_encode_p95_ms, 2),
        "results": results,
    }
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    return 0


def _row(r: dict) -> str:
    return (
        f"{r['base']:>18} | {r['rows']:>8,} rows | {r['index']:<26} | build {r['build_s']:>7.2f} s | "
        f"+{r['rss_mb']:>7.1f} MB | query p50 {r['query_p50_ms']:6.2f} ms p95 {r['query_p95_ms']:6.2f} ms | "
        f"ANN recall@10 {r['ann_recall_at_10']:.3f}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
