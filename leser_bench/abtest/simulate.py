"""Simulated A/B test: users, queries, clicks and a purchase proxy in two arms; lifts and p-values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from leser_bench.abtest import power
from leser_bench.abtest.clicks import ClickModel
from leser_bench.abtest.config import ABTestConfig
from leser_bench.abtest.serp import Qrels, Run, max_grade, page_grades
from leser_bench.stats.compare import correct

METRICS = ("ctr", "clicks_per_query", "purchase_rate", "abandonment")


def query_weights(qids: Sequence[str], config: ABTestConfig,
                  frequency: Mapping[str, float] | None = None) -> np.ndarray:
    """Probability of each query: uniform, or proportional to ``frequency`` (missing ids weigh 0)."""
    if config.query_sampling == "uniform":
        return np.full(len(qids), 1.0 / len(qids))
    if frequency is None:
        raise ValueError("abtest.query_sampling is 'frequency' but no query frequencies were given")
    w = np.array([float(frequency.get(q, 0.0)) for q in qids])
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        bad = next((q for q, x in zip(qids, w) if not (np.isfinite(x) and x >= 0)), None)
        raise ValueError(f"query frequencies must be finite, >= 0 and not all 0 (first bad id: {bad!r})")
    return w / w.sum()


def user_metrics(pages: np.ndarray, model: ClickModel, purchase_grade: int, config: ABTestConfig,
                 rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per-user metric values for pages of shape (users, queries_per_user, depth).

    ctr = clicks / results shown; clicks_per_query; purchase_rate = share of queries with a
    purchase (a click on grade >= purchase_grade that converts); abandonment = share with no click.
    A user's value averages their queries, so users are the independent units of the test.
    """
    users, qpu, depth = pages.shape
    flat = pages.reshape(users * qpu, depth)
    clicks = model.simulate(flat, rng)
    buys = clicks & (flat >= purchase_grade) & (rng.random(flat.shape) < config.purchase_prob)
    n_clicks = clicks.sum(axis=1)
    shown = (flat >= 0).sum(axis=1)
    per_query = {
        "ctr": np.divide(n_clicks, shown, out=np.zeros(len(flat)), where=shown > 0),
        "clicks_per_query": n_clicks.astype(float),
        "purchase_rate": buys.any(axis=1).astype(float),
        "abandonment": (n_clicks == 0).astype(float),
    }
    return {k: v.reshape(users, qpu).mean(axis=1) for k, v in per_query.items()}


def simulate_arms(control_pages: np.ndarray, treatment_pages: np.ndarray, weights: np.ndarray,
                  model: ClickModel, purchase_grade: int, config: ABTestConfig,
                  rng: np.random.Generator) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per-user metrics of both arms; pages are (queries, depth) grade arrays in the same query order."""
    n_t = int(round(config.n_users * config.treatment_share))
    n_c = config.n_users - n_t
    arms = []
    for pages, n in ((control_pages, n_c), (treatment_pages, n_t)):
        q = rng.choice(len(weights), size=(n, config.queries_per_user), p=weights)
        arms.append(user_metrics(pages[q], model, purchase_grade, config, rng))
    return arms[0], arms[1]


def _compare_metric(c: np.ndarray, t: np.ndarray, config: ABTestConfig) -> dict[str, float]:
    mc, mt = c.mean(), t.mean()
    vc, vt = c.var(ddof=1) / c.size, t.var(ddof=1) / t.size
    z = stats.norm.ppf(1 - config.alpha / 2)
    if mc != 0:
        lift = mt / mc - 1
        # delta method for the ratio of two independent means
        se = np.sqrt(vt / mc**2 + mt**2 * vc / mc**4)
        lo, hi = lift - z * se, lift + z * se
    else:
        lift = lo = hi = np.nan
    if vc + vt > 0:
        p = float(stats.ttest_ind(t, c, equal_var=False).pvalue)  # Welch
    else:
        p = 1.0 if mt == mc else 0.0
    return {"control": mc, "treatment": mt, "diff": mt - mc, "lift": lift, "lift_ci_low": lo,
            "lift_ci_high": hi, "p_value": p,
            "sd_control": float(c.std(ddof=1)), "sd_treatment": float(t.std(ddof=1))}


def add_power(table: pd.DataFrame, config: ABTestConfig) -> pd.DataFrame:
    """Add ``users_needed_per_arm`` (to detect each row's observed difference at the configured
    alpha and power) and ``mde_lift`` (relative lift detectable with ``config.mde_users_per_arm``
    users per arm, from the control arm's per-user sd)."""
    out = table.copy()
    sd = np.sqrt((out["sd_control"] ** 2 + out["sd_treatment"] ** 2) / 2)
    out["users_needed_per_arm"] = [power.users_needed(d, s, config.alpha, config.power)
                                   for d, s in zip(out["diff"], sd)]
    mde = np.array([power.minimum_detectable_effect(s, config.mde_users_per_arm, config.alpha, config.power)
                    for s in out["sd_control"]])
    with np.errstate(divide="ignore", invalid="ignore"):
        out["mde_lift"] = np.where(out["control"] != 0, mde / out["control"], np.nan)
    return out


def compare_arms(control: Mapping[str, np.ndarray], treatment: Mapping[str, np.ndarray],
                 config: ABTestConfig) -> pd.DataFrame:
    """One row per metric: arm means, lift (treatment/control - 1) with a delta-method CI, Welch
    p-value and the per-user sd of each arm (see :func:`add_power` for the power columns)."""
    rows = [{"metric": m, "control_users": len(control[m]), "treatment_users": len(treatment[m]),
             **_compare_metric(control[m], treatment[m], config)} for m in METRICS]
    return pd.DataFrame(rows)


def simulate_ab(control: Run, treatment: Run, qrels: Qrels, config: ABTestConfig | None = None,
                qids: Sequence[str] | None = None, frequency: Mapping[str, float] | None = None,
                names: tuple[str, str] = ("control", "treatment")) -> pd.DataFrame:
    """Simulate an A/B test of two runs on the evaluation queries (default: the qrels' query ids).

    Returns the table of :func:`compare_arms` with columns kind="ab", method, baseline,
    click_model, p_corrected (``config.correction`` over the metrics) and significant.
    """
    config = config or ABTestConfig()
    qids = sorted(qrels) if qids is None else list(qids)
    if not qids:
        raise ValueError("the A/B simulation needs at least one evaluation query")
    top = max_grade(qrels)
    model = ClickModel.from_config(config.click, top, config.depth)
    rng = np.random.default_rng(config.seed)
    arms = simulate_arms(page_grades(control, qrels, qids, config.depth),
                         page_grades(treatment, qrels, qids, config.depth),
                         query_weights(qids, config, frequency), model,
                         config.purchase_threshold(top), config, rng)
    table = finish(add_power(compare_arms(*arms, config), config), names, config)
    table["click_probabilities"] = config.click.describe(top)  # which were used (the report shows it)
    return table


def finish(table: pd.DataFrame, names: tuple[str, str], config: ABTestConfig) -> pd.DataFrame:
    """Add identifying columns and the multiple-comparison correction over the table's rows."""
    table.insert(0, "kind", "ab")
    table.insert(1, "method", names[1])
    table.insert(2, "baseline", names[0])
    table["p_corrected"], table["significant"] = correct(table["p_value"].to_numpy(), config.alpha,
                                                         config.correction)
    table["click_model"] = config.click.model
    table["correction"] = config.correction
    table["alpha"] = config.alpha
    table["power"] = config.power
    table["mde_users_per_arm"] = config.mde_users_per_arm
    return table
