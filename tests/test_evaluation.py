"""Measures resolved against grades/gains, and the evaluator's trec_eval semantics."""

from __future__ import annotations

import math

import ir_measures
import pandas as pd
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


def test_rr_at_k_follows_trec_eval_ties_like_every_other_measure() -> None:
    # a and b tie; trec_eval ranks tied products by descending id, so b is first and a (relevant) second
    qrels, run = {"q": {"a": 1}}, {"q": {"a": 1.0, "b": 1.0}}
    measures, _ = resolve_all(["RR@1", "RR@10", "P@1", "RR"], GainMapping.binary(), 1, k=100)
    values = evaluate(run, qrels, measures, "m").set_index("measure").value
    assert values["P@1"] == 0.0
    assert values["RR@1"] == 0.0  # consistent with P@1 (MS MARCO's script would say 1.0 here)
    assert values["RR@10"] == 0.5
    assert values["RR"] == 0.5


def _random_case(seed: int, ties: bool) -> tuple[dict, dict]:
    import random

    rng = random.Random(seed)
    qrels = {f"q{i}": {f"d{rng.randrange(60)}": rng.randrange(4) for _ in range(8)} for i in range(40)}
    run = {}
    for qid in list(qrels)[:35]:
        docs = rng.sample(range(60), 30)
        run[qid] = {f"d{d}": float(rng.randrange(5) if ties else rng.random()) for d in docs}
    run["unjudged"] = {"d1": 1.0}
    return qrels, run


def test_rr_at_k_equals_ir_measures_without_ties() -> None:
    qrels, run = _random_case(1, ties=False)
    for name in ["RR@5", "RR(rel=2)@10"]:
        m = resolve(name, GainMapping.esci(), 3)
        ours = evaluate(run, qrels, [m], "m").set_index("query_id").value
        theirs = {r.query_id: r.value for r in ir_measures.iter_calc([m.measure], qrels, run)}
        assert {q: ours[q] for q in theirs} == pytest.approx(theirs)


def test_evaluator_equals_public_ir_measures_with_defaults() -> None:
    """The evaluator reads ir-measures' providers directly; the result must equal the public iter_calc."""
    qrels, run = _random_case(2, ties=True)
    names = ["nDCG@10", "R@20", "P@5", "AP", "Judged@10", "nDCG"]
    measures, _ = resolve_all(names, GainMapping.esci(), 3, k=100)
    ours = evaluate(run, qrels, measures, "m").set_index(["query_id", "measure"]).value
    judged = {q: d for q, d in run.items() if q in qrels}
    theirs = {(r.query_id, str(r.measure)): r.value for r in ir_measures.iter_calc([m.measure for m in measures], qrels, judged)}
    assert len(ours) == len(qrels) * len(names)
    for m in measures:
        for qid in qrels:
            assert ours[(qid, m.name)] == pytest.approx(theirs[(qid, str(m.measure))]), (qid, m.name)


def test_evaluate_many_in_parallel_equals_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from leser_bench.evaluation import evaluate_many, evaluator

    qrels, run_a = _random_case(3, ties=True)
    _, run_b = _random_case(4, ties=False)
    measures, _ = resolve_all(["nDCG@10", "R@20", "RR@10"], GainMapping.esci(), 3, k=100)
    runs = {"a": run_a, "b": run_b, "c": run_a}
    monkeypatch.setattr(evaluator, "PARALLEL_MIN_ENTRIES", 1)
    parallel = evaluate_many(runs, qrels, measures, workers=2)
    serial = pd.concat([evaluate(run, qrels, measures, name) for name, run in runs.items()], ignore_index=True)
    pd.testing.assert_frame_equal(parallel, serial)
    assert list(parallel.method.unique()) == ["a", "b", "c"]
