"""Per-query records of a run that arrives a chunk of queries at a time (:mod:`leser_bench.io.runs`).

Only one chunk's (query, product) pairs are in memory at a time; the records are what
``Evaluator.evaluate(run)`` and ``coverage(run, ...)`` give for the whole run, row for row
(tests/test_runs.py): judged queries that no chunk holds score 0, rows are in sorted query order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext

import pandas as pd

from leser_bench.data.records import Qrels
from leser_bench.evaluation.evaluator import PER_QUERY_COLUMNS, Evaluator
from leser_bench.evaluation.expansion_metrics import CoverageConfig, coverage
from leser_bench.retrieval.retriever import Run


def _in_query_order(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=PER_QUERY_COLUMNS)
    # stable: a query's rows keep their measure order, as in the whole-run frames
    return frame.sort_values("query_id", kind="stable", ignore_index=True)


def evaluate_chunks(chunks: Iterable[tuple[list[str], Run]], evaluator: Evaluator, raw_run: Run, qrels: Qrels,
                    facets: Mapping[str, str], coverage_config: CoverageConfig, method: str,
                    scoring: Callable[[], AbstractContextManager[object]] = nullcontext,
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(ir-measures records, coverage records) of a run given as (query ids, Run) chunks.

    ``scoring()`` wraps the work done per chunk (e.g. a stage timer); the search that produces
    the next chunk happens outside it.
    """
    measured, covered, seen = [], [], set()
    for query_ids, chunk in chunks:
        with scoring():
            seen.update(query_ids)
            measured.append(evaluator.evaluate(chunk, method, query_ids=query_ids))
            chunk_qrels = {qid: qrels[qid] for qid in query_ids if qid in qrels}
            covered.append(coverage(chunk, raw_run, chunk_qrels, facets, coverage_config, method))
    with scoring():
        rest = [qid for qid in qrels if qid not in seen]  # judged but not searched: 0 everywhere
        if rest or not measured:
            measured.append(evaluator.evaluate({}, method, query_ids=rest))
            covered.append(coverage({}, raw_run, {qid: qrels[qid] for qid in rest}, facets, coverage_config, method))
        return _in_query_order(measured), _in_query_order(covered)
