"""The Retriever on a real Pyserini index: escaping, caching, combination modes, native PRF."""

from __future__ import annotations

from pathlib import Path

import pytest

from leser_bench.io.cache import directory_complete
from leser_bench.data.records import Product, Query
from leser_bench.expansion import Expansion
from leser_bench.retrieval import IndexConfig, Retriever, RetrieverConfig, build_index, sanitize_query

PRODUCTS = [
    Product(id="sofa1", title="Grey fabric sofa", description="three seat sofa for the living room", brand="Homely"),
    Product(id="sofa2", title="Leather sofa", description="brown leather sofa", brand="Homely"),
    Product(id="couch1", title="Velvet couch", description="a soft couch in green", brand="Lounge"),
    Product(id="couch2", title="Corner couch", description="L-shaped couch", brand="Lounge"),
    Product(id="shoe1", title="Running shoes", description="light trainers for running", brand="Fleet"),
    Product(id="shoe2", title="Trail sneakers", description="grippy sneakers", brand="Fleet"),
] + [Product(id=f"filler{i}", title=f"kitchen item {i}", description="a pan or pot") for i in range(40)]

HOSTILE = [
    'title:sofa AND (couch OR "x")*',
    "sofa" + "\x00\x01\x7f" + "\u202e" + "couch",
    " ".join(f"word{i}" for i in range(5000)),
    "a" * 20000,
    "\ud800 sofa",
    "NOT AND OR",
    "{{ 7*7 }} <script>alert(1)</script>",
    "",
    "   \t\n",
    "sofa~2 couch^10 [a TO z] /re.*gex/ \\",
]


@pytest.fixture(scope="module")
def index_dir(cache_root: Path) -> Path:
    return build_index(PRODUCTS, IndexConfig(), cache_root)


@pytest.fixture(scope="module")
def retriever(index_dir: Path) -> Retriever:
    r = Retriever(index_dir, RetrieverConfig())
    yield r
    r.close()


def test_index_is_cached_by_content(cache_root: Path, index_dir: Path) -> None:
    assert directory_complete(index_dir.parent)
    again = build_index(PRODUCTS, IndexConfig(), cache_root)
    assert again == index_dir
    changed = build_index(PRODUCTS[:-1], IndexConfig(), cache_root)
    assert changed != index_dir


