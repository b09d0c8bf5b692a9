"""The harness's own per-query measures of an expansion, in the same tidy shape as ir-measures'.

Definitions (``K`` = ``CoverageConfig.k``; *relevant* = grade >= ``relevant_grade``):

- ``NewRel@K``: number of relevant products in the expanded run's top-K that are **not** in the
  raw query's top-K (what the expansion found that the query alone did not).
- ``NewRelShare@K``: ``NewRel@K`` divided by the number of relevant products of the query
  (0 when it has none).
- ``IntentCov@K``: of the distinct facet values (product type by default, or e.g. brand) of the
  query's relevant products, the share that has at least one *relevant* product in the top-K.
  A query with no relevant product, or whose relevant products carry no facet value, is not scored.
- ``Violated``: 1 if the method's output broke at least one platform rule, else 0 (its mean is the
  violation rate); ``Violations:<rule>``: 1 if that rule was broken; ``FellBack``: 1 if the
  rules made the query fall back to the original text.
- ``Tokens``: generated tokens; ``Seconds``: wall time spent producing the expansion.

Worked example (tests/test_expansion_metrics.py): relevant {a, b, c} with types {sofa, sofa,
couch}; raw top-2 = [a, x]; expanded top-2 = [c, a] gives NewRel@2 = 1 (c), NewRelShare@2 = 1/3,
IntentCov@2 = 2/2 (sofa via a, couch via c); the raw run's IntentCov@2 is 1/2.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from leser_bench.data.records import Qrels
from leser_bench.evaluation.evaluator import PER_QUERY_COLUMNS
from leser_bench.expansion import Expansion
from leser_bench.retrieval.retriever import Run
from leser_bench.io.trec import ranked


@dataclass(frozen=True)
class CoverageConfig:
    k: int = 100
    relevant_grade: int = 3
    #: Product attribute used for intent coverage.
    facet: str = "product_type"

    def __post_init__(self) -> None:
        if self.k <= 0:
            raise ValueError(f"coverage.k must be > 0, got {self.k}")


def top_k(docs: Mapping[str, float], k: int) -> list[str]:
    return [docid for docid, _ in ranked(dict(docs))[:k]]


def coverage(run: Run, raw_run: Run, qrels: Qrels, facets: Mapping[str, str], config: CoverageConfig,
             method: str) -> pd.DataFrame:
    """NewRel@K, NewRelShare@K and IntentCov@K per judged query."""
    k = config.k
    rows = []
    for qid in sorted(qrels):
        relevant = {pid for pid, grade in qrels[qid].items() if grade >= config.relevant_grade}
        top = top_k(run.get(qid, {}), k)
        raw_top = set(top_k(raw_run.get(qid, {}), k))
        new = [pid for pid in top if pid in relevant and pid not in raw_top]
        rows.append((method, qid, f"NewRel@{k}", float(len(new))))
        rows.append((method, qid, f"NewRelShare@{k}", len(new) / len(relevant) if relevant else 0.0))
        intents = {facets.get(pid, "") for pid in relevant} - {""}
        if intents:
            found = {facets.get(pid, "") for pid in top if pid in relevant} - {""}
            rows.append((method, qid, f"IntentCov@{k}", len(found & intents) / len(intents)))
    return pd.DataFrame(rows, columns=PER_QUERY_COLUMNS)


def rule_metrics(expansions: Sequence[Expansion], rule_names: Sequence[str], method: str) -> pd.DataFrame:
    """Violated, Violations:<rule> for every configured rule, and FellBack, per query."""
    rows = []
    for e in expansions:
        broken = {rule for rule, count in e.violations.items() if count > 0}
        rows.append((method, e.query_id, "Violated", float(bool(broken))))
        for rule in sorted(set(rule_names) | broken):
            rows.append((method, e.query_id, f"Violations:{rule}", float(rule in broken)))
        rows.append((method, e.query_id, "FellBack", float(e.fell_back)))
    return pd.DataFrame(rows, columns=PER_QUERY_COLUMNS)


def cost_metrics(expansions: Sequence[Expansion], method: str) -> pd.DataFrame:
    rows = []
    for e in expansions:
        rows.append((method, e.query_id, "Tokens", float(e.generated_tokens)))
        rows.append((method, e.query_id, "Seconds", float(e.seconds)))
    return pd.DataFrame(rows, columns=PER_QUERY_COLUMNS)
