"""``compare``: paired tests, corrected p-values, bootstrap CIs and effect sizes as one tidy table.

Input is the tidy per-query table [method, query_id, measure, value]. **A query that is missing
for a method counts as 0 for that method** (the evaluator's rule: a query a method did not answer
earned nothing), so every method is compared on the same union of queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from leser_bench.stats import paired
from leser_bench.stats.bootstrap import bootstrap_means, mean_ci
from leser_bench.stats.config import StatsConfig
from leser_bench.errors import UserError

COLUMNS = ("method", "query_id", "measure", "value")


class PerQueryError(UserError, ValueError):
    """The per-query table is malformed or too small; the message names the rows or column at fault (a user
    error: one line and exit 2, never a traceback)."""


def per_query_cube(per_query: pd.DataFrame) -> tuple[list[str], list[str], list[str], np.ndarray]:
    """(methods, measures, query_ids, values[measure, query, method]); missing queries filled with 0.

    Methods and measures keep their order of first appearance. Raises PerQueryError on missing
    columns, duplicate (method, query_id, measure) rows, non-numeric or non-finite values, or a
    method with no value at all for a measure (that is a missing measure, not missing queries).
    """
    missing = [c for c in COLUMNS if c not in per_query.columns]
    if missing:
        raise PerQueryError(f"per-query table lacks column(s) {missing}; expected {list(COLUMNS)}")
    df = per_query.loc[:, list(COLUMNS)]
    if df.empty:
        raise PerQueryError("per-query table is empty")
    values = pd.to_numeric(df["value"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        row = df[bad].iloc[0]
        raise PerQueryError(f"per-query table: value {row['value']!r} for method {row['method']!r}, "
                            f"query {row['query_id']!r}, measure {row['measure']!r} is not a finite number")
    # factorize keeps first-appearance order; query ids are sorted for a stable layout.
    method_code, methods_idx = pd.factorize(df["method"].astype(str))
    measure_code, measures_idx = pd.factorize(df["measure"].astype(str))
    qid_code, qids_idx = pd.factorize(df["query_id"].astype(str), sort=True)
    methods, measures, qids = list(methods_idx), list(measures_idx), list(qids_idx)
    shape = (len(measures), len(qids), len(methods))
    flat = np.ravel_multi_index((measure_code, qid_code, method_code), shape)
    counts = np.bincount(flat, minlength=int(np.prod(shape)))
    if counts.max() > 1:
        row = df.iloc[int(np.flatnonzero(counts[flat] > 1)[0])]
        raise PerQueryError(f"per-query table: {int((counts > 1).sum())} duplicated (method, query_id, measure) "
                            f"keys, e.g. method {row['method']!r}, query {row['query_id']!r}, "
                            f"measure {row['measure']!r}")
    present = counts.reshape(shape).sum(axis=1)  # (measure, method)
    if (present == 0).any():
        s, m = np.argwhere(present == 0)[0]
        raise PerQueryError(f"per-query table: method {methods[m]!r} has no value for measure {measures[s]!r}")
    cube = np.zeros(int(np.prod(shape)))
    cube[flat] = values
    cube = cube.reshape(shape)
    return methods, measures, qids, cube


def _pairs(methods: list[str], baseline: str | None, all_pairs: bool) -> list[tuple[str, str]]:
    if baseline is not None and baseline not in methods:
        raise PerQueryError(f"baseline {baseline!r} is not among the methods: {', '.join(methods)}")
    if len(methods) < 2:
        raise PerQueryError(f"a comparison needs at least two methods; got {methods}")
    if not all_pairs:
        if baseline is None:
            raise PerQueryError("a baseline method is required unless all_pairs=True")
        return [(m, baseline) for m in methods if m != baseline]
    order = ([baseline] if baseline else []) + [m for m in methods if m != baseline]
    return [(order[j], order[i]) for i, j in combinations(range(len(order)), 2)]


def _chosen(methods: list[str], pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Explicit (method, reference) pairs, each name one of the table's methods."""
    unknown = sorted({name for pair in pairs for name in pair} - set(methods))
    if unknown:
        raise PerQueryError(f"stats.pairs names {unknown}, not among the methods: {', '.join(methods)}")
    return [(str(a), str(b)) for a, b in pairs]


def correct(p_values: np.ndarray, alpha: float, correction: str) -> tuple[np.ndarray, np.ndarray]:
    """(corrected p, reject) with statsmodels ``multipletests``; "none" leaves p as it is."""
    p = np.asarray(p_values, dtype=float)
    if p.size == 0:
        return p, p.astype(bool)
    if correction == "none":
        return p, p <= alpha
    reject, p_corr, _, _ = multipletests(p, alpha=alpha, method=correction)
    return p_corr, reject


