"""Power analysis for two-arm tests and for the interleaving sign test (statsmodels)."""

from __future__ import annotations

import math
from functools import lru_cache

from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize


def users_needed(diff: float, sd: float, alpha: float, power: float) -> float:
    """Users per arm for a two-sided test to detect an absolute difference ``diff`` between arm
    means whose per-user standard deviation is ``sd`` (inf when there is nothing to detect)."""
    if not (math.isfinite(sd) and math.isfinite(diff)) or sd <= 0 or abs(diff) <= 1e-12 * sd:
        # nothing to detect; a difference at rounding level (2.8e-17 between two identical arms' means)
        # made statsmodels' root finder return nan
        return math.inf
    n = NormalIndPower().solve_power(effect_size=abs(diff) / sd, alpha=alpha, power=power, ratio=1.0)
    return float(math.ceil(n))


def minimum_detectable_effect(sd: float, n_per_arm: int, alpha: float, power: float) -> float:
    """Smallest absolute difference of means detectable with ``n_per_arm`` users in each arm."""
    if sd <= 0:
        return 0.0
    return _detectable_effect_size(int(n_per_arm), float(alpha), float(power)) * sd


@lru_cache(maxsize=256)
def _detectable_effect_size(n_per_arm: int, alpha: float, power: float) -> float:
    return float(NormalIndPower().solve_power(nobs1=n_per_arm, alpha=alpha, power=power, ratio=1.0))


def impressions_needed(win_rate: float, alpha: float, power: float) -> float:
    """Decided (non-tied) interleaved impressions to tell ``win_rate`` from 0.5 (one-sample test)."""
    if win_rate == 0.5 or not 0.0 <= win_rate <= 1.0:
        return math.inf
    h = abs(proportion_effectsize(win_rate, 0.5))
    n = NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power, ratio=0.0)
    return float(math.ceil(n))
