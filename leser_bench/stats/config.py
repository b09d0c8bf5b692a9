"""Statistics configuration (leser_bench/conf/stats/*.yaml) and value checks shared with the A/B config."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from leser_bench.config import section
from leser_bench.errors import ConfigError

TESTS = ("permutation", "t", "wilcoxon")
CORRECTIONS = ("holm", "bonferroni", "fdr_bh", "none")
CI_METHODS = ("percentile", "bca")


@dataclass(frozen=True)
class StatsConfig:
    """How every comparison in a report is tested.

    ``test`` is the paired test whose p-value is corrected and reported; ``correction`` is applied
    across every (method, measure[, pair]) test in one table.
    """

    test: str = "permutation"
    alpha: float = 0.05
    correction: str = "holm"
    n_permutations: int = 10_000
    #: enumerate all 2^m sign flips (m = non-zero differences) when 2^m <= n_permutations.
    exact: bool = True
    n_bootstrap: int = 2_000
    ci_method: str = "bca"
    ci_level: float = 0.95
    seed: int = 0
    #: extra pairs ``[[method, reference], ...]`` tested as their own family (``stats_pairs.csv``, the
    #: correction across those tests only), e.g. ``[[leser, sft], [leser, rm3]]``; stats.csv is unchanged.
    pairs: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        pairs = tuple(tuple(p) for p in (self.pairs or ()) if isinstance(p, (list, tuple)))
        if len(pairs) != len(self.pairs or ()) or any(len(p) != 2 or not all(isinstance(x, str) for x in p)
                                                      or p[0] == p[1] for p in pairs):
            raise ConfigError(f"stats.pairs={self.pairs!r}: expected [[method, reference], ...] of two "
                                   "different method names")
        object.__setattr__(self, "pairs", pairs)
        check_choice("stats.test", self.test, TESTS)
        check_choice("stats.correction", self.correction, CORRECTIONS)
        check_choice("stats.ci_method", self.ci_method, CI_METHODS)
        check_open_unit("stats.alpha", self.alpha)
        check_open_unit("stats.ci_level", self.ci_level)
        check_int("stats.n_permutations", self.n_permutations, minimum=1)
        check_int("stats.n_bootstrap", self.n_bootstrap, minimum=10)
        check_int("stats.seed", self.seed, minimum=0)
        check_bool("stats.exact", self.exact)


# ---- validation helpers (also used by leser_bench.abtest.config) ----------------------------


def check_choice(key: str, value: object, allowed: Collection[str]) -> None:
    if value not in allowed:
        raise ConfigError(f"{key}: {value!r} is not allowed; choose one of: {', '.join(allowed)}")


def check_open_unit(key: str, value: object) -> None:
    if not _is_number(value) or not 0.0 < float(value) < 1.0:  # type: ignore[arg-type]
        raise ConfigError(f"{key}: {value!r} is not allowed; it must be a number strictly between 0 and 1")


def check_probability(key: str, value: object) -> None:
    if not _is_number(value) or not 0.0 <= float(value) <= 1.0:  # type: ignore[arg-type]
        raise ConfigError(f"{key}: {value!r} is not allowed; it must be a probability in [0, 1]")


def check_int(key: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{key}: {value!r} is not allowed; it must be an integer >= {minimum}")


def check_bool(key: str, value: object) -> None:
    if not isinstance(value, bool):
        raise ConfigError(f"{key}: {value!r} is not allowed; it must be true or false")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def stats_config_from(cfg: Mapping[str, Any] | None) -> StatsConfig:
    """Validate a plain (or OmegaConf) mapping such as leser_bench/conf/stats/default.yaml into a StatsConfig."""
    return section(StatsConfig, cfg, "stats")
