"""Retrieval overhead and scaling: the harness's Retriever.search vs raw Pyserini batch_search.

Prints each figure with its target and writes benchmarks/results/retrieval.json.
    python benchmarks/bench_retrieval.py [--sizes 5000 50000 500000] [--queries 2000]

``--deep N`` adds the k=1000 row on the largest size: the Retriever's streamed path
(``search_chunks``, native SearchCollection above ``native_threshold``) vs Anserini's own
SearchCollection on the same index, N queries and threads (target ratio >= 0.9), batch_search for
reference, and the peak RSS of streaming ``--rss-queries`` queries at k=1000 to a run file in a
fresh process (``--rss-only``).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from leser_bench.data.world import WorldConfig, generate_world
from leser_bench.data.records import Query
from leser_bench.expansion import Expansion
from leser_bench.retrieval import IndexConfig, Retriever, RetrieverConfig, build_index
from leser_bench.retrieval.native import _run_search_collection
from leser_bench.io.runs import stream_method_run

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


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def deep(n_products: int, n_queries: int, threads: int, rss_queries: int, cache: Path) -> dict[str, float]:
    """k=1000: streamed Retriever vs Anserini's SearchCollection (same index, queries, threads)."""
    k = 1000
    dataset = generate_world(WorldConfig(n_products=n_products, n_train=max(400, n_queries // 2), n_test=200))
    index = build_index(dataset.products, IndexConfig(threads=threads), cache)
    cfg = RetrieverConfig(threads=threads)
    retriever = Retriever(index, cfg)
    expansions = [Expansion(query=q) for q in queries_for(dataset, n_queries)]
    retriever.search(expansions[:50], k=k)  # warm-up (JIT)
    native = retriever._native_searcher()
    texts = [retriever._clean(e.query.text) for e in expansions]
    with tempfile.TemporaryDirectory() as tmp:
        topics = Path(tmp) / "topics.tsv"
        topics.write_text("".join(f"q{i}\t{t}\n" for i, t in enumerate(texts) if t))
        argv = native.args(topics, Path(tmp) / "anserini.trec", k)

        def run_anserini() -> int:
            _run_search_collection(argv)
            return n_queries

        def run_streamed() -> int:
            for _ in retriever.search_chunks(expansions, k):
                pass
            return n_queries

        def run_batch() -> int:
            retriever.search(expansions, k)
            return n_queries

        run_anserini()  # warm the native path
        anserini_qps = throughput(run_anserini, repeats=1)
        streamed_qps = throughput(run_streamed, repeats=1)
        anserini_qps = max(anserini_qps, throughput(run_anserini, repeats=1))  # alternate: load drift hits both
        streamed_qps = max(streamed_qps, throughput(run_streamed, repeats=1))
        batch_qps = throughput(run_batch, repeats=1)
    retriever.close()
    rss = subprocess.run([sys.executable, __file__, "--rss-only", str(index), str(rss_queries), str(threads),
                          str(n_products)], capture_output=True, text=True, check=True)
    base_rss, rss_mib = (float(x) for x in rss.stdout.split()[-2:])
    return {"products": n_products, "queries": n_queries, "k": k, "anserini_qps": anserini_qps,
            "streamed_qps": streamed_qps, "batch_search_qps": batch_qps, "ratio": streamed_qps / anserini_qps,
            "rss_queries": rss_queries, "rss_before_mib": base_rss, "rss_peak_mib": rss_mib}


def rss_only(index: str, n_queries: int, threads: int, n_products: int) -> None:
    """Stream ``n_queries`` at k=1000 to a run file; print peak RSS (MiB) before and after."""
    dataset = generate_world(WorldConfig(n_products=n_products, n_train=max(400, n_queries // 2), n_test=200))
    retriever = Retriever(Path(index), RetrieverConfig(threads=threads))
    expansions = [Expansion(query=q) for q in queries_for(dataset, n_queries)]
    del dataset
    retriever.search(expansions[:20], k=1000)  # JVM up, index open
    before = _status_mib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
    with tempfile.TemporaryDirectory() as tmp:
        for _ in stream_method_run(retriever, expansions, 1000, Path(tmp) / "c.trec", Path(tmp) / "o.trec", "m"):
            pass
    print(f"{before:.0f} {_status_mib('VmHWM'):.0f}")


def _status_mib(field: str) -> float:
    """A memory figure of this process from /proc/self/status (Linux), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return peak_rss_mib()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--rss-only":
        rss_only(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--deep", type=int, default=1000, help="queries for the k=1000 row (0: skip)")
    parser.add_argument("--rss-queries", type=int, default=3000)
    parser.add_argument("--skip-overhead", action="store_true", help="only the k=1000 row")
    args = parser.parse_args()
    rows = [] if args.skip_overhead else [measure(n, args.queries, args.k, args.threads) for n in args.sizes]
    if rows:
        print(f"{'products':>9} {'index s':>8} {'raw q/s':>9} {'harness q/s':>12} {'ratio':>6}  target ratio >= 0.9")
        for r in rows:
            met = "met" if r["ratio"] >= 0.9 else "NOT met"
            print(f"{r['products']:>9} {r['index_seconds']:>8.1f} {r['raw_qps']:>9.0f} {r['harness_qps']:>12.0f} "
                  f"{r['ratio']:>6.2f}  {met}")
    deep_row = None
    if args.deep:
        with tempfile.TemporaryDirectory() as tmp:
            deep_row = deep(max(args.sizes), args.deep, args.threads, args.rss_queries, Path(tmp))
        r = deep_row
        met = "met" if r["ratio"] >= 0.9 else "NOT met"
        print(f"\nk=1000, {r['products']} products, {r['queries']} queries, {args.threads} threads: "
              f"Retriever.search_chunks {r['streamed_qps']:.1f} q/s vs Anserini SearchCollection "
              f"{r['anserini_qps']:.1f} q/s, ratio {r['ratio']:.2f}; target ratio >= 0.9: {met} "
              f"(Retriever.search / batch_search: {r['batch_search_qps']:.1f} q/s)")
        print(f"peak RSS while streaming {r['rss_queries']} queries x k=1000 to a run file: {r['rss_peak_mib']:.0f} MiB "
              f"(RSS just before, JVM and index open: {r['rss_before_mib']:.0f} MiB)")
    RESULTS.mkdir(exist_ok=True)
    meta = {"machine": platform.platform(), "python": platform.python_version(), "queries": args.queries,
            "k": args.k, "threads": args.threads}
    out = {"meta": meta, "rows": rows, "deep": deep_row}
    name = "retrieval_deep.json" if args.skip_overhead else "retrieval.json"
    (RESULTS / name).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
