"""Score runs with ir-measures, with trec_eval semantics, into tidy per-query records.

Queries that have judgments but no results count as 0 for every measure (trec_eval's ``-c``);
queries without judgments are not scored. Per-query records use the configured measure names.

An :class:`Evaluator` builds ir-measures' evaluators once per (qrels, measures) and scores every
method's run with them, so the qrels are converted once, not once per method and measure.

``RR@k`` is trec_eval's ``recip_rank`` cut at rank k (1/rank if the first relevant product is within
the top k, else 0). ir-measures would send ``RR@k`` to MS MARCO's script, which breaks score ties by
ascending product id while trec_eval (every other measure here) breaks them by descending id: on
tied scores ``RR@1`` could then disagree with ``P@1``. One ranking for every measure, and RR rides
along in the same pytrec_eval call as R and P.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
import multiprocessing
import os
from typing import Any

import ir_measures
import pandas as pd

from leser_bench.data.records import Qrels
from leser_bench.evaluation.measures import Measure
from leser_bench.retrieval.retriever import Run

PER_QUERY_COLUMNS = ["method", "query_id", "measure", "value"]
#: below this many retrieved entries in all, evaluating in parallel costs more than it saves.
PARALLEL_MIN_ENTRIES = 2_000_000


@dataclass(frozen=True)
class _Target:
    """A configured measure, and how its value is read from a computed ir-measures measure."""

    name: str
    computed: Any
    rr_cutoff: int | None = None  # RR@k computed as trec_eval's RR, cut at k

    def value(self, raw: float) -> float:
        if self.rr_cutoff is not None and raw * self.rr_cutoff < 1.0 - 1e-9:
            return 0.0
        return raw


def _target(m: Measure) -> _Target:
    measure = m.measure
    cutoff = measure.params.get("cutoff")
    if measure.NAME == "RR" and cutoff is not None and not measure.params.get("judged_only", False):
        uncut = ir_measures.RR(**{k: v for k, v in measure.params.items() if k != "cutoff"})
        if ir_measures.pytrec_eval.supports(uncut):
            return _Target(m.name, uncut, int(cutoff))
    return _Target(m.name, measure)


class Evaluator:
    """Per-query values of ``measures`` for any run against one ``qrels``."""

    def __init__(self, qrels: Qrels, measures: Sequence[Measure]) -> None:
        self.qrels = qrels
        self.measure_names = [m.name for m in measures]
        self._targets: dict[str, list[_Target]] = {}
        computed: dict[str, Any] = {}
        for m in measures:
            target = _target(m)
            key = str(target.computed)
            computed.setdefault(key, target.computed)
            self._targets.setdefault(key, []).append(target)
        native = [c for c in computed.values() if ir_measures.pytrec_eval.supports(c)]
        others = [c for c in computed.values() if not ir_measures.pytrec_eval.supports(c)]
        self._evaluators = []
        if native:  # one pytrec_eval conversion of the qrels and of each run for all of these
            self._evaluators.append(ir_measures.pytrec_eval.evaluator(native, qrels))
        if others:
            self._evaluators.append(ir_measures.evaluator(others, qrels))

    def _records(self, run: Run) -> Iterable[Any]:
        for evaluator in self._evaluators:
            # ir-measures' public iter_calc also yields defaults for (measure, query) pairs the run
            # lacks, tracking them in a set keyed by repr(measure) -- a third of the time at 10k
            # queries; queries without results are filled with 0 below, so the provider's own
            # computation (_iter_calc) is all that is needed. tests/test_evaluation.py checks both
            # paths agree.
            yield from getattr(evaluator, "_iter_calc", evaluator.iter_calc)(run)

    def values(self, run: Run) -> dict[tuple[str, str], float]:
        """{(query_id, measure name): value} for the judged queries the run answers."""
        out: dict[tuple[str, str], float] = {}
        judged_run = {qid: docs for qid, docs in run.items() if qid in self.qrels and docs}
        if not judged_run:
            return out
        targets_of: dict[int, list[_Target]] = {}  # measure objects hash through repr(): resolve once
        for record in self._records(judged_run):
            targets = targets_of.get(id(record.measure))
            if targets is None:
                targets = targets_of[id(record.measure)] = self._targets[str(record.measure)]
            raw = float(record.value)
            for target in targets:
                out[(record.query_id, target.name)] = target.value(raw)
        return out

    def evaluate(self, run: Run, method: str, query_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Per-query values of every measure, one row per (query with qrels, measure).

        ``query_ids`` scores a chunk of a run: rows only for those of them with qrels (0 for the
        ones the chunk has no results for), in sorted order. Concatenating the chunks of a run
        split by sorted query id gives the frame of the whole run (tests/test_runs.py).
        """
        values = self.values(run)
        judged = sorted(self.qrels) if query_ids is None else sorted(q for q in set(query_ids) if q in self.qrels)
        rows = [
            (method, qid, name, values.get((qid, name), 0.0))
            for qid in judged
            for name in self.measure_names
        ]
        return pd.DataFrame(rows, columns=PER_QUERY_COLUMNS)


def evaluate(run: Run, qrels: Qrels, measures: Sequence[Measure], method: str) -> pd.DataFrame:
    """Per-query values of every measure, one row per (query with qrels, measure)."""
    return Evaluator(qrels, measures).evaluate(run, method)


_FORKED: tuple[Evaluator, Mapping[str, Run]] | None = None  # set in the parent just before forking


def _evaluate_forked(method: str) -> pd.DataFrame:
    assert _FORKED is not None
    evaluator, runs = _FORKED
    return evaluator.evaluate(runs[method], method)


def evaluate_many(runs: Mapping[str, Run], qrels: Qrels, measures: Sequence[Measure],
                  workers: int | None = None) -> pd.DataFrame:
    """Per-query values of every method's run, in the order of ``runs``.

    Large inputs are spread over ``workers`` forked processes (default: the usable cores), which
    inherit the runs instead of receiving them pickled; small ones are scored in this process.
    """
    evaluator = Evaluator(qrels, measures)
    workers = workers if workers is not None else len(os.sched_getaffinity(0))
    entries = sum(len(docs) for run in runs.values() for docs in run.values())
    fork_ok = "fork" in multiprocessing.get_all_start_methods()
    if workers <= 1 or len(runs) <= 1 or entries < PARALLEL_MIN_ENTRIES or not fork_ok:
        frames = [evaluator.evaluate(run, method) for method, run in runs.items()]
    else:
        global _FORKED
        _FORKED = (evaluator, runs)
        try:
            with ProcessPoolExecutor(min(workers, len(runs)), mp_context=multiprocessing.get_context("fork")) as pool:
                frames = list(pool.map(_evaluate_forked, list(runs)))
        finally:
            _FORKED = None
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=PER_QUERY_COLUMNS)


def aggregate(per_query: pd.DataFrame, measure_order: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean of each measure per method: a methods x measures table (methods in first-seen order)."""
    table = per_query.pivot_table(index="method", columns="measure", values="value", aggfunc="mean", sort=False)
    if measure_order:
        table = table[[m for m in measure_order if m in table.columns]]
    return table
