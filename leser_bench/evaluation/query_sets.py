"""Which evaluated queries each table of a run covers.

On a CPU budget the query-side LLM methods cannot prompt every test query, so they see a seeded,
stratified sample of the evaluated split. Paired tests need the same queries for every method, so
the **main table** (leaderboard, significance, A/B) compares every method on that sample; the
methods that ran on the whole split get a second table over all of it.

Strata: query length in words (1, 2, 3, 4+) x head/tail, where a head query has at least the
median number of judgments of the split (ESCI publishes no query frequencies; how many products
were judged for a query is the closest public proxy of how popular it is). Each stratum gets its
largest-remainder share of the sample, and within a stratum queries are drawn by a seeded shuffle
of their ids, so the sample depends on the seed and the split only, not on the methods run.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from leser_bench.data.records import Qrels, Query, Split
from leser_bench.data.world.products import largest_remainder

LENGTH_BINS = ("1 word", "2 words", "3 words", "4+ words")
FILE = "query_sets.json"


@dataclass(frozen=True)
class QuerySets:
    """The main table's queries (all methods) and, when it is a sample, the whole split's queries."""

    split: str
    main_ids: tuple[str, ...]
    all_ids: tuple[str, ...]
    #: stratum name -> (queries in the split, queries drawn).
    strata: dict[str, tuple[int, int]] = field(default_factory=dict)
    seed: int | None = None

    @property
    def sampled(self) -> bool:
        return len(self.main_ids) < len(self.all_ids)

    def describe_main(self) -> str:
        if not self.sampled:
            return _all(len(self.all_ids), self.split)
        return (f"a seeded stratified sample of {len(self.main_ids)} of the {len(self.all_ids)} queries of split "
                f"`{self.split}` (seed {self.seed}; strata: query length x head/tail by judgments), the queries "
                f"every method ran on")

    def to_json(self, methods_main: Sequence[str], methods_full: Sequence[str]) -> dict[str, Any]:
        return {
            "split": self.split, "seed": self.seed, "sampled": self.sampled,
            "main": {"n": len(self.main_ids), "description": self.describe_main(), "methods": list(methods_main),
                     "query_ids": list(self.main_ids)},
            "full": ({"n": len(self.all_ids), "description": _all(len(self.all_ids), self.split),
                      "methods": list(methods_full)} if self.sampled else None),
            "strata": {name: {"queries": n, "sampled": k} for name, (n, k) in self.strata.items()},
        }


def _all(n: int, split: str) -> str:
    return f"the only query of split `{split}`" if n == 1 else f"all {n} queries of split `{split}`"


def length_bin(text: str) -> str:
    return LENGTH_BINS[min(len(text.split()), len(LENGTH_BINS)) - 1] if text.split() else LENGTH_BINS[0]


def stratum_of(query: Query, qrels: Qrels, median_judgments: float) -> str:
    head = "head" if len(qrels.get(query.id, {})) >= median_judgments else "tail"
    return f"{length_bin(query.text)}, {head}"


def query_sets(split: Split, size: int | None, seed: int) -> QuerySets:
    """The whole split when ``size`` is None or not smaller than it; else a stratified sample of ``size``."""
    all_ids = tuple(q.id for q in split.queries)
    if size is None or size >= len(all_ids):
        return QuerySets(split.name, all_ids, all_ids)
    if size < 1:
        raise ValueError(f"budget.llm_queries must be >= 1 or null, got {size}")
    median = statistics.median(len(split.qrels.get(q.id, {})) for q in split.queries)
    groups: dict[str, list[str]] = {}
    for q in split.queries:
        groups.setdefault(stratum_of(q, split.qrels, median), []).append(q.id)
    names = sorted(groups)
    shares = largest_remainder([float(len(groups[n])) for n in names], size)
    chosen: set[str] = set()
    strata: dict[str, tuple[int, int]] = {}
    for name, share in zip(names, shares, strict=True):
        ids = sorted(groups[name])
        random.Random(f"query-sample:{seed}:{split.name}:{name}").shuffle(ids)
        chosen.update(ids[:share])
        strata[name] = (len(groups[name]), share)
    main = tuple(i for i in all_ids if i in chosen)  # split order
    return QuerySets(split.name, main, all_ids, strata, seed)


def restrict(split: Split, ids: Sequence[str]) -> Split:
    """The split's queries and judgments for ``ids`` only, in split order."""
    keep = set(ids)
    queries = [q for q in split.queries if q.id in keep]
    return Split(split.name, queries, {q.id: split.qrels[q.id] for q in queries if q.id in split.qrels})
