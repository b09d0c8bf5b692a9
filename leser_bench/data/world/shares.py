"""ESCI's published label shares, and the balancer that makes judged pools follow them.

Shares per dataset version, from the statistics published with the data set of Reddy et al.,
"Shopping Queries Dataset", arXiv 2206.06588 (the release's ``shopping_queries_dataset/README.md``
in amazon-science/esci-data, label-distribution table; it does not split by locale):

=========  ======  ======  =====  ======
version    E       S       C      I
=========  ======  ======  =====  ======
large      65.16%  21.91%  2.89%  10.04%
small      43.78%  34.30%  5.15%  16.76%
=========  ======  ======  =====  ======

The small version is Task 1's (query-product ranking); it keeps the harder queries, so it holds
fewer Exact labels. The same file gives Task 1's US depth: 601,354 judgments over 29,844 queries,
20.15 per query (the release lists "up to 40" results per query).
"""

from __future__ import annotations

from collections.abc import Mapping

from leser_bench.data.world.products import largest_remainder

LABELS = ("E", "S", "C", "I")
#: rounded large-version shares (E, S, C, I): what "ESCI's label shares" usually means.
ESCI_LARGE_SHARES = (0.65, 0.22, 0.03, 0.10)
#: Task 1 (small version) shares (E, S, C, I), as published.
ESCI_SMALL_SHARES = (0.4378, 0.3430, 0.0515, 0.1676)
#: Task 1, US locale: judgments per query, and the most judged results of one query.
ESCI_US_SMALL_DEPTH = 20.15
ESCI_MAX_DEPTH = 40


class LabelBalancer:
    """Chooses each query's label counts so the running totals follow the target shares."""

    def __init__(self, shares: Mapping[str, float]) -> None:
        total = sum(shares.values())
        self.shares = {label: shares[label] / total for label in LABELS}
        self.assigned = dict.fromkeys(LABELS, 0)

    def counts(self, depth: int, available: Mapping[str, int],
               reserved: Mapping[str, int] | None = None) -> dict[str, int]:
        """Label counts for one query of ``depth`` judgments, at most ``available`` of each label;
        ``reserved`` counts are taken first (the world keeps one Exact product in every pool)."""
        fixed = {l: min((reserved or {}).get(l, 0), available.get(l, 0), depth) for l in LABELS}
        if any(fixed.values()):
            for label in LABELS:
                self.assigned[label] += fixed[label]
            rest = self.counts(max(0, depth - sum(fixed.values())), {l: available.get(l, 0) - fixed[l] for l in LABELS})
            return {l: rest[l] + fixed[l] for l in LABELS}
        done = sum(self.assigned.values())
        want = {l: max(0.0, (done + depth) * self.shares[l] - self.assigned[l]) for l in LABELS}
        weights = [want[l] for l in LABELS] if sum(want.values()) > 0 else [self.shares[l] for l in LABELS]
        quota = dict(zip(LABELS, largest_remainder(weights, depth), strict=True))
        counts = {l: min(quota[l], available.get(l, 0)) for l in LABELS}
        spare = depth - sum(counts.values())
        for label in sorted(LABELS, key=lambda l: (-(want[l] - counts[l]), LABELS.index(l))):
            extra = min(spare, available.get(label, 0) - counts[label])
            counts[label] += extra
            spare -= extra
        for label in LABELS:
            self.assigned[label] += counts[label]
        return counts
