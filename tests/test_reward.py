"""The search-engine reward on a hand-made catalogue, with values computed by hand.

Catalogue: two sofas (brand Homely), two couches (brand Lounge), fillers. Training query t1 "sofa"
judges the couches Exact (grade 3, gain 1.0) and the sofas Substitute (grade 2, gain 0.1).

- raw "sofa" retrieves only the two sofas: DCG = 0.1 + 0.1/log2(3) and the ideal ranking is
  E, E, S, S, so nDCG@10 = 0.163093/1.723998 = 0.0946016;
- "sofa" + expansion "couch" (query repeated twice, so sofas stay on top) ranks S, S, E, E:
  DCG = 0.163093 + 1/log2(4) + 1/log2(5), nDCG@10 = 0.6344380, an improvement of 0.5398364;
  both Exact couches are new in the top 100, so NewRelShare@100 = 2/2 = 1.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from leser_bench.data.records import GainMapping, Product, Query
from leser_bench.evaluation import resolve
from leser_bench.retrieval import IndexConfig, Retriever, RetrieverConfig, build_index
from leser_bench.policy.rules import RuleChecker, RulesConfig
from leser_bench.training.reward import RewardConfig, RewardLeakError, SearchReward, completion_text

PRODUCTS = [
    Product(id="sofa1", title="Grey fabric sofa", description="three seat sofa for the living room", brand="Homely",
            product_type="sofa"),
    Product(id="sofa2", title="Leather sofa", description="brown leather sofa", brand="Homely", product_type="sofa"),
    Product(id="couch1", title="Velvet couch", description="a soft couch in green", brand="Lounge",
            product_type="couch"),
    Product(id="couch2", title="Corner couch", description="L-shaped couch", brand="Lounge", product_type="couch"),
    Product(id="shoe1", title="Running shoes", description="light trainers for running", brand="Fleet"),
] + [Product(id=f"filler{i}", title=f"kitchen item {i}", description="a pan or pot") for i in range(30)]

TRAIN = [Query("t1", "sofa"), Query("t2", "couch")]
QRELS = {"t1": {"couch1": 3, "couch2": 3, "sofa1": 2, "sofa2": 2}, "t2": {"couch1": 3, "couch2": 3}}

RAW = 0.1 * (1 + 1 / math.log2(3)) / (1 + 1 / math.log2(3) + 0.1 / 2 + 0.1 / math.log2(5))
EXPANDED = (0.1 * (1 + 1 / math.log2(3)) + 1 / 2 + 1 / math.log2(5)) / (1 + 1 / math.log2(3) + 0.1 / 2
                                                                         + 0.1 / math.log2(5))


@pytest.fixture(scope="module")
def retriever(cache_root: Path) -> Retriever:
    r = Retriever(build_index(PRODUCTS, IndexConfig(), cache_root), RetrieverConfig())
    yield r
    r.close()


def make_reward(retriever: Retriever, answer_prefix: str = "", **overrides: object) -> SearchReward:
    measure = resolve("nDCG@10", GainMapping.esci(), relevant_grade=3)
    rules = RuleChecker(RulesConfig(banned_terms=("cheap", "deals")))
    return SearchReward(RewardConfig.from_dict(overrides), retriever, TRAIN, QRELS, measure, PRODUCTS, rules,
                        relevant_grade=3, forbidden_ids=["test1"], answer_prefix=answer_prefix)


def test_hand_computed_values_are_what_we_expect() -> None:
    assert RAW == pytest.approx(0.0946016, abs=1e-7)
    assert EXPANDED == pytest.approx(0.6344380, abs=1e-7)


def test_valid_malformed_rule_breaking_and_empty_completions(retriever: Retriever) -> None:
    reward = make_reward(retriever)
    completions = [
        '["couch"]',                                        # valid
        "Sure: couch",                                      # malformed (salvaged), same expansion
        '["couch", "cheap sofa deals", "Homely sofa"]',     # banned terms + a brand not in the query
        "",                                                 # empty
        "[]",                                               # well-formed but nothing in it
    ]
    scored = reward.score(["t1"] * len(completions), completions)
    assert reward.stats["search_calls"] == 1 and reward.stats["searched"] == 1  # one expansion text, one search
    valid, malformed, breaking, empty, nothing = scored
    assert valid.components == pytest.approx({"relevance": EXPANDED - RAW, "coverage": 1.0, "compliance": 0.0,
                                              "format": 0.0}, abs=1e-6)
    assert valid.total(reward.config.weights) == pytest.approx(0.5398364 + 1.0, abs=1e-6)
    assert malformed.components == pytest.approx({"relevance": EXPANDED - RAW, "coverage": 1.0, "compliance": 0.0,
                                                   "format": -1.0}, abs=1e-6)
    assert malformed.violated and not valid.violated
    assert breaking.kept == ("couch",)
    assert breaking.violations["banned_term"] == 1 and breaking.violations["brand_hijack"] == 1
    assert breaking.components == pytest.approx({"relevance": EXPANDED - RAW, "coverage": 1.0, "compliance": -2.0,
                                                  "format": 0.0}, abs=1e-6)
    assert breaking.total(reward.config.weights) == pytest.approx(0.5398364 + 1.0 - 0.5, abs=1e-6)
    assert empty.fell_back and empty.kept == ()
    assert empty.components == {"relevance": 0.0, "coverage": 0.0, "compliance": -1.0, "format": -1.0}
    assert empty.total(reward.config.weights) == pytest.approx(-0.5)
    assert nothing.components == {"relevance": 0.0, "coverage": 0.0, "compliance": -1.0, "format": 0.0}


def test_plain_measure_without_improvement_and_a_neutral_expansion(retriever: Retriever) -> None:
    reward = make_reward(retriever, improvement=False)
    plain, neutral = reward.score(["t1", "t2"], ['["couch"]', '["sofa for the living room"]'])
    assert plain.components["relevance"] == pytest.approx(EXPANDED, abs=1e-6)
    # "couch" already ranks both couches first (nDCG 1); the sofas added below them change nothing
    assert neutral.components["relevance"] == pytest.approx(1.0)
    assert neutral.components["coverage"] == 0.0
    assert reward.raw_value("t2") == pytest.approx(1.0)


def test_cache_repeated_completions_cost_no_search(retriever: Retriever) -> None:
    reward = make_reward(retriever)
    reward.score(["t1", "t1"], ['["couch"]', '["couch", "cheap"]'])   # same kept texts -> one search
    assert (reward.stats["search_calls"], reward.stats["searched"]) == (1, 1)
    reward.score(["t1", "t2"], ['["couch"]', '["sofa"]'])             # new: only (t2, sofa) is searched
    assert (reward.stats["search_calls"], reward.stats["searched"]) == (2, 2)
    reward.score(["t2", "t1"], ['  ["sofa"]', 'Sure: couch'])          # different text, cached expansions
    assert (reward.stats["search_calls"], reward.stats["searched"]) == (2, 2)


def test_trl_callables_log_each_component_and_the_violation_rate(retriever: Retriever) -> None:
    reward = make_reward(retriever, weights={"coverage": 0.0})
    funcs = reward.callables()
    assert [f.__name__ for f in funcs] == ["relevance", "compliance", "format"]
    assert reward.weights() == [1.0, 0.25, 0.25]
    logged: dict[str, float] = {}
    completions = [[{"role": "assistant", "content": '["couch"]'}], [{"role": "assistant", "content": ""}]]
    prompts = [[{"role": "user", "content": "x"}]] * 2
    values = [f(prompts=prompts, completions=completions, query_id=["t1", "t1"], query=["sofa", "sofa"],
                log_metric=lambda name, value: logged.__setitem__(name, value)) for f in funcs]
    assert values[0] == pytest.approx([EXPANDED - RAW, 0.0], abs=1e-6)
    assert values[1:] == [[0.0, -1.0], [0.0, -1.0]]
    assert logged["violation_rate"] == 0.5 and logged["fallback_rate"] == 0.5
    assert reward.stats["batches"] == 1  # the other two callables reused the first one's scores
    assert completion_text([{"role": "assistant", "content": "a"}, {"content": "b"}]) == "ab"


def test_answer_prefix_is_parsed_as_part_of_the_completion(retriever: Retriever) -> None:
    reward = make_reward(retriever, answer_prefix='["')
    continued, broken = reward.score(["t1", "t1"], ['couch"]', 'couch", "sofa", "sofa", "sofa'])
    assert continued.kept == ("couch",) and continued.format_ok
    assert continued.components["relevance"] == pytest.approx(EXPANDED - RAW, abs=1e-6)
    # a truncated list: the complete literals are salvaged ("couch", "sofa", "sofa"; the cut one is lost)
    assert not broken.format_ok and broken.violations["near_duplicate_query"] == 2


def test_held_out_queries_never_reach_the_reward(retriever: Retriever) -> None:
    reward = make_reward(retriever)
    with pytest.raises(RewardLeakError, match="test1"):
        reward.score(["test1"], ['["couch"]'])
    with pytest.raises(RewardLeakError, match="held-out"):
        SearchReward(RewardConfig(), retriever, TRAIN, QRELS, resolve("nDCG@10", GainMapping.esci(), 3), PRODUCTS,
                     RuleChecker(), relevant_grade=3, forbidden_ids=["t2"])
    with pytest.raises(ValueError, match="unknown reward config keys"):
        RewardConfig.from_dict({"wieghts": {}})


# --- reward designs (issue 15): hand-computed on the same catalogue --------------------------------
#: "couch" ranks the two Exact couches 3rd and 4th; the raw "sofa" retrieves neither.
RANK_CREDIT = (1 / math.log2(4) + 1 / math.log2(5)) / 2


def test_rank_credit_counts_every_relevant_product_by_its_rank() -> None:
    from leser_bench.training.reward_designs import rank_credit

    judged = {"a": 3, "b": 3, "c": 2}
    assert rank_credit({"x": 3.0, "a": 2.0, "b": 1.0}, judged, 3, 100) == pytest.approx(
        (1 / math.log2(3) + 1 / math.log2(4)) / 2)
    assert rank_credit({"x": 3.0, "a": 2.0, "b": 1.0}, judged, 3, 2) == pytest.approx(1 / math.log2(3) / 2)  # depth
    assert rank_credit({"c": 1.0}, judged, 3, 100) == 0.0  # grade 2 is below the relevant grade
    assert rank_credit({"a": 1.0}, {"a": 1}, 3, 100) == 0.0  # no relevant product: no credit


def test_rank_design_rewards_the_rank_of_the_relevant_products(retriever: Retriever) -> None:
    reward = make_reward(retriever, relevance="rank")
    expanded, empty = reward.score(["t1", "t1"], ['["couch"]', ""])
    assert reward.raw_value("t1") == 0.0
    assert expanded.components["relevance"] == pytest.approx(RANK_CREDIT, abs=1e-9)
    assert empty.components["relevance"] == 0.0  # the fallback is the raw query: no improvement


def test_tiers_map_the_relevance_value(retriever: Retriever) -> None:
    reward = make_reward(retriever, tiers=[[0.5, 1.0], [0.1, 0.5]], tier_floor=-1.0)
    expanded, empty = reward.score(["t1", "t1"], ['["couch"]', ""])
    assert expanded.components["relevance"] == 1.0  # nDCG@10 improvement 0.54 >= 0.5
    assert empty.components["relevance"] == -1.0  # improvement 0 is below every tier
    rank = make_reward(retriever, relevance="rank", tiers=[[0.5, 1.0], [0.1, 0.5]], tier_floor=-1.0)
    assert rank.score(["t1"], ['["couch"]'])[0].components["relevance"] == 0.5  # 0.465 reaches the 0.1 tier


@pytest.mark.parametrize(("overrides", "message"), [
    ({"relevance": "recall"}, "reward.relevance='recall'; allowed"),
    ({"tiers": [[0.1, 1.0], [0.5, 2.0]]}, "thresholds must decrease strictly"),
    ({"tiers": [[0.1]]}, "is not a \\[threshold, reward\\] pair"),
])
def test_impossible_reward_designs_are_refused(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RewardConfig.from_dict(overrides)