def test_damaged_index_is_rebuilt(tmp_path: Path) -> None:
    index = build_index(PRODUCTS, IndexConfig(), tmp_path)
    victim = max((p for p in index.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    victim.write_bytes(victim.read_bytes()[:10])  # truncate a segment file
    assert not directory_complete(index.parent)
    rebuilt = build_index(PRODUCTS, IndexConfig(), tmp_path)
    assert directory_complete(rebuilt.parent)
    run = Retriever(rebuilt).search([Expansion(query=Query("q", "sofa"))], k=5)
    assert set(run["q"]) == {"sofa1", "sofa2"}


@pytest.mark.parametrize("text", HOSTILE)
def test_sanitize_leaves_plain_bounded_words(text: str) -> None:
    clean = sanitize_query(text, max_chars=2000, max_terms=256)
    assert len(clean) <= 2000
    assert len({w.lower() for w in clean.split()}) <= 256
    assert not any(c in clean for c in ':()"*\x00\x01\x7f\u202e{}<>[]^~\\/')
    assert "AND" not in clean.split() and "OR" not in clean.split()


def test_hostile_queries_search_without_error(retriever: Retriever) -> None:
    queries = [Query(f"h{i}", text) for i, text in enumerate(HOSTILE)]
    run = retriever.search([Expansion(query=q, texts=HOSTILE) for q in queries], k=10)
    assert set(run) == {q.id for q in queries}
    assert "sofa1" in run["h0"] and "couch1" in run["h0"]  # the words survive, the syntax does not
    assert run["h7"] and run["h8"]  # empty queries still rank through their expansions


def test_expansion_finds_synonym_products(retriever: Retriever) -> None:
    q = Query("q1", "sofa")
    plain = retriever.search([Expansion(query=q)], k=10)["q1"]
    expanded = retriever.search([Expansion(query=q, texts=["couch"])], k=10)["q1"]
    assert set(plain) == {"sofa1", "sofa2"}
    assert {"sofa1", "sofa2", "couch1", "couch2"} <= set(expanded)
    # the original query is weighted above the expansion (repeated twice)
    assert min(expanded["sofa1"], expanded["sofa2"]) > max(expanded["couch1"], expanded["couch2"])


def test_rrf_fuses_one_search_per_expansion(index_dir: Path) -> None:
    r = Retriever(index_dir, RetrieverConfig(combine="rrf", rrf_k=60))
    run = r.search([Expansion(query=Query("q1", "sofa"), texts=["couch", "sneakers"])], k=10)["q1"]
    assert {"sofa1", "couch1", "shoe2"} <= set(run)
    # a document ranked first by one list scores 1/(60+1)
    assert max(run.values()) == pytest.approx(1 / 61, rel=1e-6)
    r.close()


def test_rm3_equals_pyserini_native(retriever: Retriever, index_dir: Path) -> None:
    from pyserini.search.lucene import LuceneSearcher

    prf = {"method": "rm3", "fb_terms": 5, "fb_docs": 3, "original_query_weight": 0.5}
    ours = retriever.search([Expansion(query=Query("q", "leather sofa"), prf=prf)], k=10)["q"]
    native = LuceneSearcher(str(index_dir))
    native.set_bm25(0.9, 0.4)
    native.set_rm3(5, 3, 0.5)
    hits = native.batch_search(["leather sofa"], ["q"], k=10, threads=1, fields={"contents": 1.0, "title": 1.0})["q"]
    assert ours == {h.docid: pytest.approx(h.score) for h in hits}
    terms = retriever.feedback_terms("leather sofa", prf)
    assert terms and "leather" in terms and abs(sum(terms.values()) - 1.0) < 1e-3


def test_config_errors_name_the_key() -> None:
    with pytest.raises(ValueError, match="combine"):
        RetrieverConfig(combine="sum")
    with pytest.raises(ValueError, match="k must be > 0"):
        Retriever.search(Retriever.__new__(Retriever), [], k=0)


RM3_SMALL = {"method": "rm3", "fb_terms": 5, "fb_docs": 3, "original_query_weight": 0.5}


def _pyserini_rm3(index_dir: Path, text: str, k: int) -> dict[str, float]:
    from pyserini.search.lucene import LuceneSearcher

    native = LuceneSearcher(str(index_dir))
    native.set_bm25(0.9, 0.4)
    native.set_rm3(5, 3, 0.5)
    hits = native.batch_search([text], ["q"], k=k, threads=1, fields={"contents": 1.0, "title": 1.0})["q"]
    native.close()
    return {h.docid: h.score for h in hits}


def test_expansion_prf_runs_pyserini_rm3_on_the_combined_query(index_dir: Path) -> None:
    r = Retriever(index_dir, RetrieverConfig(expansion_prf=RM3_SMALL))
    q = Query("q", "sofa")
    run = r.search([Expansion(query=q, texts=["couch"]), Expansion(query=Query("id", "sofa"))], k=10)
    # the text expansion: Pyserini's RM3 on "sofa sofa couch"; the identity expansion: plain BM25, no PRF
    assert run["q"] == {d: pytest.approx(s) for d, s in _pyserini_rm3(index_dir, "sofa sofa couch", 10).items()}
    plain = Retriever(index_dir, RetrieverConfig())
    assert run["id"] == plain.search([Expansion(query=Query("id", "sofa"))], k=10)["id"]
    assert run["q"] != plain.search([Expansion(query=q, texts=["couch"])], k=10)["q"]
    r.close(), plain.close()


def test_an_expansion_with_prf_and_texts_keeps_its_texts(retriever: Retriever, index_dir: Path) -> None:
    """Before: the texts of an expansion that also asked for PRF were silently dropped."""
    run = retriever.search([Expansion(query=Query("q", "sofa"), texts=["couch"], prf=RM3_SMALL)], k=10)["q"]
    assert run == {d: pytest.approx(s) for d, s in _pyserini_rm3(index_dir, "sofa sofa couch", 10).items()}
    rrf = Retriever(index_dir, RetrieverConfig(combine="rrf"))
    with pytest.raises(ValueError, match="'q'.*combine=concat"):
        rrf.search([Expansion(query=Query("q", "sofa"), texts=["couch"], prf=RM3_SMALL)], k=10)
    rrf.close()
    # refused before the first chunk is searched, even when the offending expansion is in the last chunk
    chunked = Retriever(index_dir, RetrieverConfig(combine="rrf", chunk_size=1))
    mixed = [Expansion(query=Query("a", "sofa"), texts=["couch"]),
             Expansion(query=Query("z", "sofa"), texts=["couch"], prf=RM3_SMALL)]
    with pytest.raises(ValueError, match="'z'"):
        next(chunked.search_chunks(mixed, k=10))
    chunked.close()


def test_query_head_keeps_the_raw_querys_top_on_every_expanded_ranking(index_dir: Path) -> None:
    plain = Retriever(index_dir, RetrieverConfig())
    headed = Retriever(index_dir, RetrieverConfig(query_head=1))
    q = Query("q", "leather sofa")
    raw = plain.search([Expansion(query=q)], k=10)["q"]
    expanded = plain.search([Expansion(query=q, texts=["velvet couch green soft"] * 3)], k=10)["q"]
    first_raw, first_expanded = (max(r, key=r.get) for r in (raw, expanded))
    assert first_raw != first_expanded  # the expansion alone would move the query's best product down
    run = headed.search([Expansion(query=q, texts=["velvet couch green soft"] * 3), Expansion(query=Query("i", q.text))],
                        k=10)
    ranked = sorted(run["q"], key=run["q"].get, reverse=True)
    assert ranked[0] == first_raw
    # the rest is the expanded ranking, in its order, without the head's product
    assert ranked[1:] == [d for d in sorted(expanded, key=expanded.get, reverse=True) if d != first_raw][:9]
    assert run["i"] == raw  # identity is not an expanded ranking: untouched
    plain.close(), headed.close()


def test_stage_settings_are_checked_and_described() -> None:
    with pytest.raises(ValueError, match="query_head"):
        RetrieverConfig(query_head=-1)
    with pytest.raises(ValueError, match="expansion_prf.method"):
        RetrieverConfig(expansion_prf={"method": "bm25"})
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['fb_term'\]"):
        RetrieverConfig(expansion_prf={"method": "rm3", "fb_term": 5})
    with pytest.raises(ValueError, match="combine=concat"):
        RetrieverConfig(expansion_prf=RM3_SMALL, combine="rrf")
    described = RetrieverConfig(expansion_prf=RM3_SMALL, query_head=10).describe()
    assert "then RM3 (fb_terms=5, fb_docs=3, original_query_weight=0.5) on the combined query" in described
    assert "raw query's top 10" in described
    assert RetrieverConfig().ranking_identity() != RetrieverConfig(query_head=10).ranking_identity()
