"""How hard a world data set is for BM25: no expansion vs the oracle expansion, per query kind.

Used by ``scripts/world_difficulty.py`` and the difficulty test. Measures are resolved by
:mod:`leser_bench.evaluation.measures` exactly as evaluation resolves them: ``R@100`` counts Exact
(grade 3) as relevant, ``nDCG@10`` uses the data set's gains (ESCI: E=1, S=0.1, C=0.01, I=0).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from leser_bench.data.records import ESCI_GRADES, Dataset, Query
from leser_bench.expansion import Expansion

MEASURES = ("R@100", "nDCG@10")
METHODS = ("bm25", "bm25+oracle")


def oracle_expansion(query: Query) -> Expansion:
    """The query plus the true synonyms of its product type(s)."""
    return Expansion(query=query, texts=[" ".join(query.meta["oracle_terms"])])


def difficulty_table(dataset: Dataset, split_name: str, cache_root: Path) -> pd.DataFrame:
    """Rows: ``all`` and each query kind; columns: (method, measure) means, gain and query count."""
    from leser_bench.evaluation import evaluate_many, resolve_all  # noqa: PLC0415 - heavy imports
    from leser_bench.retrieval import IndexConfig, Retriever, RetrieverConfig, build_index  # noqa: PLC0415

    split = dataset.split(split_name)
    measures, _ = resolve_all(list(MEASURES), dataset.gains, relevant_grade=ESCI_GRADES["E"], k=100)
    retriever = Retriever(build_index(dataset.products, IndexConfig(), cache_root=cache_root), RetrieverConfig())
    try:
        runs = {
            "bm25": retriever.search([Expansion(query=q) for q in split.queries], k=100),
            "bm25+oracle": retriever.search([oracle_expansion(q) for q in split.queries], k=100),
        }
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
    for name in MEASURES:
        table[("gain", name)] = table[("bm25+oracle", name)] - table[("bm25", name)]
    counts = pd.Series(kinds).value_counts()
    table[("n", "queries")] = [len(kinds) if k == "all" else int(counts[k]) for k in table.index]
    return table
