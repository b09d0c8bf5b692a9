"""Honest comparisons: paired tests, multiple-comparison correction, bootstrap CIs, effect sizes."""

from leser_bench.stats.compare import PerQueryError, compare, correct, per_query_cube, summarize
from leser_bench.stats.config import ConfigError, StatsConfig, stats_config_from

__all__ = ["ConfigError", "PerQueryError", "StatsConfig", "compare", "correct", "per_query_cube",
           "stats_config_from", "summarize"]
