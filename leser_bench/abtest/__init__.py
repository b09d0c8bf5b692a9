"""Offline simulation of online evaluation: click models, A/B tests, interleaving, power analysis."""

from leser_bench.abtest.clicks import ClickModel
from leser_bench.abtest.config import (
    PRESETS,
    ABTestConfig,
    ClickModelConfig,
    abtest_config_from,
    click_config_from,
)
from leser_bench.abtest.interleave import interleave, team_draft
from leser_bench.abtest.power import impressions_needed, minimum_detectable_effect, users_needed
from leser_bench.abtest.simulate import METRICS, add_power, compare_arms, simulate_ab, simulate_arms, user_metrics

__all__ = ["ABTestConfig", "ClickModel", "ClickModelConfig", "METRICS", "PRESETS", "abtest_config_from", "add_power",
           "click_config_from", "compare_arms", "impressions_needed", "interleave",
           "minimum_detectable_effect", "simulate_ab", "simulate_arms", "team_draft", "user_metrics",
           "users_needed"]
