"""Team-draft interleaving (Radlinski et al., CIKM 2008) of two runs, judged by simulated clicks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from leser_bench.abtest import power
from leser_bench.abtest.clicks import ClickModel
from leser_bench.abtest.config import ABTestConfig
from leser_bench.abtest.serp import Qrels, Run, max_grade, top_docs
from leser_bench.abtest.simulate import query_weights


def team_draft(a: Sequence[str], b: Sequence[str], depth: int, coins: np.ndarray) -> tuple[list[str], list[int]]:
    """Interleave lists ``a`` and ``b``; returns (docs, teams) with team +1 for a, -1 for b.

    Whenever both teams have picked equally often, ``coins`` (consumed in order; True = a first)
    decides who picks next; each team picks its highest-ranked document not yet shown.
    """
    docs: list[str] = []
    teams: list[int] = []
    seen: set[str] = set()
    ia = ib = na = nb = 0
    flip = 0
    while len(docs) < depth:
        while ia < len(a) and a[ia] in seen:
            ia += 1
        while ib < len(b) and b[ib] in seen:
            ib += 1
        if ia >= len(a) and ib >= len(b):
            break
        if na == nb:
            pick_a = bool(coins[flip % len(coins)])
            flip += 1
        else:
            pick_a = na < nb
        if pick_a and ia >= len(a):
            pick_a = False
        elif not pick_a and ib >= len(b):
            pick_a = True
        doc = a[ia] if pick_a else b[ib]
        seen.add(doc)
        docs.append(doc)
        teams.append(1 if pick_a else -1)
        if pick_a:
            na += 1
        else:
            nb += 1
    return docs, teams


def interleave(control: Run, treatment: Run, qrels: Qrels, config: ABTestConfig | None = None,
               qids: Sequence[str] | None = None, frequency: dict[str, float] | None = None,
               names: tuple[str, str] = ("control", "treatment")) -> pd.DataFrame:
    """Simulate ``config.interleaving_impressions`` team-draft impressions and test the preference.

    An impression is won by the team whose documents got more clicks. ``preference`` =
    (wins + ties/2) / impressions - 0.5 (positive: treatment preferred); ``win_rate`` = wins /
    (wins + losses) with a Wilson CI; ``p_value`` is the two-sided sign (binomial) test of the
    decided impressions; ``impressions_needed`` is how many impressions (ties included) would
    detect the observed win rate at the configured alpha and power.
    """
    config = config or ABTestConfig()
    qids = sorted(qrels) if qids is None else list(qids)
    top = max_grade(qrels)
    model = ClickModel.from_config(config.click, top, config.depth)
    rng = np.random.default_rng(np.random.SeedSequence(config.seed).spawn(2)[1])
    n = config.interleaving_impressions
    q = rng.choice(len(qids), size=n, p=query_weights(qids, config, frequency))
    coins = rng.random((n, config.depth)) < 0.5
    lists = {i: (top_docs(treatment, qids[i], config.depth), top_docs(control, qids[i], config.depth))
             for i in np.unique(q)}
    grades = np.full((n, config.depth), -1, dtype=np.int64)
    teams = np.zeros((n, config.depth), dtype=np.int64)
    for r in range(n):
        docs, team = team_draft(*lists[q[r]], config.depth, coins[r])
        judged = qrels.get(qids[q[r]], {})
        grades[r, : len(docs)] = [max(0, int(judged.get(d, 0))) for d in docs]
        teams[r, : len(team)] = team
    credit = (model.simulate(grades, rng) * teams).sum(axis=1)
    wins, losses = int((credit > 0).sum()), int((credit < 0).sum())
    ties = n - wins - losses
    decided = wins + losses
    if decided:
        test = binomtest(wins, decided, 0.5)
        win_rate, p = wins / decided, float(test.pvalue)
        ci = test.proportion_ci(confidence_level=1 - config.alpha, method="wilson")
        lo, hi = ci.low, ci.high
        needed = float(np.ceil(power.impressions_needed(win_rate, config.alpha, config.power) * n / decided))
    else:
        win_rate, p, lo, hi, needed = np.nan, 1.0, np.nan, np.nan, np.inf
    return pd.DataFrame([{
        "kind": "interleaving", "method": names[1], "baseline": names[0], "metric": "team_draft",
        "impressions": n, "wins": wins, "ties": ties, "losses": losses,
        "preference": (wins + ties / 2) / n - 0.5, "win_rate": win_rate, "win_rate_ci_low": lo,
        "win_rate_ci_high": hi, "p_value": p, "significant": p <= config.alpha,
        "impressions_needed": needed, "click_model": config.click.model, "alpha": config.alpha,
        "power": config.power,
    }])
