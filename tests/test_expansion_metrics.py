"""Coverage, rule and cost measures, checked against hand-computed values."""

from __future__ import annotations

import pytest

from leser_bench.data.records import Query
from leser_bench.evaluation.expansion_metrics import CoverageConfig, cost_metrics, coverage, rule_metrics
from leser_bench.expansion import Expansion

QRELS = {"q": {"a": 3, "b": 3, "c": 3, "x": 0, "s": 2}, "none": {"x": 0}}
FACETS = {"a": "sofa", "b": "sofa", "c": "couch", "x": "sofa", "s": "armchair"}
RAW = {"q": {"a": 2.0, "x": 1.0, "b": 0.5}}
EXPANDED = {"q": {"c": 3.0, "a": 2.0, "b": 0.1}}


def values(frame, qid="q"):
    return frame[frame.query_id == qid].set_index("measure").value.to_dict()


def test_worked_example_from_the_docs() -> None:
    got = values(coverage(EXPANDED, RAW, QRELS, FACETS, CoverageConfig(k=2), "m"))
    assert got == {"NewRel@2": 1.0, "NewRelShare@2": pytest.approx(1 / 3), "IntentCov@2": 1.0}
    raw = values(coverage(RAW, RAW, QRELS, FACETS, CoverageConfig(k=2), "raw"))
    assert raw == {"NewRel@2": 0.0, "NewRelShare@2": 0.0, "IntentCov@2": 0.5}


def test_deeper_cutoff_and_lower_relevance_threshold() -> None:
    got = values(coverage(EXPANDED, RAW, QRELS, FACETS, CoverageConfig(k=3, relevant_grade=2), "m"))
    # raw top-3 = {a, x, b}; expanded top-3 = {c, a, b}; relevant (>=2) = {a, b, c, s}
    assert got["NewRel@3"] == 1.0
    assert got["NewRelShare@3"] == pytest.approx(1 / 4)
    assert got["IntentCov@3"] == pytest.approx(2 / 3)  # sofa, couch of {sofa, couch, armchair}


def test_query_without_relevant_products_has_no_intent_coverage() -> None:
    got = values(coverage(EXPANDED, RAW, QRELS, FACETS, CoverageConfig(k=2), "m"), "none")
    assert got == {"NewRel@2": 0.0, "NewRelShare@2": 0.0}


def test_rule_and_cost_metrics() -> None:
    exps = [
        Expansion(query=Query("q1", "sofa"), violations={"banned_terms": 2}, generated_tokens=12, seconds=0.5),
        Expansion(query=Query("q2", "couch"), violations={"max_words": 0}, fell_back=True),
    ]
    rules = rule_metrics(exps, ["banned_terms", "max_words"], "m")
    assert values(rules, "q1") == {"Violated": 1.0, "Violations:banned_terms": 1.0, "Violations:max_words": 0.0,
                                   "FellBack": 0.0}
    assert values(rules, "q2") == {"Violated": 0.0, "Violations:banned_terms": 0.0, "Violations:max_words": 0.0,
                                   "FellBack": 1.0}
    costs = cost_metrics(exps, "m")
    assert values(costs, "q1") == {"Tokens": 12.0, "Seconds": 0.5}


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError, match="coverage.k"):
        CoverageConfig(k=0)
