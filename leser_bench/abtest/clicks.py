"""Vectorised click models (PBM, cascade, DBN) over many result pages at once.

A result page is a row of integer grades (best position first); -1 marks an empty slot (the run
returned fewer results than the page depth). Unjudged results are grade 0 (not relevant).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leser_bench.abtest.config import ClickModelConfig


@dataclass(frozen=True)
class ClickModel:
    """A click model with its probabilities resolved for a grade range and a page depth."""

    model: str
    attraction: np.ndarray  # indexed by grade; the last entry (index -1) is the empty slot
    satisfaction: np.ndarray
    examination: np.ndarray  # PBM only, one per position
    continuation: float

    @classmethod
    def from_config(cls, cfg: ClickModelConfig, max_grade: int, depth: int) -> ClickModel:
        attraction, satisfaction = cfg.probabilities(max_grade)
        return cls(cfg.model, attraction, satisfaction, cfg.examination_probs(depth), cfg.continuation)

    def simulate(self, grades: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Boolean clicks, same shape as ``grades`` (pages, depth)."""
        g = np.asarray(grades)
        if g.ndim != 2:
            raise ValueError(f"grades must be a (pages, depth) array, got shape {g.shape}")
        if g.size and g.max() >= self.attraction.size - 1:
            raise ValueError(f"grade {int(g.max())} has no click probability (known grades 0..{self.attraction.size - 2})")
        attract = self.attraction[g]
        attracted = rng.random(g.shape) < attract
        if self.model == "pbm":
            examined = rng.random(g.shape) < self.examination[: g.shape[1]]
            return attracted & examined
        if self.model == "cascade":
            # the user scans down and clicks the first attractive result, then leaves
            first = np.argmax(attracted, axis=1)
            clicks = np.zeros(g.shape, dtype=bool)
            rows = np.flatnonzero(attracted.any(axis=1))
            clicks[rows, first[rows]] = True
            return clicks
        # DBN: examine top-down; after a click the user is satisfied (and leaves) with
        # P(satisfaction[g]); otherwise moves on with P(continuation).
        satisfied = rng.random(g.shape) < self.satisfaction[g]
        goes_on = rng.random(g.shape) < self.continuation
        clicks = np.zeros(g.shape, dtype=bool)
        examining = np.ones(g.shape[0], dtype=bool)
        for k in range(g.shape[1]):
            clicks[:, k] = examining & attracted[:, k]
            examining &= ~(clicks[:, k] & satisfied[:, k]) & goes_on[:, k]
        return clicks
