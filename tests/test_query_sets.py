"""The main table's evaluation set: a seeded sample stratified by query length and head/tail."""

from __future__ import annotations

from collections import Counter

import pytest

from leser_bench.data.records import Query, Split
from leser_bench.data.world.products import largest_remainder
from leser_bench.evaluation.query_sets import length_bin, query_sets, restrict, stratum_of


def make_split(n: int) -> Split:
    # lengths cycle 1..5 words; query i has i % 7 + 1 judgments
    queries = [Query(f"q{i:03d}", " ".join(["w"] * (i % 5 + 1))) for i in range(n)]
    qrels = {q.id: {f"p{j}": 3 for j in range(i % 7 + 1)} for i, q in enumerate(queries)}
    return Split("test", queries, qrels)


def test_largest_remainder_sums_and_is_proportional() -> None:
    assert largest_remainder([50, 30, 20], 10) == [5, 3, 2]
    assert largest_remainder([1, 1, 1], 2) == [1, 1, 0]  # ties to the first
    assert sum(largest_remainder([7, 13, 2, 9], 17)) == 17
    assert largest_remainder([0, 0], 3) == [0, 0]


def test_length_bins() -> None:
    assert [length_bin(t) for t in ("a", "a b", "a b c", "a b c d", "a b c d e f")] == \
        ["1 word", "2 words", "3 words", "4+ words", "4+ words"]


def test_sample_is_seeded_stratified_and_in_split_order() -> None:
    split = make_split(200)
    sets = query_sets(split, 50, seed=3)
    assert sets.sampled and len(sets.main_ids) == 50 and len(sets.all_ids) == 200
    assert query_sets(split, 50, seed=3) == sets  # same seed, same sample
    assert query_sets(split, 50, seed=4).main_ids != sets.main_ids
    order = {q.id: i for i, q in enumerate(split.queries)}
    assert [order[i] for i in sets.main_ids] == sorted(order[i] for i in sets.main_ids)
    # every stratum keeps its share of the split (largest remainder: within one query)
    median = 4  # judgments are 1..7, evenly
    population = Counter(stratum_of(q, split.qrels, median) for q in split.queries)
    drawn = Counter(stratum_of(q, split.qrels, median) for q in split.queries if q.id in set(sets.main_ids))
    for name, count in population.items():
        assert abs(drawn[name] - count * 50 / 200) < 1.0, name
    assert {name: n for name, (n, _) in sets.strata.items()} == dict(population)
    assert sum(k for _, k in sets.strata.values()) == 50


def test_whole_split_when_the_budget_covers_it() -> None:
    split = make_split(30)
    for size in (None, 30, 100):
        sets = query_sets(split, size, seed=0)
        assert not sets.sampled and sets.main_ids == sets.all_ids
        assert "all 30 queries" in sets.describe_main()
    with pytest.raises(ValueError, match="budget.llm_queries"):
        query_sets(split, 0, seed=0)


def test_restrict_keeps_judgments_of_the_chosen_queries() -> None:
    split = make_split(10)
    part = restrict(split, ["q003", "q001"])
    assert [q.id for q in part.queries] == ["q001", "q003"]
    assert set(part.qrels) == {"q001", "q003"} and part.qrels["q003"] == split.qrels["q003"]
