"""10,000 hostile model outputs through parse -> rules -> retrieval -> metrics, with no exception."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leser_bench.data.records import GainMapping, Product, Query
from leser_bench.evaluation import evaluate, resolve_all
from leser_bench.evaluation.expansion_metrics import CoverageConfig, coverage, rule_metrics
from leser_bench.expansion import Expansion
from leser_bench.retrieval import IndexConfig, Retriever, build_index
from leser_bench.policy.rules import RuleChecker, RulesConfig, expansion_from_output

BATCH = 100
BATCHES = 100  # 10,000 strings

PRODUCTS = [Product(id=f"p{i}", title=f"{w} sofa {i}", description="couch settee loveseat", brand="Acme",
                    product_type="sofa") for i, w in enumerate(["red", "blue", "grey", "green"] * 5)]
QRELS = {f"q{i}": {"p0": 3, "p1": 2, "p2": 1} for i in range(BATCH)}

lucene_syntax = st.sampled_from(['title:sofa', 'AND', 'OR NOT', '"unclosed', 'sofa~2', 'couch^100', '[a TO z]',
                                 '/re.*x/', '\\', '*', '?', '(((', '+-&&||!', 'field:"x y"~3'])
confusables = st.sampled_from(["ѕofа", "ꜱofa", "ｓｏｆａ", "s\u200bofa", "\u202esofa", "😀", "\ufffd", "ß", "İ"])
json_fragments = st.sampled_from(['[', ']', '["a", ', '{"expansions": [', '"', '\\"', 'null', '[1, 2.5, true]',
                                  '{"a": {"b": []}}', '<think>', '</think>', '```json', '```'])
pieces = st.one_of(st.text(max_size=40), lucene_syntax, confusables, json_fragments,
                   st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=31), max_size=10),
                   st.text(alphabet="sofa couch red", max_size=60))
hostile = st.one_of(
    st.lists(pieces, max_size=12).map(" ".join),
    st.lists(pieces, max_size=6).map(json.dumps),
    st.integers(1, 20_000).map(lambda n: ("sofa " * n)[:20_000]),
    st.just("x" * 20_000),
    st.text(max_size=300),
)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):
    index = build_index(PRODUCTS, IndexConfig(), tmp_path_factory.mktemp("fuzz_index"))
    retriever = Retriever(index)
    measures, _ = resolve_all(["nDCG@10", "R@100"], GainMapping.esci(), 3, k=100)
    yield retriever, measures, RuleChecker(RulesConfig()), {p.id: p.product_type for p in PRODUCTS}
    retriever.close()


@pytest.mark.slow
@settings(max_examples=BATCHES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(outputs=st.lists(hostile, min_size=BATCH, max_size=BATCH), queries=st.lists(hostile, min_size=BATCH,
                                                                                   max_size=BATCH))
def test_hostile_outputs_never_raise(setup, outputs: list[str], queries: list[str]) -> None:
    retriever, measures, checker, facets = setup
    expansions = [
        expansion_from_output(Expansion(query=Query(f"q{i}", q)), out, checker, brands=["Acme"])
        for i, (q, out) in enumerate(zip(queries, outputs, strict=True))
    ]
    run = retriever.search(expansions, k=100)
    assert set(run) == set(QRELS)
    per_query = evaluate(run, QRELS, measures, "fuzz")
    assert len(per_query) == BATCH * len(measures)
    assert per_query.value.between(0, 1).all()
    cov = coverage(run, run, QRELS, facets, CoverageConfig(k=100), "fuzz")
    assert (cov[cov.measure == "NewRel@100"].value == 0).all()  # a run adds nothing to itself
    rules = rule_metrics(expansions, RulesConfig().active_rules(), "fuzz")
    assert rules.value.isin([0.0, 1.0]).all()