def _rngs(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    boot_seq, perm_seq = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(boot_seq), np.random.default_rng(perm_seq)


def _p_values(diffs: np.ndarray, config: StatsConfig, rng: np.random.Generator) -> np.ndarray:
    if config.test == "t":
        return paired.paired_t(diffs)
    if config.test == "wilcoxon":
        return paired.wilcoxon(diffs)
    return paired.sign_flip(diffs, config.n_permutations, rng, exact=config.exact)


def summarize(per_query: pd.DataFrame, config: StatsConfig | None = None) -> pd.DataFrame:
    """Each method's mean per measure with its bootstrap CI: [method, measure, n_queries, mean, ci_low, ci_high]."""
    config = config or StatsConfig()
    methods, measures, qids, cube = per_query_cube(per_query)
    x = cube.transpose(1, 0, 2).reshape(len(qids), -1)  # columns: (measure, method)
    boot_rng, _ = _rngs(config.seed)
    low, high = mean_ci(x, bootstrap_means(x, config.n_bootstrap, boot_rng), config.ci_level, config.ci_method)
    rows = [{"method": method, "measure": measure, "n_queries": len(qids), "mean": x[:, c].mean(),
             "ci_low": low[c], "ci_high": high[c]}
            for c, (measure, method) in enumerate((ms, me) for ms in measures for me in methods)]
    return pd.DataFrame(rows)


def compare(per_query: pd.DataFrame, baseline: str | None, config: StatsConfig | None = None,
            all_pairs: bool = False, pairs: Sequence[tuple[str, str]] | None = None) -> pd.DataFrame:
    """Compare every method with ``baseline`` (or every pair) on every measure.

    One row per (method, baseline, measure). ``diff`` = mean(method) - mean(baseline) with a
    bootstrap CI [ci_low, ci_high]; ``mean_ci_*``/``baseline_ci_*`` are the CIs of the two means;
    ``effect_size`` = mean diff / sd of per-query diffs; wins/ties/losses count queries;
    ``p_value`` comes from ``config.test`` and ``p_corrected`` from ``config.correction`` applied
    across all rows of the table. Missing queries count as 0 (see module docstring).
    """
    config = config or StatsConfig()
    methods, measures, qids, cube = per_query_cube(per_query)
    pairs = _chosen(methods, pairs) if pairs else _pairs(methods, baseline, all_pairs)
    col = {m: i for i, m in enumerate(methods)}
    n, n_methods = len(qids), len(methods)
    if n < 2:
        raise PerQueryError(f"a paired comparison needs at least 2 queries; got {n}")

    x = cube.transpose(1, 0, 2).reshape(n, -1)  # column (measure s, method m) at s * n_methods + m
    t_idx = np.array([s * n_methods + col[t] for s in range(len(measures)) for t, _ in pairs])
    b_idx = np.array([s * n_methods + col[b] for s in range(len(measures)) for _, b in pairs])
    diffs = x[:, t_idx] - x[:, b_idx]

    boot_rng, perm_rng = _rngs(config.seed)
    boot = bootstrap_means(x, config.n_bootstrap, boot_rng)
    m_low, m_high = mean_ci(x, boot, config.ci_level, config.ci_method)
    d_low, d_high = mean_ci(diffs, boot[:, t_idx] - boot[:, b_idx], config.ci_level, config.ci_method)

    p = _p_values(diffs, config, perm_rng)
    p_corr, reject = correct(p, config.alpha, config.correction)
    wins, ties, losses = paired.win_tie_loss(diffs)
    effect = paired.effect_size(diffs)
    means = x.mean(axis=0)

    rows = []
    for r, (measure, (treat, base)) in enumerate((s, pr) for s in measures for pr in pairs):
        t, b = t_idx[r], b_idx[r]
        rows.append({
            "method": treat, "baseline": base, "measure": measure, "n_queries": n,
            "mean": means[t], "mean_ci_low": m_low[t], "mean_ci_high": m_high[t],
            "baseline_mean": means[b], "baseline_ci_low": m_low[b], "baseline_ci_high": m_high[b],
            "diff": means[t] - means[b], "ci_low": d_low[r], "ci_high": d_high[r],
            "effect_size": effect[r], "wins": int(wins[r]), "ties": int(ties[r]), "losses": int(losses[r]),
            "p_value": p[r], "p_corrected": p_corr[r], "significant": bool(reject[r]),
            "test": config.test, "correction": config.correction, "alpha": config.alpha,
            "ci_method": config.ci_method, "ci_level": config.ci_level,
            "n_permutations": config.n_permutations if config.test == "permutation" else 0,
            "n_bootstrap": config.n_bootstrap,
        })
    return pd.DataFrame(rows)
