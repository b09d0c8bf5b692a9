"""Measures resolved against grades/gains, and the evaluator's trec_eval semantics."""

from __future__ import annotations

import math

import ir_measures
import pytest

from leser_bench.data.records import GainMapping
from leser_bench.evaluation import MeasureError, aggregate, evaluate, resolve, resolve_all
from leser_bench.evaluation.measures import integer_gains

QRELS = {"q1": {"a": 3, "b": 2, "c": 1, "d": 0}, "q2": {"a": 3}, "q3": {"e": 3}}
RUN = {"q1": {"b": 3.0, "a": 2.0, "c": 1.0, "x": 0.5}, "q2": {"z": 1.0}}


def test_integer_gains_scale_by_power_of_ten() -> None:
    assert integer_gains({3: 1.0, 2: 0.1, 1: 0.01, 0: 0.0}) == {3: 100, 2: 10, 1: 1, 0: 0}
    assert integer_gains({1: 1.0, 0: 0.0}) == {1: 1, 0: 0}
    with pytest.raises(MeasureError):
        integer_gains({1: 1 / 3})


def test_esci_ndcg_uses_gains_by_hand() -> None:
    ndcg = resolve("nDCG@10", GainMapping.esci(), relevant_grade=3)
    frame = evaluate(RUN, QRELS, [ndcg], method="m")
    value = frame.set_index("query_id").loc["q1", "value"]
    dcg = 0.1 / math.log2(2) + 1.0 / math.log2(3) + 0.01 / math.log2(4)
    idcg = 1.0 / math.log2(2) + 0.1 / math.log2(3) + 0.01 / math.log2(4)
    assert value == pytest.approx(dcg / idcg, abs=1e-9)


def test_binary_measures_use_relevant_grade() -> None:
    recall = resolve("R@100", GainMapping.esci(), relevant_grade=3)
    assert str(recall.measure) == "R(rel=3)@100"
    loose = resolve("R@100", GainMapping.esci(), relevant_grade=1)
    strict_frame = evaluate(RUN, QRELS, [recall], "m").set_index("query_id")
    loose_frame = evaluate(RUN, QRELS, [loose], "m").set_index("query_id")
    assert strict_frame.loc["q1", "value"] == 1.0  # the one Exact product is found
    assert loose_frame.loc["q1", "value"] == 1.0  # a, b, c all found
    explicit = resolve("R(rel=2)@100", GainMapping.esci(), relevant_grade=3)
    assert str(explicit.measure) == "R(rel=2)@100"


def test_missing_queries_count_as_zero_and_unjudged_are_ignored() -> None:
    measures, _ = resolve_all(["nDCG@10", "R@100"], GainMapping.esci(), 3, k=100)
    run = dict(RUN, unjudged={"a": 1.0})
    frame = evaluate(run, QRELS, measures, "m")
    assert set(frame.query_id) == {"q1", "q2", "q3"}
    assert (frame[frame.query_id == "q3"].value == 0).all()  # no results at all
    assert (frame[frame.query_id == "q2"].value == 0).all()  # results, none relevant
    # the aggregate equals ir-measures' own aggregate, which also averages over every judged query
    agg = aggregate(frame).loc["m"]
    direct = ir_measures.calc_aggregate([m.measure for m in measures], QRELS, RUN)
    per_query_q1 = frame[frame.query_id == "q1"].set_index("measure").value
    for m in measures:
        assert agg[m.name] == pytest.approx(direct[m.measure])
        assert agg[m.name] == pytest.approx(per_query_q1[m.name] / 3)


def test_cutoff_beyond_depth_is_dropped_with_a_note() -> None:
    measures, notes = resolve_all(["R@100", "R@1000"], GainMapping.binary(), 1, k=100)
    assert [m.name for m in measures] == ["R@100"]
    assert "R@1000" in notes[0]


def test_unknown_measure_names_the_known_ones() -> None:
    with pytest.raises(MeasureError, match="nDGC.*known measure families.*nDCG"):
        resolve("nDGC@10", GainMapping.binary(), 1)
