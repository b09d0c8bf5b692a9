"""Markdown for the significance and A/B tables. Formatting only: every number is already in the table."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

CORRECTION_NAMES = {"holm": "Holm–Bonferroni", "bonferroni": "Bonferroni",
                    "fdr_bh": "Benjamini–Hochberg (FDR)", "none": "no"}
TEST_NAMES = {"permutation": "paired randomization (sign-flip)", "t": "paired t", "wilcoxon": "Wilcoxon signed-rank"}
CI_NAMES = {"bca": "BCa", "percentile": "percentile"}
CLICK_MODEL_NAMES = {"pbm": "position-based (PBM)", "cascade": "cascade", "dbn": "DBN"}
METRIC_NAMES = {"ctr": "CTR", "clicks_per_query": "Clicks/query", "purchase_rate": "Purchase proxy",
                "abandonment": "Abandonment"}


def _num(x: object, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    x = float(x)  # type: ignore[arg-type]
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    return f"{x:.{digits}f}"


def _signed(x: float, digits: int = 4) -> str:
    s = _num(x, digits)
    return s if s.startswith(("−", "—", "-")) else "+" + s


def _pct(x: float) -> str:
    return "—" if x is None or math.isnan(x) else f"{x * 100:+.1f}%"


def _p(x: float) -> str:
    if x is None or math.isnan(x):
        return "—"
    return "<0.0001" if x < 1e-4 else f"{x:.4f}"


def _count(x: float) -> str:
    if x is None or math.isnan(x):
        return "—"
    return "∞" if math.isinf(x) else f"{int(x):,}"


def _cell(text: object) -> str:
    """A table cell as literal text (method names, labels): Markdown metacharacters escaped."""
    from leser_bench.report.markdown import escape_cell  # noqa: PLC0415 - the one Markdown escaper

    return escape_cell(str(text))


def _table(header: Sequence[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _name(names: dict[str, str], value: object) -> str:
    return names.get(str(value), str(value))


def _only(table: pd.DataFrame, column: str) -> object:
    values = table[column].unique()
    return values[0] if len(values) == 1 else None


def significance_markdown(table: pd.DataFrame) -> str:
    """Render :func:`leser_bench.stats.compare`'s table, one row per method and measure."""
    if table.empty:
        return "_No comparisons._\n"
    baselines = table["baseline"].unique()
    single = len(baselines) == 1
    rows = []
    for measure, group in table.groupby("measure", sort=False):
        if single:
            first = group.iloc[0]
            mean = (f"{_num(first['baseline_mean'])} [{_num(first['baseline_ci_low'])}, "
                    f"{_num(first['baseline_ci_high'])}]")
            rows.append([measure, f"{first['baseline']} (baseline)", mean, "—", "—", "—", "—", "—", ""])
        for _, r in group.iterrows():
            name = r["method"] if single else f"{r['method']} vs {r['baseline']}"
            rows.append([measure, name,
                         f"{_num(r['mean'])} [{_num(r['mean_ci_low'])}, {_num(r['mean_ci_high'])}]",
                         f"{_signed(r['diff'])} [{_signed(r['ci_low'])}, {_signed(r['ci_high'])}]",
                         _num(r["effect_size"], 3), f"{r['wins']}/{r['ties']}/{r['losses']}",
                         _p(r["p_value"]), _p(r["p_corrected"]), "✓" if r["significant"] else ""])
    header = ["Measure", "Method", "Mean [CI]", f"Δ vs {baselines[0]} [CI]" if single else "Δ [CI]",
              "Effect size", "W/T/L", "p", "p (corrected)", "Sig."]
    return _table(header, rows) + "\n\n" + _significance_caption(table) + "\n"


