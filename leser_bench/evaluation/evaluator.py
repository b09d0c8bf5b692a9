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


def evaluate(run: Run, qrels: Qrels, measures: Sequence[Measure], method: str) -> pd.DataFrame:
    """Per-query values of every measure, one row per (query with qrels, measure)."""
    by_object = {m.measure: m.name for m in measures}
    values: dict[tuple[str, str], float] = {}
    judged_run = {qid: docs for qid, docs in run.items() if qid in qrels and docs}
    if judged_run:
        for record in ir_measures.iter_calc([m.measure for m in measures], qrels, judged_run):
            values[(record.query_id, by_object[record.measure])] = float(record.value)
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
