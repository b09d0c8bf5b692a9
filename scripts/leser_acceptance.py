"""Issue 4's acceptance check on a finished ``+experiment=leser`` run directory.

    python scripts/leser_acceptance.py reports/leser/<run-id> [--method leser] [--baseline context_aware]

Prints, for nDCG@10 and R@100, each method's test mean, LESER minus the starting prompted model with
a paired permutation test (leser_bench.stats.compare, no correction) and scipy's paired t and
Wilcoxon tests; the violation and fallback rates; training times from ``training/*/meta.json``.
Writes the same as ``acceptance.json`` in the run directory.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
from scipy import stats as scipy_stats

from leser_bench.stats import StatsConfig, compare

MEASURES = ("nDCG@10", "R@100")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--method", default="leser")
    parser.add_argument("--baseline", default="context_aware")
    args = parser.parse_args()
    per_query = pd.read_csv(args.run_dir / "per_query.csv")
    expansion = pd.read_csv(args.run_dir / "per_query_expansion.csv")
    out: dict[str, object] = {"method": args.method, "baseline": args.baseline, "measures": {}}
    table = compare(per_query[per_query["measure"].isin(MEASURES)], args.baseline,
                    StatsConfig(correction="none", ci_method="percentile"))
    for measure in MEASURES:
        wide = per_query[per_query["measure"] == measure].pivot(index="query_id", columns="method", values="value")
        row = table[(table["method"] == args.method) & (table["measure"] == measure)].iloc[0]
        t = scipy_stats.ttest_rel(wide[args.method], wide[args.baseline])
        diff = wide[args.method] - wide[args.baseline]
        w = scipy_stats.wilcoxon(diff[diff != 0]) if (diff != 0).any() else None
        out["measures"][measure] = {
            "means": {m: float(wide[m].mean()) for m in wide.columns},
            "diff": float(row["diff"]), "p_permutation": float(row["p_value"]),
            "p_t": float(t.pvalue), "p_wilcoxon": float(w.pvalue) if w is not None else 1.0,
            "wins_ties_losses": [int(row["wins"]), int(row["ties"]), int(row["losses"])], "n": int(len(wide)),
        }
    rates = expansion[expansion["measure"].isin(["Violated", "FellBack"])]
    out["rates"] = rates.pivot_table(index="method", columns="measure", values="value", aggfunc="mean").to_dict()
    out["training"] = {p.parent.name: {k: v for k, v in json.loads(p.read_text()).items() if k != "settings"}
                       for p in sorted((args.run_dir / "training").glob("*/meta.json"))}
    for measure, r in out["measures"].items():
        means = ", ".join(f"{m} {v:.4f}" for m, v in r["means"].items())
        print(f"{measure}: {means}")
        print(f"  {args.method} - {args.baseline} = {r['diff']:+.4f}  p(permutation) {r['p_permutation']:.4g}  "
              f"p(t) {r['p_t']:.4g}  p(Wilcoxon) {r['p_wilcoxon']:.4g}  W/T/L {r['wins_ties_losses']}  n={r['n']}")
    for name, values in out["rates"].items():
        print(f"{name}: " + ", ".join(f"{m} {v:.3f}" for m, v in values.items()))
    for name, meta in out["training"].items():
        print(f"training/{name}: {meta.get('seconds', 0):.0f} s, {meta.get('steps')} steps, {meta.get('summary')}")
    (args.run_dir / "acceptance.json").write_text(json.dumps(out, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
