"""From runs and qrels to result pages: top-``depth`` doc ids and their grades per query."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

Run = Mapping[str, Mapping[str, float]]
Qrels = Mapping[str, Mapping[str, int]]


def top_docs(run: Run, qid: str, depth: int) -> list[str]:
    """The first ``depth`` doc ids of a query by score (ties broken by doc id, for determinism)."""
    scores = run.get(qid, {})
    return [d for d, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:depth]]


def page_grades(run: Run, qrels: Qrels, qids: Sequence[str], depth: int) -> np.ndarray:
    """(len(qids), depth) int array of grades shown per query.

    Unjudged results count as grade 0, negative grades (TREC junk labels) as 0, and slots the
    run did not fill (query missing from the run, or fewer results than ``depth``) as -1.
    """
    out = np.full((len(qids), depth), -1, dtype=np.int64)
    for i, qid in enumerate(qids):
        judged = qrels.get(qid, {})
        docs = top_docs(run, qid, depth)
        out[i, : len(docs)] = [max(0, int(judged.get(d, 0))) for d in docs]
    return out


def max_grade(qrels: Qrels) -> int:
    grades = [g for docs in qrels.values() for g in docs.values()]
    return max(1, max(grades, default=1))
