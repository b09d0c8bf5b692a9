"""A/B simulator: click models against their analytic CTR, A/A false-positive rate, interleaving, power."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from leser_bench.abtest import (
    ABTestConfig,
    ClickModel,
    ClickModelConfig,
    abtest_config_from,
    compare_arms,
    impressions_needed,
    interleave,
    minimum_detectable_effect,
    simulate_ab,
    simulate_arms,
    team_draft,
    users_needed,
)
from leser_bench.abtest.serp import page_grades
from leser_bench.abtest.simulate import query_weights
from leser_bench.stats import ConfigError

ROW = np.array([3, 0, 2, 1, 3, 0, 0, 2, -1, -1])  # two empty slots at the end


def analytic_ctr(model: ClickModel, row: np.ndarray) -> np.ndarray:
    a, s, gamma = model.attraction[row], model.satisfaction[row], model.continuation
    if model.model == "pbm":
        return model.examination[: row.size] * a
    if model.model == "cascade":
        return a * np.concatenate([[1.0], np.cumprod(1 - a)[:-1]])
    examined = np.concatenate([[1.0], np.cumprod(gamma * (1 - a * s))[:-1]])
    return examined * a


@pytest.mark.parametrize("name", ["pbm", "cascade", "dbn"])
def test_click_model_ctr_by_position_matches_analytic(name):
    model = ClickModel.from_config(ClickModelConfig(model=name, labels="esci"), max_grade=3, depth=ROW.size)
    n = 100_000
    clicks = model.simulate(np.tile(ROW, (n, 1)), np.random.default_rng(1))
    expected = analytic_ctr(model, ROW)
    se = np.sqrt(expected * (1 - expected) / n)
    np.testing.assert_array_less(np.abs(clicks.mean(axis=0) - expected), 4.5 * se + 1e-12)
    assert not clicks[:, -2:].any()  # nobody clicks an empty slot
    if name == "cascade":
        assert clicks.sum(axis=1).max() == 1


def _qrels_and_runs(n_queries=120, n_docs=25, seed=0):
    rng = np.random.default_rng(seed)
    qrels = {f"q{i}": {f"d{j}": int(rng.integers(0, 4)) for j in range(n_docs)} for i in range(n_queries)}
    ideal = {q: {d: g + 0.01 * rng.random() for d, g in docs.items()} for q, docs in qrels.items()}
    worst = {q: {d: -s for d, s in docs.items()} for q, docs in ideal.items()}
    noisy = {q: {d: rng.normal() for d in docs} for q, docs in qrels.items()}
    return qrels, ideal, worst, noisy


def test_aa_simulation_rejects_at_about_the_nominal_rate():
    qrels, _, _, noisy = _qrels_and_runs()
    cfg = ABTestConfig(n_users=2_000, click=ClickModelConfig(model="dbn"))
    qids = sorted(qrels)
    pages = page_grades(noisy, qrels, qids, cfg.depth)
    model = ClickModel.from_config(cfg.click, 3, cfg.depth)
    rng = np.random.default_rng(42)
    w = query_weights(qids, cfg)
    reps = 400
    p = np.array([compare_arms(*simulate_arms(pages, pages, w, model, 3, cfg, rng), cfg)["p_value"]
                  for _ in range(reps)])
    rates = (p < 0.05).mean(axis=0)
    assert np.all((rates > 0.02) & (rates < 0.09)), rates
    # p-values of a true null are uniform
    assert stats.kstest(p[:, 0], "uniform").pvalue > 0.001


def test_better_run_wins_the_ab_test():
    qrels, ideal, _, noisy = _qrels_and_runs()
    table = simulate_ab(noisy, ideal, qrels, ABTestConfig(n_users=10_000), names=("noisy", "ideal"))
    by = table.set_index("metric")
    assert list(table["method"].unique()) == ["ideal"] and list(table["baseline"].unique()) == ["noisy"]
    assert by.loc["purchase_rate", "lift"] > 0 and by.loc["purchase_rate", "significant"]
    assert by.loc["abandonment", "lift"] < 0 and by.loc["abandonment", "significant"]
    assert by.loc["purchase_rate", "lift_ci_low"] < by.loc["purchase_rate", "lift"] < by.loc["purchase_rate", "lift_ci_high"]
    assert np.isfinite(by["users_needed_per_arm"]).all()


def test_team_draft_is_a_fair_merge():
    docs, teams = team_draft(["a", "b", "c", "d"], ["b", "e", "a", "f"], 6, np.array([True, False, True]))
    assert len(set(docs)) == len(docs) == 6
    assert docs[:2] == ["a", "b"] and teams[:2] == [1, -1]
    assert abs(sum(teams)) <= 1


def test_interleaving_prefers_the_better_run_and_is_neutral_on_itself():
    qrels, ideal, worst, _ = _qrels_and_runs()
    cfg = ABTestConfig(interleaving_impressions=3_000)
    row = interleave(worst, ideal, qrels, cfg, names=("worst", "ideal")).iloc[0]
    assert row["preference"] > 0.2 and row["p_value"] < 1e-6 and row["win_rate_ci_low"] > 0.5
    same = interleave(ideal, ideal, qrels, cfg).iloc[0]
    assert abs(same["preference"]) < 0.03 and same["p_value"] > 0.01


def test_power_matches_the_normal_formula():
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert users_needed(0.01, 0.5, 0.05, 0.8) == pytest.approx(np.ceil(2 * (z * 0.5 / 0.01) ** 2), abs=1)
    mde = minimum_detectable_effect(0.5, 10_000, 0.05, 0.8)
    assert mde == pytest.approx(z * 0.5 * np.sqrt(2 / 10_000), rel=1e-4)
    assert users_needed(0.0, 0.5, 0.05, 0.8) == np.inf
    assert impressions_needed(0.6, 0.05, 0.8) < impressions_needed(0.55, 0.05, 0.8)


def test_pages_grades_and_query_weights():
    qrels = {"q1": {"a": 3, "b": -1}, "q2": {"c": 1}}
    run = {"q1": {"a": 1.0, "b": 2.0, "x": 0.5}}
    pages = page_grades(run, qrels, ["q1", "q2"], 4)
    assert pages.tolist() == [[0, 3, 0, -1], [-1, -1, -1, -1]]  # b (junk -1) -> 0, x unjudged -> 0
    cfg = ABTestConfig(query_sampling="frequency")
    assert query_weights(["q1", "q2"], cfg, {"q1": 3, "q2": 1}).tolist() == [0.75, 0.25]
    with pytest.raises(ValueError, match="no query frequencies"):
        query_weights(["q1"], cfg)


def test_presets_and_purchase_grade():
    cfg = ABTestConfig()
    assert cfg.purchase_threshold(3) == 3 and cfg.purchase_threshold(1) == 1
    att, _ = ClickModelConfig().probabilities(1)  # binary preset chosen automatically
    assert att.tolist() == [0.10, 0.70, 0.0]
    with pytest.raises(ConfigError, match="no probability for grade"):
        ClickModelConfig(labels="binary").probabilities(3)


def test_config_loader_and_yaml():
    from omegaconf import OmegaConf

    conf = Path(__file__).resolve().parents[1] / "leser_bench" / "conf" / "abtest" / "default.yaml"
    assert abtest_config_from(OmegaConf.load(conf)) == ABTestConfig()
    cfg = abtest_config_from({"n_users": 100, "click": {"model": "pbm", "attraction": {0: 0.1, 1: 0.5}}})
    assert cfg.click.model == "pbm" and cfg.click.attraction == {0: 0.1, 1: 0.5}
    with pytest.raises(ConfigError, match="abtest.click: unknown key.*modle"):
        abtest_config_from({"click": {"modle": "pbm"}})
    with pytest.raises(ConfigError, match="abtest.click.model: 'ubm' is not allowed; choose one of: pbm, cascade, dbn"):
        abtest_config_from({"click": {"model": "ubm"}})
    with pytest.raises(ConfigError, match="abtest.treatment_share"):
        abtest_config_from({"treatment_share": 1.5})


def test_users_needed_is_infinite_for_a_difference_at_rounding_level() -> None:
    """Two identical arms' means differed by 2.8e-17: statsmodels returned nan and the A/B step crashed."""
    import math

    from leser_bench.abtest.power import users_needed

    assert users_needed(2.7755575615628914e-17, 0.0882, 0.05, 0.8) == math.inf
    assert users_needed(0.01, float("nan"), 0.05, 0.8) == math.inf
    assert users_needed(0.01, 1.0, 0.05, 0.8) == 156978.0
