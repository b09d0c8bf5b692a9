"""The relevance designs of LESER's reward (``train.reward.relevance`` and ``train.reward.tiers``).

- ``measure`` (default): the configured ir-measures measure of the expanded query's run (nDCG@10),
  minus the raw query's with ``improvement``. ``measure: R@100`` with ``improvement: true`` is the plain
  recall-improvement reward in the style of DeepRetrieval (Jiang et al., 2025).
- ``rank``: credit by the rank of every relevant product, in the style of ConvSearch-R1's rank-incentive
  reward (Zhu et al., 2025): the mean over the query's relevant products (grade >= the relevant grade) of
  ``1 / log2(rank + 1)`` within the reward's depth, 0 beyond it. Unlike nDCG@10 it moves when a relevant
  product climbs from rank 80 to rank 20, which is what recall-oriented expansion does.
- ``tiers`` (either design): the value (or its improvement) mapped to the reward of the first tier whose
  threshold it reaches, else ``tier_floor`` — DeepRetrieval's tiered recall reward is
  ``tiers: [[0.7, 5], [0.5, 4], [0.4, 3], [0.3, 1], [0.1, 0.5], [0.05, 0.1]]``, ``tier_floor: -3.5``
  with ``improvement: false``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from leser_bench.io.trec import ranked

RELEVANCE = ("measure", "rank")


def rank_credit(docs: Mapping[str, float], judged: Mapping[str, int], relevant_grade: int, depth: int) -> float:
    """Mean of ``1 / log2(rank + 1)`` over the relevant products (0 for those not in the top ``depth``)."""
    relevant = [d for d, grade in judged.items() if grade >= relevant_grade]
    if not relevant:
        return 0.0
    position = {doc: rank for rank, (doc, _) in enumerate(ranked(dict(docs))[:depth], start=1)}
    return sum(1.0 / math.log2(position[d] + 1) for d in relevant if d in position) / len(relevant)


def check_tiers(tiers: Sequence[Sequence[float]] | None) -> tuple[tuple[float, float], ...] | None:
    """``[[threshold, reward], ...]`` with strictly decreasing thresholds; None = no tiers."""
    if tiers is None:
        return None
    pairs = []
    for tier in tiers:
        if not isinstance(tier, Sequence) or len(tier) != 2 or any(isinstance(v, bool) for v in tier):
            raise ValueError(f"reward.tiers: {tier!r} is not a [threshold, reward] pair")
        pairs.append((float(tier[0]), float(tier[1])))
    if not pairs:
        raise ValueError("reward.tiers: empty; use null for no tiers")
    if any(a[0] <= b[0] for a, b in zip(pairs, pairs[1:])):
        raise ValueError(f"reward.tiers: thresholds must decrease strictly, got {[p[0] for p in pairs]}")
    return tuple(pairs)


def tiered(value: float, tiers: Sequence[tuple[float, float]] | None, floor: float) -> float:
    """The reward of the first tier whose threshold ``value`` reaches, else ``floor``; ``value`` without tiers."""
    if tiers is None:
        return value
    for threshold, reward in tiers:
        if value >= threshold:
            return reward
    return floor