def _significance_caption(table: pd.DataFrame) -> str:
    test, correction = _only(table, "test"), _only(table, "correction")
    alpha, level = _only(table, "alpha"), _only(table, "ci_level")
    test_text = _name(TEST_NAMES, test)
    if test == "permutation":
        n_perm = int(table["n_permutations"].iloc[0])
        test_text += f" test, {n_perm:,} permutations (exact when fewer sign flips exist)"
    else:
        test_text += " test"
    return (f"_Two-sided {test_text}; p-values corrected with the "
            f"**{_name(CORRECTION_NAMES, correction)}** correction over all {len(table)} "
            f"comparisons in this table (significant: corrected p ≤ {alpha}). "
            f"Intervals: {_num(float(level) * 100, 0)}% {_name(CI_NAMES, _only(table, 'ci_method'))} "
            f"bootstrap over queries "
            f"({int(table['n_bootstrap'].iloc[0]):,} resamples). Effect size = mean paired difference / "
            f"sd of differences. W/T/L = queries where the method beats / ties / loses to the baseline. "
            f"A query missing from a run counts as 0._")


def abtest_markdown(table: pd.DataFrame) -> str:
    """Render A/B rows (kind "ab") and team-draft interleaving rows (kind "interleaving")."""
    kind = table["kind"] if "kind" in table else pd.Series("ab", index=table.index)
    parts = [_ab_part(table[kind == "ab"]), _interleaving_part(table[kind == "interleaving"])]
    text = "\n\n".join(p for p in parts if p)
    return text + "\n" if text else "_No A/B simulation._\n"


def _ab_part(ab: pd.DataFrame) -> str:
    if ab.empty:
        return ""
    rows = [[_name(METRIC_NAMES, r["metric"]), f"{r['method']} vs {r['baseline']}",
             _num(r["control"]), _num(r["treatment"]),
             f"{_pct(r['lift'])} [{_pct(r['lift_ci_low'])}, {_pct(r['lift_ci_high'])}]",
             _p(r["p_value"]), _p(r["p_corrected"]), "✓" if r["significant"] else "",
             _count(r["users_needed_per_arm"]), _pct(r["mde_lift"]).lstrip("+")]
            for _, r in ab.iterrows()]
    first = ab.iloc[0]
    header = ["Metric", "Treatment vs control", "Control", "Treatment", "Lift [CI]", "p",
              "p (corrected)", "Sig.", "Users/arm needed", f"MDE at {int(first['mde_users_per_arm']):,}/arm"]
    level = _num((1 - float(first["alpha"])) * 100, 0)
    model = _name(CLICK_MODEL_NAMES, _only(ab, "click_model"))
    caption = (
        f"_Simulated A/B test ({int(first['control_users']):,} control / {int(first['treatment_users']):,} "
        f"treatment users, {model} click model). Lift = treatment / control − 1 with a {level}% delta-method CI; "
        f"Welch t-test p-values corrected with the **{_name(CORRECTION_NAMES, _only(ab, 'correction'))}** "
        f"correction over all {len(ab)} rows. Users/arm needed: to detect the simulated difference at "
        f"α = {first['alpha']}, power = {first['power']}; MDE: smallest relative lift detectable at that traffic. "
        f"CTR = clicks / results shown; purchase proxy = share of queries with a click on an Exact (top-grade) "
        f"item that converts; abandonment = share of queries without a click (lower is better)._")
    return _table(header, rows) + "\n\n" + caption


def _interleaving_part(inter: pd.DataFrame) -> str:
    if inter.empty:
        return ""
    rows = [[f"{r['method']} vs {r['baseline']}", f"{int(r['impressions']):,}",
             f"{int(r['wins'])}/{int(r['ties'])}/{int(r['losses'])}", _signed(r["preference"], 3),
             f"{_num(r['win_rate'], 3)} [{_num(r['win_rate_ci_low'], 3)}, {_num(r['win_rate_ci_high'], 3)}]",
             _p(r["p_value"]), "✓" if r["significant"] else "", _count(r["impressions_needed"])]
            for _, r in inter.iterrows()]
    header = ["Treatment vs control", "Impressions", "W/T/L", "Preference", "Win rate [CI]", "p", "Sig.",
              "Impressions needed"]
    model = _name(CLICK_MODEL_NAMES, _only(inter, "click_model"))
    caption = (
        f"_Team-draft interleaving with the {model} click model. An impression is won by the run whose "
        f"documents got more clicks; preference = (wins + ties/2) / impressions − 0.5 (positive: treatment "
        f"preferred); win rate = wins / (wins + losses) with a Wilson CI; p from a two-sided sign (binomial) "
        f"test, uncorrected, significant at α = {inter['alpha'].iloc[0]}._")
    return _table(header, rows) + "\n\n" + caption
