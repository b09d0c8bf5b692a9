"""A/B simulation configuration (leser_bench/conf/abtest/*.yaml): click model, traffic, power analysis."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from leser_bench.config import section
from leser_bench.stats.config import (
    CORRECTIONS,
    ConfigError,
    check_choice,
    check_int,
    check_open_unit,
    check_probability,
)

CLICK_MODELS = ("pbm", "cascade", "dbn")
LABEL_PRESETS = ("auto", "esci", "binary", "derived")
QUERY_SAMPLING = ("uniform", "frequency")

#: Per-grade click probabilities. ESCI grades: E=3, S=2, C=1, I=0; binary: 1 relevant, 0 not.
PRESETS: dict[str, dict[str, dict[int, float]]] = {
    "esci": {"attraction": {0: 0.05, 1: 0.15, 2: 0.35, 3: 0.70},
             "satisfaction": {0: 0.0, 1: 0.05, 2: 0.20, 3: 0.60}},
    "binary": {"attraction": {0: 0.10, 1: 0.70},
               "satisfaction": {0: 0.0, 1: 0.60}},
}


@dataclass(frozen=True)
class ClickModelConfig:
    """A click model and its per-grade probabilities.

    ``attraction[g]``: P(click | examined, grade g). ``satisfaction[g]``: P(user stops | clicked)
    (DBN only). Either may be left None to take the ``labels`` preset ("auto": ESCI when the qrels
    have exactly ESCI's grades 0..3, binary for 0..1, and otherwise -- e.g. 0..2 or 0..4 -- tables derived
    from the data's grade scale, see :func:`derived_tables`). PBM examines position k (1-based) with ``examination[k-1]``
    or, when that is None, with 1 / k**eta. DBN moves on to the next result with ``continuation``
    unless satisfied; cascade stops at the first click.
    """

    model: str = "dbn"
    labels: str = "auto"
    attraction: dict[int, float] | None = None
    satisfaction: dict[int, float] | None = None
    examination: list[float] | None = None
    eta: float = 1.0
    continuation: float = 0.9

    def __post_init__(self) -> None:
        check_choice("abtest.click.model", self.model, CLICK_MODELS)
        check_choice("abtest.click.labels", self.labels, LABEL_PRESETS)
        for name in ("attraction", "satisfaction"):
            table = getattr(self, name)
            if table is None:
                continue
            if not isinstance(table, Mapping) or not table:
                raise ConfigError(f"abtest.click.{name}: expected a mapping grade -> probability, got {table!r}")
            for grade, prob in table.items():
                if isinstance(grade, bool) or not isinstance(grade, int) or grade < 0:
                    raise ConfigError(f"abtest.click.{name}: key {grade!r} is not a grade (an integer >= 0)")
                check_probability(f"abtest.click.{name}[{grade}]", prob)
        if self.examination is not None:
            if not isinstance(self.examination, (list, tuple)) or not self.examination:
                raise ConfigError(f"abtest.click.examination: expected a list of probabilities, got {self.examination!r}")
            for k, prob in enumerate(self.examination):
                check_probability(f"abtest.click.examination[{k}]", prob)
        if not isinstance(self.eta, (int, float)) or isinstance(self.eta, bool) or self.eta < 0:
            raise ConfigError(f"abtest.click.eta: {self.eta!r} is not allowed; it must be a number >= 0")
        check_probability("abtest.click.continuation", self.continuation)

    def preset_name(self, max_grade: int) -> str:
        """The preset used for grades 0..max_grade: ``auto`` takes a preset only where its grades fit."""
        if self.labels != "auto":
            return self.labels
        return {1: "binary", 3: "esci"}.get(max_grade, "derived")

    def tables(self, max_grade: int) -> dict[str, dict[int, float]]:
        name = self.preset_name(max_grade)
        return derived_tables(max_grade) if name == "derived" else PRESETS[name]

    def describe(self, max_grade: int) -> str:
        """Which click probabilities a simulation on grades 0..max_grade uses (recorded in abtest.csv)."""
        attraction, satisfaction = self.probabilities(max_grade)
        source = {"attraction": "given" if self.attraction is not None else self.preset_name(max_grade),
                  "satisfaction": "given" if self.satisfaction is not None else self.preset_name(max_grade)}
        fmt = lambda a: "{" + ", ".join(f"{g}: {a[g]:.3g}" for g in range(max_grade + 1)) + "}"  # noqa: E731
        return (f"labels={self.labels}: attraction {fmt(attraction)} ({source['attraction']}), "
                f"satisfaction {fmt(satisfaction)} ({source['satisfaction']})")

    def probabilities(self, max_grade: int) -> tuple[np.ndarray, np.ndarray]:
        """(attraction, satisfaction) arrays indexed by grade 0..max_grade, plus a final 0 entry for
        an empty slot (index -1). A grade the tables do not cover is an error naming it."""
        preset = self.tables(max_grade)
        out = []
        for name in ("attraction", "satisfaction"):
            table = getattr(self, name) or preset[name]
            missing = [g for g in range(max_grade + 1) if g not in table]
            if missing:
                raise ConfigError(f"abtest.click.{name}: no probability for grade(s) {missing} found in the "
                                  f"qrels; give one per grade 0..{max_grade}")
            out.append(np.array([table[g] for g in range(max_grade + 1)] + [0.0]))
        return out[0], out[1]

    def examination_probs(self, depth: int) -> np.ndarray:
        if self.examination is None:
            return 1.0 / np.arange(1, depth + 1) ** self.eta
        if len(self.examination) < depth:
            raise ConfigError(f"abtest.click.examination: {len(self.examination)} probabilities for a result "
                              f"page of depth {depth}; give one per position")
        return np.asarray(self.examination[:depth], dtype=float)


@dataclass(frozen=True)
class ABTestConfig:
    """Traffic and analysis of a simulated A/B test (and of team-draft interleaving).

    Each user issues ``queries_per_user`` queries drawn uniformly from the evaluation queries or in
    proportion to a frequency weight; users are split between control and treatment by
    ``treatment_share``. A purchase is a click on an item of grade >= ``purchase_grade`` (default:
    the top grade of the label preset — Exact for ESCI) that converts with ``purchase_prob``.
    """

    n_users: int = 20_000
    treatment_share: float = 0.5
    queries_per_user: int = 1
    depth: int = 10
    query_sampling: str = "uniform"
    purchase_grade: int | None = None
    purchase_prob: float = 1.0
    alpha: float = 0.05
    power: float = 0.8
    correction: str = "holm"
    mde_users_per_arm: int = 10_000
    interleaving_impressions: int = 10_000
    seed: int = 0
    click: ClickModelConfig = field(default_factory=ClickModelConfig)

    def __post_init__(self) -> None:
        check_int("abtest.n_users", self.n_users, minimum=4)
        check_open_unit("abtest.treatment_share", self.treatment_share)
        check_int("abtest.queries_per_user", self.queries_per_user, minimum=1)
        check_int("abtest.depth", self.depth, minimum=1)
        check_choice("abtest.query_sampling", self.query_sampling, QUERY_SAMPLING)
        if self.purchase_grade is not None:
            check_int("abtest.purchase_grade", self.purchase_grade, minimum=1)
        check_probability("abtest.purchase_prob", self.purchase_prob)
        check_open_unit("abtest.alpha", self.alpha)
        check_open_unit("abtest.power", self.power)
        check_choice("abtest.correction", self.correction, CORRECTIONS)
        check_int("abtest.mde_users_per_arm", self.mde_users_per_arm, minimum=2)
        check_int("abtest.interleaving_impressions", self.interleaving_impressions, minimum=1)
        check_int("abtest.seed", self.seed, minimum=0)
        if not isinstance(self.click, ClickModelConfig):
            raise ConfigError(f"abtest.click: expected a click model mapping, got {self.click!r}")

    def purchase_threshold(self, max_grade: int) -> int:
        if self.purchase_grade is not None:
            return self.purchase_grade
        return {"esci": 3, "binary": 1}.get(self.click.preset_name(max_grade), max_grade)

    def check_grades(self, max_grade: int) -> None:
        """Refuse, before any work, click tables or a purchase grade that do not fit grades 0..max_grade."""
        self.click.probabilities(max_grade)
        if self.purchase_threshold(max_grade) > max_grade:
            raise ConfigError(f"abtest.purchase_grade={self.purchase_threshold(max_grade)} (labels="
                              f"{self.click.labels}) is above the judgments' top grade {max_grade}: no click "
                              "would ever be a purchase")


def derived_tables(max_grade: int) -> dict[str, dict[int, float]]:
    """Click tables for any grade scale 0..max_grade, from the data's graded gain (2**g - 1) / (2**max - 1)
    (nDCG's exponential gain): attraction 0.05 + 0.65 * gain, satisfaction 0.60 * gain -- the ESCI
    preset's end points, and close to it in between (0.14 and 0.33 for ESCI's grades 1 and 2)."""
    top = max(1, int(max_grade))
    gain = {g: (2.0**g - 1.0) / (2.0**top - 1.0) for g in range(top + 1)}
    return {"attraction": {g: round(0.05 + 0.65 * v, 4) for g, v in gain.items()},
            "satisfaction": {g: round(0.60 * v, 4) for g, v in gain.items()}}


def click_config_from(cfg: Mapping[str, Any] | None) -> ClickModelConfig:
    return section(ClickModelConfig, cfg, "abtest.click")


def abtest_config_from(cfg: Mapping[str, Any] | None) -> ABTestConfig:
    """Validate a plain (or OmegaConf) mapping such as leser_bench/conf/abtest/default.yaml into an ABTestConfig."""
    return section(ABTestConfig, cfg, "abtest", nested={"click": click_config_from})
