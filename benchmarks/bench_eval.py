"""Evaluation + statistics at report scale: ir-measures on 10k queries x 10 methods, then stats.compare.

Runs: 10,000 queries x 100 retrieved products per method, graded qrels (ESCI grades), four measures;
then paired permutation tests (10,000 permutations) and BCa bootstrap CIs (2,000) vs the baseline.
Target: under 10 s together on 2 cores. Writes benchmarks/results/eval.json.

    python benchmarks/bench_eval.py
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np

from leser_bench.data.records import GainMapping
from leser_bench.evaluation import evaluate_many, resolve_all
from leser_bench.stats import StatsConfig, compare

N_QUERIES, N_METHODS, DEPTH, N_PRODUCTS = 10_000, 10, 100, 50_000
TARGET_S = 10.0


def make_data(seed: int = 0) -> tuple[dict, list[dict]]:
    rng = np.random.default_rng(seed)
    qrels = {}
    for q in range(N_QUERIES):
        pids = rng.choice(N_PRODUCTS, 20, replace=False)
        qrels[f"q{q}"] = {f"p{p}": int(g) for p, g in zip(pids, rng.integers(0, 4, 20), strict=True)}
    runs = []
    for _ in range(N_METHODS):
        run = {}
        for qid, judged in qrels.items():
            pool = list(judged)[: rng.integers(0, 20)] + [f"p{p}" for p in rng.choice(N_PRODUCTS, DEPTH, replace=False)]
            docs = list(dict.fromkeys(pool))[:DEPTH]
            run[qid] = {d: float(s) for d, s in zip(docs, rng.random(len(docs)), strict=True)}
        runs.append(run)
    return qrels, runs


def main() -> None:
    qrels, runs = make_data()
    measures, _ = resolve_all(["nDCG@10", "R@100", "RR@10", "P@10"], GainMapping.esci(), 3, k=DEPTH)
    start = time.perf_counter()
    per_query = evaluate_many({"identity" if i == 0 else f"method{i}": run for i, run in enumerate(runs)}, qrels, measures)
    eval_s = time.perf_counter() - start
    start = time.perf_counter()
    table = compare(per_query, "identity", StatsConfig(n_permutations=10_000, n_bootstrap=2_000, ci_method="bca"))
    stats_s = time.perf_counter() - start
    total = eval_s + stats_s
    met = "met" if total < TARGET_S else "NOT met"
    print(f"evaluation (ir-measures, {N_QUERIES:,} queries x {N_METHODS} methods x {DEPTH} docs x "
          f"{len(measures)} measures): {eval_s:.2f} s")
    print(f"statistics ({len(table)} comparisons, 10,000 permutations, 2,000 BCa bootstrap): {stats_s:.2f} s")
    print(f"evaluation + statistics: {total:.2f} s; target < {TARGET_S:.0f} s: {met}")
    out = Path(__file__).resolve().parent / "results" / "eval.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": platform.platform(), "eval_seconds": eval_s, "stats_seconds": stats_s,
                               "total_seconds": total, "target_seconds": TARGET_S, "met": total < TARGET_S},
                              indent=2) + "\n")


if __name__ == "__main__":
    main()
