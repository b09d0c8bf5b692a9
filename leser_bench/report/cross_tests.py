"""Paired tests across runs: the same method in several runs of one data set and query set (e.g. rm3 at
k1=0.6 vs rm3 at k1=0.9 in a sweep) compared per query, with the tests and correction a run uses.

Runs are paired only when their ``qrels.trec`` and main query ids are identical (so each query is the
same query with the same judgments in both); the reference of a method is its first run in the
leaderboard's order. The statistics are :func:`leser_bench.stats.compare` on a per-query table whose
"methods" are the runs, with the first run's ``stats`` config (the correction then spans every
comparison of that method in that group of runs, as it spans a run's comparisons).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from leser_bench.report.inputs import read_config

#: columns of cross_stats.csv before those of :func:`leser_bench.stats.compare`.
KEY_COLUMNS = ("dataset", "query_set", "run_method")


def query_set_key(run_dir: Path) -> str | None:
    """A hash of the run's judgments and main query ids (None when either file is missing)."""
    qrels, sets = run_dir / "qrels.trec", run_dir / "query_sets.json"
    if not qrels.is_file() or not sets.is_file():
        return None
    try:
        ids = json.loads(sets.read_text(encoding="utf-8"))["main"]["query_ids"]
    except (ValueError, KeyError, TypeError):
        return None
    digest = hashlib.sha256(qrels.read_bytes())
    digest.update(json.dumps(ids).encode())
    return digest.hexdigest()[:12]


def cross_run_tests(entries: Sequence[Any]) -> pd.DataFrame:
    """One row per (method, run vs the method's first run, measure) within each group of pairable runs."""
    from leser_bench.stats import compare, stats_config_from  # noqa: PLC0415

    groups: dict[tuple[str, str], list[Any]] = {}
    for entry in entries:
        key = query_set_key(entry.run_dir)
        if key is not None:
            groups.setdefault((entry.dataset, key), []).append(entry)
    tables = []
    for (dataset, key), group in groups.items():
        if len(group) < 2:
            continue
        hydra = group[0].run_dir / ".hydra" / "config.yaml"
        config = stats_config_from((read_config(hydra) if hydra.is_file() else {}).get("stats"))
        frames = {e.label: pd.read_csv(e.run_dir / "per_query.csv",
                                       dtype={"method": str, "query_id": str, "measure": str}) for e in group}
        methods = list(dict.fromkeys(m for f in frames.values() for m in f["method"]))
        for method in methods:
            runs = [label for label, f in frames.items() if (f["method"] == method).any()]
            if len(runs) < 2:
                continue
            per_query = pd.concat([frames[label].loc[frames[label]["method"] == method].assign(method=label)
                                   for label in runs], ignore_index=True)
            table = compare(per_query, runs[0], config)
            tables.append(table.assign(dataset=dataset, query_set=key, run_method=method))
    if not tables:
        return pd.DataFrame(columns=[*KEY_COLUMNS, "method", "baseline", "measure"])
    out = pd.concat(tables, ignore_index=True)
    return out[[*KEY_COLUMNS, *[c for c in out.columns if c not in KEY_COLUMNS]]]


def cross_tests_markdown(table: pd.DataFrame) -> str:
    """The Markdown section of the cross-run leaderboard."""
    from leser_bench.report.markdown import escape_cell  # noqa: PLC0415

    lines = ["## Paired tests across runs", ""]
    if table.empty:
        return "\n".join(lines + ["_No two runs share a data set and a query set (same qrels.trec and queries)._", ""])
    lines += ["Each method against the same method in the first run of its group (same data set, judgments and "
              "queries); tests and correction as the runs' `stats` config.", "",
              "| method | run | vs run | measure | Δ | CI | p (corrected) | significant |",
              "|---|---|---|---|---:|---|---:|---|"]
    for row in table.itertuples(index=False):
        lines.append(f"| {escape_cell(row.run_method)} | {escape_cell(row.method)} | {escape_cell(row.baseline)} "
                     f"| {escape_cell(row.measure)} | {row.diff:+.4f} | [{row.ci_low:+.4f}, {row.ci_high:+.4f}] ({row.ci_level:.0%}) "
                     f"| {row.p_corrected:.4g} | {'yes' if row.significant else 'no'} |")
    return "\n".join(lines) + "\n"
