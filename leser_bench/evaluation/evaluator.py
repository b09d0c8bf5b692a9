"""Score runs with ir-measures, with trec_eval semantics, into tidy per-query records.

Queries that have judgments but no results count as 0 for every measure (trec_eval's ``-c``);
queries without judgments are not scored. Per-query records use the configured measure names.
"""

from __future__ import annotations

from collections.abc import Sequence

import ir_measures
import pandas as pd

from leser_bench.data.records import Qrels
from leser_bench.evaluation.measures import Measure
from leser_bench.retrieval.retriever import Run

PER_QUERY_COLUMNS = ["method", "query_id", "measure", "value"]


def _records(measures: Sequence[Measure], qrels: Qrels, run: Run):  # noqa: ANN202
    """ir-measures records; measures pytrec_eval supports go to it in one call (one conversion of
    qrels and run instead of one per measure), the rest through ir-measures' fallback chain."""
    native = [m.measure for m in measures if ir_measures.pytrec_eval.supports(m.measure)]
    others = [m.measure for m in measures if not ir_measures.pytrec_eval.supports(m.measure)]
    if native:
        yield from ir_measures.pytrec_eval.iter_calc(native, qrels, run)
    if others:
        yield from ir_measures.iter_calc(others, qrels, run)


def evaluate(run: Run, qrels: Qrels, measures: Sequence[Measure], method: str) -> pd.DataFrame:
    """Per-query values of every measure, one row per (query with qrels, measure)."""
    by_text = {str(m.measure): m.name for m in measures}
    name_of: dict[int, str] = {}  # measure objects hash through repr(): resolve each object once
    values: dict[tuple[str, str], float] = {}
    judged_run = {qid: docs for qid, docs in run.items() if qid in qrels and docs}
    if judged_run:
        for record in _records(measures, qrels, judged_run):
            key = id(record.measure)
            if key not in name_of:
                name_of[key] = by_text[str(record.measure)]
            values[(record.query_id, name_of[key])] = float(record.value)
    rows = [
        (method, qid, m.name, values.get((qid, m.name), 0.0))
        for qid in sorted(qrels)
        for m in measures
    ]
    return pd.DataFrame(rows, columns=PER_QUERY_COLUMNS)


def aggregate(per_query: pd.DataFrame, measure_order: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean of each measure per method: a methods x measures table (methods in first-seen order)."""
    table = per_query.pivot_table(index="method", columns="measure", values="value", aggfunc="mean", sort=False)
    if measure_order:
        table = table[[m for m in measure_order if m in table.columns]]
    return table
