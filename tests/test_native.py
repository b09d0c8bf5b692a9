"""Anserini's SearchCollection (the native path) ranks exactly as Pyserini's batch_search.

Same docids in the same order for every query; scores equal to the 6 decimals of a TREC file
(float32 batch_search scores printed with %.6f, as leser_bench.io.trec writes them). Checked on a
generated world catalogue (BM25 with the default and other field weights, RM3, Rocchio, RRF) and
on the real Vaswani collection.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import shared_data
from leser_bench.data.records import Query
from leser_bench.data.world import WorldConfig, generate_world
from leser_bench.expansion import Expansion
from leser_bench.retrieval import IndexConfig, Retriever, RetrieverConfig, build_index

K = 1000


def same_rankings(native: dict, batch: dict) -> None:
    assert list(native) == list(batch)
    for qid, docs in batch.items():
        got = native[qid]
        assert list(got) == list(docs), f"{qid}: rankings differ"  # same products, same order
        assert [f"{s:.6f}" for s in got.values()] == [f"{s:.6f}" for s in docs.values()], qid
        assert all(abs(got[d] - s) <= 5e-7 for d, s in docs.items())


@pytest.fixture(scope="module")
def world():
    return generate_world(WorldConfig(n_products=2000, n_train=300, n_test=100))


@pytest.fixture(scope="module")
def world_index(world, cache_root: Path) -> Path:
    return build_index(world.products, IndexConfig(), cache_root)


def world_expansions(world, n: int = 150, texts: bool = False, prf: dict | None = None) -> list[Expansion]:
    queries = [q for split in world.splits.values() for q in split.queries][:n]
    # ids with spaces and a tab: the native path must not depend on them being TSV/TREC-safe
    return [Expansion(query=Query(f"q {i}\t{q.id}", q.text), prf=prf,
                      texts=[f"{q.text} case", "cheap"] if texts else []) for i, q in enumerate(queries)]


def both(index: Path, expansions: list[Expansion], **config) -> tuple[dict, dict]:
    r = Retriever(index, RetrieverConfig(**config))
    try:
        native = {}
        for chunk in r.search_chunks(expansions, K, native=True):
            native.update(chunk)
        return native, r.search(expansions, K)
    finally:
        r.close()


@pytest.mark.slow
@pytest.mark.parametrize("weights", [{"contents": 1.0, "title": 1.0}, {"contents": 1.0, "title": 2.5, "brand": 0.5},
                                     {"contents": 1.0}])
def test_native_bm25_equals_batch_search(world, world_index: Path, weights: dict) -> None:
    expansions = world_expansions(world, texts=True)
    native, batch = both(world_index, expansions, field_weights=weights)
    assert sum(len(d) for d in batch.values()) > 10_000  # deep rankings, many ties at the tail
    same_rankings(native, batch)


@pytest.mark.slow
@pytest.mark.parametrize("prf", [
    {"method": "rm3", "fb_terms": 10, "fb_docs": 10, "original_query_weight": 0.5},
    {"method": "rm3", "fb_terms": 20, "fb_docs": 5, "original_query_weight": 0.3},
    {"method": "rocchio", "top_fb_terms": 10, "top_fb_docs": 10, "bottom_fb_terms": 10, "bottom_fb_docs": 10,
     "alpha": 1.0, "beta": 0.75, "gamma": 0.15},
])
def test_native_prf_equals_batch_search(world, world_index: Path, prf: dict) -> None:
    native, batch = both(world_index, world_expansions(world, n=80, prf=prf))
    same_rankings(native, batch)


def test_native_rrf_equals_batch_search(world, world_index: Path) -> None:
    native, batch = both(world_index, world_expansions(world, n=60, texts=True), combine="rrf")
    assert list(native) == list(batch)
    assert native == batch  # RRF scores come from ranks only: exactly equal


def test_native_handles_empty_and_hostile_texts(world_index: Path) -> None:
    texts = ["", "   ", 'title:sofa AND (x)* "q"', "\t\nlamp\r\nshade\t", "the a of"]
    expansions = [Expansion(query=Query(f"h{i}", t)) for i, t in enumerate(texts)]
    native, batch = both(world_index, expansions)
    same_rankings(native, batch)
    assert native["h0"] == {} and native["h1"] == {}


@pytest.mark.slow
def test_native_equals_batch_search_on_vaswani(cache_root: Path) -> None:
    from leser_bench.data.loading import load_dataset

    data = shared_data("vaswani")
    dataset = load_dataset({"source": "files", "name": "vaswani", "split": "test", "queries": f"{data}/query-text.trec",
                            "catalogue": f"{data}/doc-text.trec", "qrels": f"{data}/qrels"})
    index = build_index(dataset.products, IndexConfig(), cache_root)
    queries = [q for split in dataset.splits.values() for q in split.queries]
    expansions = [Expansion(query=q) for q in queries]
    native, batch = both(index, expansions, field_weights={"contents": 1.0})
    same_rankings(native, batch)
    prf = {"method": "rm3", "fb_terms": 10, "fb_docs": 10, "original_query_weight": 0.5}
    native, batch = both(index, [Expansion(query=q, prf=prf) for q in queries], field_weights={"contents": 1.0})
    same_rankings(native, batch)
