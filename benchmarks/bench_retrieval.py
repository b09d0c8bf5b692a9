"""Retrieval overhead and scaling: the harness's Retriever.search vs raw Pyserini batch_search.

Prints each figure with its target and writes benchmarks/results/retrieval.json.
    python benchmarks/bench_retrieval.py [--sizes 5000 50000 500000] [--queries 2000]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

from leser_bench.data.world import WorldConfig, generate_world
from leser_bench.data.records import Query
from leser_bench.expansion import Expansion
from leser_bench.retrieval import IndexConfig, Retriever, RetrieverConfig, build_index

RESULTS = Path(__file__).parent / "results"


def queries_for(dataset, n: int) -> list[Query]:
    pool = [q for s in dataset.splits.values() for q in s.queries]
    return [Query(f"{i}", pool[i % len(pool)].text) for i in range(n)]


def throughput(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        n = fn()
        best = min(best, time.perf_counter() - start)
    return n / best


def measure(n_products: int, n_queries: int, k: int, threads: int) -> dict[str, float]:
    dataset = generate_world(WorldConfig(n_products=n_products, n_train=max(400, n_queries // 2), n_test=200))
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        index = build_index(dataset.products, IndexConfig(threads=threads), Path(tmp))
        index_seconds = time.perf_counter() - start
        cfg = RetrieverConfig(threads=threads)
        retriever = Retriever(index, cfg)
        queries = queries_for(dataset, n_queries)
        expansions = [Expansion(query=q) for q in queries]
        raw = retriever.searcher()
        texts, ids = [q.text for q in queries], [q.id for q in queries]
        fields = dict(cfg.field_weights)
        retriever.search(expansions[:50], k=k)  # warm-up (JIT)

        def run_raw() -> int:
            hits = raw.batch_search(texts, ids, k=k, threads=threads, fields=fields)
            {qid: {h.docid: h.score for h in docs} for qid, docs in hits.items()}  # same conversion work
            return len(texts)

        def run_harness() -> int:
            retriever.search(expansions, k=k)
            return len(expansions)

        run_raw(), run_harness()  # warm both paths, then alternate so load drift hits both alike
        raw_qps = harness_qps = 0.0
        for _ in range(3):
            raw_qps = max(raw_qps, throughput(run_raw, repeats=1))
            harness_qps = max(harness_qps, throughput(run_harness, repeats=1))
        retriever.close()
    return {"products": n_products, "index_seconds": index_seconds, "raw_qps": raw_qps,
            "harness_qps": harness_qps, "ratio": harness_qps / raw_qps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    rows = [measure(n, args.queries, args.k, args.threads) for n in args.sizes]
    print(f"{'products':>9} {'index s':>8} {'raw q/s':>9} {'harness q/s':>12} {'ratio':>6}  target ratio >= 0.9")
    for r in rows:
        met = "met" if r["ratio"] >= 0.9 else "NOT met"
        print(f"{r['products']:>9} {r['index_seconds']:>8.1f} {r['raw_qps']:>9.0f} {r['harness_qps']:>12.0f} "
              f"{r['ratio']:>6.2f}  {met}")
    RESULTS.mkdir(exist_ok=True)
    meta = {"machine": platform.platform(), "python": platform.python_version(), "queries": args.queries,
            "k": args.k, "threads": args.threads}
    (RESULTS / "retrieval.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
