"""Statistics: each test checked against scipy/statsmodels (and ranx) on fixed data."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from leser_bench.stats import ConfigError, PerQueryError, StatsConfig, compare, stats_config_from, summarize
from leser_bench.stats import paired
from leser_bench.stats.bootstrap import bootstrap_means, mean_ci


def tidy(values: dict[str, np.ndarray], measure: str = "nDCG@10") -> pd.DataFrame:
    frames = [pd.DataFrame({"method": m, "query_id": [f"q{i}" for i in range(len(v))],
                            "measure": measure, "value": v}) for m, v in values.items()]
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def fixed() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    base = rng.beta(2, 3, size=40)
    return base, np.clip(base + rng.normal(0.04, 0.1, size=40), 0, 1)


def test_paired_t_and_wilcoxon_match_scipy(fixed):
    base, treat = fixed
    d = treat - base
    assert paired.paired_t(d)[0] == pytest.approx(sps.ttest_rel(treat, base).pvalue, rel=1e-12)
    assert paired.wilcoxon(d)[0] == pytest.approx(sps.wilcoxon(treat, base).pvalue, rel=1e-12)
    # all-zero differences: no evidence at all, p = 1 (scipy would give NaN)
    assert paired.paired_t(np.zeros(5))[0] == 1.0 and paired.wilcoxon(np.zeros(5))[0] == 1.0


def test_exact_enumeration_against_brute_force_and_monte_carlo():
    d = np.array([0.3, -0.1, 0.25, 0.0, 0.4, -0.05, 0.2, 0.1, -0.3, 0.15, 0.35, 0.05])
    nz = d[d != 0]
    sums = [abs(np.dot(s, nz)) for s in itertools.product([1, -1], repeat=nz.size)]
    brute = np.mean(np.array(sums) >= abs(nz.sum()) - 1e-12)
    exact = paired.exact_sign_flip(d)[0]
    assert exact == pytest.approx(brute, abs=1e-15)
    n_perm = 100_000
    mc = paired.random_sign_flip(d, n_perm, np.random.default_rng(3))[0]
    se = np.sqrt(exact * (1 - exact) / n_perm)
    assert abs(mc - exact) < 4 * se + 1 / n_perm
    # sign_flip enumerates exactly when 2^11 <= n_permutations, otherwise samples
    assert paired.sign_flip(d, 4096, np.random.default_rng(0))[0] == exact
    assert paired.sign_flip(d, 1000, np.random.default_rng(0))[0] != exact


def test_effect_size_and_win_tie_loss():
    d = np.array([0.2, 0.0, -0.1, 0.3, 0.0])
    assert paired.effect_size(d)[0] == pytest.approx(d.mean() / d.std(ddof=1))
    assert [int(v[0]) for v in paired.win_tie_loss(d)] == [2, 2, 1]
    assert paired.effect_size(np.full(4, 0.1))[0] == np.inf


def test_bootstrap_matches_scipy(fixed):
    base, _ = fixed
    x = base[:, None]
    boot = bootstrap_means(x, 20_000, np.random.default_rng(0))
    for method in ("percentile", "bca"):
        lo, hi = mean_ci(x, boot, 0.95, method)
        ref = sps.bootstrap((base,), np.mean, n_resamples=20_000, method=method,
                            rng=np.random.default_rng(1)).confidence_interval
        assert lo[0] == pytest.approx(ref.low, abs=0.004) and hi[0] == pytest.approx(ref.high, abs=0.004)


@pytest.mark.parametrize(("method", "draw", "true_mean"), [
    ("percentile", lambda rng, size: rng.normal(1.0, 2.0, size), 1.0),
    ("bca", lambda rng, size: rng.exponential(1.0, size), 1.0),
])
def test_bootstrap_coverage_by_simulation(method, draw, true_mean):
    # 2000 independent samples of n=100 as columns; one shared set of resamples is fine because
    # the columns are independent.
    rng = np.random.default_rng(11)
    x = draw(rng, (100, 2000))
    lo, hi = mean_ci(x, bootstrap_means(x, 1000, rng), 0.95, method)
    coverage = np.mean((lo <= true_mean) & (true_mean <= hi))
    assert 0.93 <= coverage <= 0.97, coverage


def test_compare_table_and_correction_match_statsmodels():
    rng = np.random.default_rng(5)
    base = rng.random(60)
    values = {"identity": base, "good": np.clip(base + 0.08 + rng.normal(0, .1, 60), 0, 1),
              "same": np.clip(base + rng.normal(0, .1, 60), 0, 1)}
    df = pd.concat([tidy(values, "nDCG@10"), tidy({k: v ** 2 for k, v in values.items()}, "R@100")])
    for correction in ("holm", "bonferroni", "fdr_bh"):
        cfg = StatsConfig(test="t", correction=correction, n_bootstrap=500)
        table = compare(df, "identity", cfg)
        assert len(table) == 4 and set(table["method"]) == {"good", "same"}
        ref = multipletests(table["p_value"], alpha=0.05, method=correction)
        np.testing.assert_allclose(table["p_corrected"], ref[1])
        assert list(table["significant"]) == list(ref[0])
    row = table[(table.method == "good") & (table.measure == "nDCG@10")].iloc[0]
    d = values["good"] - base
    assert row["diff"] == pytest.approx(d.mean())
    assert row["p_value"] == pytest.approx(sps.ttest_rel(values["good"], base).pvalue)
    assert row["ci_low"] < row["diff"] < row["ci_high"] and row["significant"]
    assert row["wins"] + row["ties"] + row["losses"] == 60
    pairs = compare(df, "identity", StatsConfig(n_bootstrap=200, n_permutations=500), all_pairs=True)
    assert len(pairs) == 6 and set(zip(pairs.method, pairs.baseline)) == {
        ("good", "identity"), ("same", "identity"), ("same", "good")}


def test_permutation_compare_is_seeded_and_close_to_t(fixed):
    base, treat = fixed
    df = tidy({"identity": base, "x": treat})
    cfg = StatsConfig(n_permutations=20_000, n_bootstrap=300, seed=3)
    a, b = compare(df, "identity", cfg), compare(df, "identity", cfg)
    pd.testing.assert_frame_equal(a, b)
    assert a["p_value"][0] == pytest.approx(sps.ttest_rel(treat, base).pvalue, abs=0.01)


def test_missing_queries_count_as_zero():
    full = tidy({"identity": np.array([0.5, 0.2, 0.0, 0.9]), "x": np.array([0.6, 0.0, 0.3, 0.9])})
    dropped = full[~((full.method == "x") & (full.query_id == "q1"))]
    cfg = StatsConfig(test="t", n_bootstrap=100)
    pd.testing.assert_frame_equal(compare(full, "identity", cfg), compare(dropped, "identity", cfg))
    assert summarize(dropped, cfg).query("method == 'x'")["mean"].iloc[0] == pytest.approx(0.45)


def test_bad_per_query_tables_fail_clearly():
    df = tidy({"identity": np.array([0.5, 0.2]), "x": np.array([0.6, 0.1])})
    with pytest.raises(PerQueryError, match="'bm25' is not among the methods: identity, x"):
        compare(df, "bm25")
    with pytest.raises(PerQueryError, match="duplicated.*query 'q0'"):
        compare(pd.concat([df, df.iloc[:1]]), "identity")
    bad = df.copy()
    bad.loc[3, "value"] = np.nan
    with pytest.raises(PerQueryError, match="method 'x', query 'q1'.*not a finite number"):
        compare(bad, "identity")
    with pytest.raises(PerQueryError, match="lacks column"):
        compare(df.drop(columns="measure"), "identity")


def test_config_loader_names_key_and_allowed_values():
    assert stats_config_from({"test": "t", "alpha": 0.01}) == StatsConfig(test="t", alpha=0.01)
    with pytest.raises(ConfigError, match="stats: unknown key.*tset.*allowed keys: test"):
        stats_config_from({"tset": "t"})
    with pytest.raises(ConfigError, match="stats.correction: 'sidak' is not allowed; choose one of: holm"):
        stats_config_from({"correction": "sidak"})
    with pytest.raises(ConfigError, match="stats.n_permutations"):
        stats_config_from({"n_permutations": 0})


def test_default_yaml_loads():
    from pathlib import Path

    from omegaconf import OmegaConf

    conf = Path(__file__).resolve().parents[1] / "leser_bench" / "conf" / "stats" / "default.yaml"
    assert stats_config_from(OmegaConf.load(conf)) == StatsConfig()


@pytest.mark.slow  # ranx JIT-compiles its metrics with numba: ~60 s on a cold cache, ~9 s warm
def test_agrees_with_ranx_compare():
    ranx = pytest.importorskip("ranx")
    rng = np.random.default_rng(1)
    qrels = {f"q{i}": {f"d{j}": int(rng.integers(0, 3)) for j in range(20)} for i in range(80)}

    def run(shift: float) -> dict[str, dict[str, float]]:
        return {q: {d: float(g * shift + rng.normal()) for d, g in docs.items()} for q, docs in qrels.items()}

    runs = [ranx.Run(run(0.5), name="identity"), ranx.Run(run(0.6), name="x")]
    kwargs = {"metrics": ["ndcg@10"], "max_p": 0.05}
    student = ranx.compare(ranx.Qrels(qrels), runs, stat_test="student", **kwargs)
    fisher = ranx.compare(ranx.Qrels(qrels), runs, stat_test="fisher", n_permutations=20_000, **kwargs)
    per_query = pd.concat([pd.DataFrame({"method": r.name, "query_id": list(r.scores["ndcg@10"]),
                                         "measure": "nDCG@10", "value": list(r.scores["ndcg@10"].values())})
                           for r in runs])
    ours_t = compare(per_query, "identity", StatsConfig(test="t", n_bootstrap=100))["p_value"][0]
    ours_p = compare(per_query, "identity", StatsConfig(n_permutations=20_000, n_bootstrap=100))["p_value"][0]
    key = frozenset(["identity", "x"])
    assert ours_t == pytest.approx(student.comparisons[key]["ndcg@10"]["p_value"], rel=1e-9)
    ranx_p = fisher.comparisons[key]["ndcg@10"]["p_value"]
    assert 0.001 < ranx_p < 0.999  # a case where the permutation test is not trivial
    assert abs(ours_p - ranx_p) < 4 * np.sqrt(2 * ranx_p * (1 - ranx_p) / 20_000) + 1e-4


def test_significance_markdown_names_the_correction_and_formats_only():
    from leser_bench.stats.render import significance_markdown

    rng = np.random.default_rng(2)
    base = rng.random(30)
    df = tidy({"identity": base, "x|y": np.clip(base + 0.2, 0, 1), "same": base})
    table = compare(df, "identity", StatsConfig(correction="fdr_bh", test="wilcoxon", n_bootstrap=200))
    md = significance_markdown(table)
    assert "**Benjamini–Hochberg (FDR)** correction over all 2 comparisons" in md
    assert "Wilcoxon signed-rank" in md and "| nDCG@10 | identity (baseline) |" in md
    assert "x\\|y" in md  # a pipe in a method name does not break the table
    same = table[table.method == "same"].iloc[0]
    assert same["p_value"] == 1.0 and same["effect_size"] == 0.0 and same["ties"] == 30
    assert "| 0/30/0 | 1.0000 | 1.0000 |" in md


@pytest.mark.parametrize("ci_method", ["bca", "percentile"])
def test_a_columns_interval_depends_on_the_column_alone(ci_method: str) -> None:
    """Identical per-query scores get identical intervals wherever their column sits and whatever sits beside
    them (was: one matrix product for all columns summed each in a position-dependent order; the ulp apart
    means moved BCa's count of resamples below the mean: 0.5519 vs 0.55 for two identical methods)."""
    rng = np.random.default_rng(3)
    n = 30
    scores = rng.integers(0, 11, size=n) / 10  # a discrete measure (P@10) on few queries: many ties at the mean
    others = rng.random((n, 12))
    wide = np.column_stack([scores, others[:, :7], scores, others[:, 7:], scores])
    boot = bootstrap_means(wide, 2000, np.random.default_rng(0))
    low, high = mean_ci(wide, boot, 0.95, ci_method)
    assert (boot[:, 0] == boot[:, 8]).all() and (boot[:, 0] == boot[:, -1]).all()
    assert low[0] == low[8] == low[-1] and high[0] == high[8] == high[-1]
    alone = scores[:, None]
    a_low, a_high = mean_ci(alone, bootstrap_means(alone, 2000, np.random.default_rng(0)), 0.95, ci_method)
    assert (a_low[0], a_high[0]) == (low[0], high[0])
