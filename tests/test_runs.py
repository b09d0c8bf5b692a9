"""Chunked search and streamed runs give exactly what the whole-run code paths gave."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from leser_bench.data.records import Query
from leser_bench.data.world import WorldConfig, generate_world
from leser_bench.evaluation import Evaluator, resolve_all
from leser_bench.evaluation.chunked import evaluate_chunks
from leser_bench.evaluation.expansion_metrics import CoverageConfig, coverage
from leser_bench.expansion import Expansion
from leser_bench.retrieval import IndexConfig, Retriever, RetrieverConfig, build_index
from leser_bench.io.runs import RunFileWriter, read_run_chunks, run_file_valid, stream_method_run
from leser_bench.io.trec import format_run, read_run

RUN = {"b": {"d1": 2.5, "d2": 1.25, "d3": 1.25}, "a": {"d9": 0.5}, "c": {}, "d": {"d2": 3.0}}


@pytest.fixture(scope="module")
def world():
    return generate_world(WorldConfig(n_products=1500, n_train=200, n_test=120))


@pytest.fixture(scope="module")
def index(world, cache_root: Path) -> Path:
    return build_index(world.products, IndexConfig(), cache_root)


def expansions_of(world, n: int = 90, combine: str = "concat") -> list[Expansion]:
    """Identity, text and PRF expansions; under concat some PRF expansions carry texts too (one combined query),
    under rrf none does (the retriever refuses that mix there, see test_retrieval)."""
    queries = [q for split in world.splits.values() for q in split.queries][:n]
    prf = {"method": "rm3", "fb_terms": 5, "fb_docs": 3, "original_query_weight": 0.5}
    out = []
    for i, q in enumerate(queries):
        with_prf = i % 7 == 0
        with_texts = i % 3 != 0 and not (with_prf and combine == "rrf")
        out.append(Expansion(query=q, texts=[f"{q.text} set"] if with_texts else [], prf=prf if with_prf else None))
    return out


def one_batch_search(retriever: Retriever, expansions: list[Expansion], k: int) -> dict:
    """Today's search: the whole call as one batch (one chunk holding everything)."""
    whole = Retriever(retriever.index_dir, RetrieverConfig(**{**retriever.config.__dict__, "chunk_size": 10**9}))
    try:
        return whole.search(expansions, k)
    finally:
        whole.close()


@pytest.mark.parametrize("combine", ["concat", "rrf"])
def test_chunked_search_is_identical_to_one_batch(world, index: Path, combine: str) -> None:
    expansions = expansions_of(world, combine=combine)
    chunked = Retriever(index, RetrieverConfig(combine=combine, chunk_size=7))
    got = chunked.search(expansions, k=200)
    want = one_batch_search(chunked, expansions, 200)
    assert list(got) == list(want)
    assert got == want  # same products, same float scores, exactly
    chunks = list(chunked.search_chunks(expansions, k=200))
    assert [len(c) for c in chunks] == [7] * 12 + [6]
    assert {q: d for c in chunks for q, d in c.items()} == want
    chunked.close()


def test_search_matches_raw_batch_search(world, index: Path) -> None:
    queries = [q for split in world.splits.values() for q in split.queries][:40]
    r = Retriever(index, RetrieverConfig(chunk_size=9))
    ours = r.search([Expansion(query=q) for q in queries], k=100)
    hits = r.searcher().batch_search([q.text for q in queries], [q.id for q in queries], k=100, threads=1,
                                     fields={"contents": 1.0, "title": 1.0})
    for q in queries:
        assert ours[q.id] == {h.docid: float(h.score) for h in hits.get(q.id, [])}
    r.close()


def test_run_file_round_trip_and_damage(tmp_path: Path) -> None:
    path = tmp_path / "run.trec"
    ids = sorted(RUN)
    with RunFileWriter(path, "m") as writer:
        writer.append({q: RUN[q] for q in ids[:2]}, ids[:2])
        writer.append({q: RUN[q] for q in ids[2:]}, ids[2:])
    assert path.read_text() == format_run(RUN, "m")  # byte-identical to the whole-run writer
    assert run_file_valid(path, ids)
    assert not run_file_valid(path, ids[:-1]) and not run_file_valid(path, list(reversed(ids)))
    assert list(read_run_chunks(path, 2)) == [{"a": RUN["a"], "b": RUN["b"]}, {"d": RUN["d"]}]
    assert list(read_run_chunks(path, 3, ids)) == [{q: RUN[q] for q in ids[:3]}, {"d": RUN["d"]}]
    assert read_run(path) == {q: d for q, d in RUN.items() if d}
    # truncated, or changed in place with the same size: detected
    data = path.read_bytes()
    path.write_bytes(data[:-5])
    assert not run_file_valid(path, ids)
    assert b" 2.5 " in data  # scores at full precision (repr), as the fresh run holds them
    path.write_bytes(data.replace(b" 2.5 ", b" 9.5 "))
    assert not run_file_valid(path, ids)
    path.write_bytes(data)
    assert run_file_valid(path, ids)
    (tmp_path / "run.trec.meta.json").unlink()  # a file without its sidecar is not trusted
    assert not run_file_valid(path, ids)


