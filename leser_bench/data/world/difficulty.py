"""How hard a world data set is for BM25: no expansion, Pyserini's RM3 and the oracle expansion, per
query kind, and what its judgments look like.

Used by ``scripts/world_difficulty.py``, the difficulty tests and docs/world.md. Measures are resolved
by :mod:`leser_bench.evaluation.measures` exactly as evaluation resolves them: ``R@100`` counts Exact
(grade 3) as relevant, ``nDCG@10`` uses the data set's gains (ESCI: E=1, S=0.1, C=0.01, I=0).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from leser_bench.data.records import ESCI_GRADES, Dataset, Query
from leser_bench.data.world.qrels import tokens
from leser_bench.expansion import Expansion

MEASURES = ("R@100", "nDCG@10")
METHODS = ("bm25", "bm25+rm3", "bm25+oracle")
#: RM3 as the rm3 method runs it (conf/method/rm3.yaml; tests/test_world_esci.py checks they agree).
RM3_PRF = {"method": "rm3", "fb_terms": 10, "fb_docs": 10, "original_query_weight": 0.5}
_LETTERS = {grade: letter for letter, grade in ESCI_GRADES.items()}


def oracle_expansion(query: Query) -> Expansion:
    """The query plus the true synonyms of its product type(s)."""
    return Expansion(query=query, texts=[" ".join(query.meta["oracle_terms"])])


def _expansions(method: str, queries: list[Query]) -> list[Expansion]:
    if method == "bm25+rm3":
        return [Expansion(query=q, prf=dict(RM3_PRF)) for q in queries]
    if method == "bm25+oracle":
        return [oracle_expansion(q) for q in queries]
    return [Expansion(query=q) for q in queries]


def difficulty_table(dataset: Dataset, split_name: str, cache_root: Path) -> pd.DataFrame:
    """Rows: ``all`` and each query kind; columns: (method, measure) means, each expansion's gain over
    plain BM25 (``rm3 gain``, ``oracle gain``) and the query count."""
    from leser_bench.evaluation import evaluate_many, resolve_all  # noqa: PLC0415 - heavy imports
    from leser_bench.retrieval import IndexConfig, Retriever, RetrieverConfig, build_index  # noqa: PLC0415

    split = dataset.split(split_name)
    measures, _ = resolve_all(list(MEASURES), dataset.gains, relevant_grade=ESCI_GRADES["E"], k=100)
    retriever = Retriever(build_index(dataset.products, IndexConfig(), cache_root=cache_root), RetrieverConfig())
    try:
        runs = {m: retriever.search(_expansions(m, split.queries), k=100) for m in METHODS}
    finally:
        retriever.close()
    per_query = evaluate_many(runs, split.qrels, measures)
    kinds = {q.id: str(q.meta.get("kind", "?")) for q in split.queries}
    per_query["kind"] = per_query["query_id"].map(kinds)
    overall = per_query.assign(kind="all")
    table = pd.concat([overall, per_query]).pivot_table(
        index="kind", columns=["method", "measure"], values="value", aggfunc="mean", sort=False
    )
    table = table[[(m, name) for m in METHODS for name in MEASURES]]
    for method in METHODS[1:]:
        for name in MEASURES:
            table[(f"{method.removeprefix('bm25+')} gain", name)] = table[(method, name)] - table[("bm25", name)]
    counts = pd.Series(kinds).value_counts()
    table[("n", "queries")] = [len(kinds) if k == "all" else int(counts[k]) for k in table.index]
    return table


def judgment_stats(dataset: Dataset, split_name: str) -> dict[str, float]:
    """What the judgments and texts of one split look like: label shares (``share_E`` …), judged
    products per query, words per query and per title, and ``exact_overlap``: the mean share of the
    query's content words that a judged Exact product's title holds."""
    split = dataset.split(split_name)
    products = dataset.product_index()
    grades = [g for pool in split.qrels.values() for g in pool.values()]
    stats = {f"share_{letter}": grades.count(grade) / len(grades) for grade, letter in sorted(_LETTERS.items(),
                                                                                                reverse=True)}
    covered, exact = 0.0, 0
    for query in split.queries:
        words = set(tokens(query.text))
        for pid, grade in split.qrels[query.id].items():
            if grade == ESCI_GRADES["E"] and words:
                exact += 1
                covered += len(words & set(tokens(products[pid].title))) / len(words)
    stats["judged_per_query"] = len(grades) / len(split.queries)
    stats["query_words"] = sum(len(q.text.split()) for q in split.queries) / len(split.queries)
    stats["title_words"] = sum(len(re.findall(r"\S+", p.title)) for p in dataset.products) / len(dataset.products)
    stats["exact_overlap"] = covered / exact if exact else 0.0
    return stats
