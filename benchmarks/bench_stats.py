"""Time leser_bench.stats.compare at report scale.

10,000 queries x 10 methods x 4 measures (36 comparisons with a baseline), 10,000 permutations and
2,000 bootstrap resamples (BCa). Target: under 10 s on 2 cores. Prints the time and writes
benchmarks/results/stats.json.

    python benchmarks/bench_stats.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from leser_bench.stats import StatsConfig, compare

N_QUERIES, N_METHODS, MEASURES = 10_000, 10, ("nDCG@10", "R@100", "MRR@10", "P@10")
TARGET_S = 10.0


def per_query_table(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    qids = np.array([f"q{i}" for i in range(N_QUERIES)])
    base = rng.random((N_QUERIES, len(MEASURES)))
    frames = []
    for m in range(N_METHODS):
        values = np.clip(base + rng.normal(0.005 * m, 0.1, base.shape), 0, 1)
        values[rng.random(base.shape) < 0.2] = 0.0  # many zeros and ties, as real IR measures have
        for j, measure in enumerate(MEASURES):
            frames.append(pd.DataFrame({"method": "identity" if m == 0 else f"method{m}",
                                        "query_id": qids, "measure": measure, "value": values[:, j]}))
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions (the best is reported)")
    args = parser.parse_args()
    table = per_query_table()
    config = StatsConfig(test="permutation", n_permutations=10_000, n_bootstrap=2_000, ci_method="bca")
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = compare(table, "identity", config)
        times.append(time.perf_counter() - start)
    best = min(times)
    met = best < TARGET_S
    print(f"stats.compare: {N_QUERIES:,} queries x {N_METHODS} methods x {len(MEASURES)} measures "
          f"({len(result)} comparisons), {config.n_permutations:,} permutations, {config.n_bootstrap:,} "
          f"bootstrap resamples: best {best:.2f} s of {args.repeat} (all: {', '.join(f'{t:.2f}' for t in times)}); "
          f"target < {TARGET_S:.0f} s: {'met' if met else 'NOT met'}")
    out = Path(__file__).resolve().parent / "results" / "stats.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "benchmark": "stats.compare", "queries": N_QUERIES, "methods": N_METHODS, "measures": len(MEASURES),
        "comparisons": len(result), "n_permutations": config.n_permutations, "n_bootstrap": config.n_bootstrap,
        "ci_method": config.ci_method, "seconds_best": round(best, 3), "seconds_all": [round(t, 3) for t in times],
        "target_seconds": TARGET_S, "target_met": met, "cpu_count": os.cpu_count(),
        "affinity_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average_1m": os.getloadavg()[0], "python": platform.python_version(), "numpy": np.__version__,
    }, indent=2) + "\n")


if __name__ == "__main__":
    main()