def test_uncommitted_writer_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "run.trec"
    with pytest.raises(RuntimeError), RunFileWriter(path, "m") as writer:
        writer.append(RUN)
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_reader_refuses_split_queries(tmp_path: Path) -> None:
    path = tmp_path / "bad.trec"
    path.write_text("a Q0 d1 1 1.0 t\nb Q0 d1 1 1.0 t\na Q0 d2 2 0.5 t\n")
    with pytest.raises(ValueError, match="appears again"):
        list(read_run_chunks(path, 10))
    other = tmp_path / "other.trec"
    other.write_text("z Q0 d1 1 1.0 t\n")
    with pytest.raises(ValueError, match="not among"):
        list(read_run_chunks(other, 10, ["a"]))


def test_streamed_method_run_and_chunked_evaluation_equal_whole_run(world, index: Path, tmp_path: Path) -> None:
    split = world.split("test")
    measures, _ = resolve_all(["nDCG@10", "R@100", "RR@10", "P@5"], world.gains, 3, 200)
    expansions = [Expansion(query=q, texts=["cheap"] if i % 2 else []) for i, q in enumerate(split.queries)]
    expansions = list(reversed(expansions))  # any order in, sorted order on disk
    whole_retriever = Retriever(index, RetrieverConfig())
    whole = whole_retriever.search(expansions, k=200)
    raw = whole_retriever.search([Expansion(query=q) for q in split.queries], k=50)
    whole_retriever.close()
    qrels = {**split.qrels, "judged-but-not-searched": {"p": 3}}
    facets = {p.id: p.product_type for p in world.products}
    cov = CoverageConfig(k=50, relevant_grade=3)
    evaluator = Evaluator(qrels, measures)

    r = Retriever(index, RetrieverConfig(chunk_size=16))
    cache, out = tmp_path / "cache" / "run.trec", tmp_path / "out" / "m.trec"
    for attempt in ("search", "reuse"):
        chunks = stream_method_run(r, expansions, 200, cache, out, tag="m")
        measured, covered = evaluate_chunks(chunks, evaluator, raw, qrels, facets, cov, "m")
        pd.testing.assert_frame_equal(measured, evaluator.evaluate(whole, "m"), check_exact=True, obj=attempt)
        pd.testing.assert_frame_equal(covered, coverage(whole, raw, qrels, facets, cov, "m"), check_exact=True)
        assert out.read_text() == format_run(whole, "m"), attempt
        assert run_file_valid(cache, sorted(e.query_id for e in expansions))
    # a damaged cache is searched again, not trusted
    cache.write_text(cache.read_text()[:-40])
    list(stream_method_run(r, expansions, 200, cache, out, tag="m"))
    assert run_file_valid(cache, sorted(e.query_id for e in expansions))
    assert out.read_text() == format_run(whole, "m")
    r.close()


def test_native_threshold_picks_the_path(index: Path, world) -> None:
    queries = [Query(f"n{i}", q.text) for i, q in enumerate(world.split("test").queries[:30])]
    expansions = [Expansion(query=q) for q in queries]
    r = Retriever(index, RetrieverConfig(chunk_size=10, native_threshold=30))
    native = {q: d for c in r.search_chunks(expansions, 100) for q, d in c.items()}
    assert r._native is not None  # 30 >= threshold: SearchCollection ran
    exact = r.search(expansions, 100)  # search() is always batch_search
    assert list(native) == list(exact)
    assert {q: list(d) for q, d in native.items()} == {q: list(d) for q, d in exact.items()}
    r.close()
    with pytest.raises(ValueError, match="chunk_size"):
        RetrieverConfig(chunk_size=0)
