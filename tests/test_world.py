"""The embedded world: determinism, sizes, referential integrity, label semantics, difficulty."""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import asdict

import pytest

from leser_bench.data.loading import load_dataset
from leser_bench.data.records import ESCI_GRADES, Dataset, DataError
from leser_bench.data.world import KINDS, WorldConfig, generate_world
from leser_bench.data.world.taxonomy import all_types

#: digest() of the default world (seed 13). Every knob added to WorldConfig must leave it as it is
#: (a knob at its default draws nothing); change this only for a deliberate change of the default world.
DEFAULT_WORLD_DIGEST = "41bb5d04e4d8027ab408d3dbcc0b077a472410845c9d206599b279e1262820e6"


def digest(dataset: Dataset) -> str:
    """sha256 of a canonical JSON dump of products, queries (with meta) and qrels."""
    payload = {
        "products": [asdict(p) for p in dataset.products],
        "splits": {
            name: {
                "queries": [{"id": q.id, "text": q.text, "meta": dict(q.meta)} for q in split.queries],
                "qrels": split.qrels,
            }
            for name, split in sorted(dataset.splits.items())
        },
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@pytest.fixture(scope="module")
def world() -> Dataset:
    return generate_world(WorldConfig())


def test_same_seed_gives_identical_data_and_other_seed_differs(world: Dataset) -> None:
    assert digest(world) == DEFAULT_WORLD_DIGEST
    assert digest(generate_world(WorldConfig(seed=13))) == digest(world)
    other = generate_world(WorldConfig(seed=14))
    assert digest(other) != digest(world)
    assert [p.title for p in other.products[:50]] != [p.title for p in world.products[:50]]


def test_test_split_does_not_depend_on_train_size(world: Dataset) -> None:
    smaller = generate_world(WorldConfig(n_train=100))
    def ids_and_texts(dataset: Dataset) -> list[tuple[str, str]]:
        return [(q.id, q.text) for q in dataset.split("test").queries]

    assert ids_and_texts(smaller) == ids_and_texts(world)
    assert smaller.split("test").qrels == world.split("test").qrels


def test_default_sizes_and_generated_flag(world: Dataset) -> None:
    assert world.generated is True and "GENERATED" in world.description
    assert len(world.products) == 6000 >= 5000
    assert len(world.split("train").queries) == 500 >= 400
    assert len(world.split("test").queries) == 250 >= 200
    assert "valid" not in world.splits
    assert world.gains.gain_of_grade() == {3: 1.0, 2: 0.1, 1: 0.01, 0: 0.0}
    with_valid = generate_world(WorldConfig(n_products=1000, n_train=60, n_test=40, n_valid=30))
    assert {name: len(s.queries) for name, s in with_valid.splits.items()} == {"test": 40, "train": 60, "valid": 30}


def test_generation_is_fast() -> None:
    start = time.perf_counter()
    generate_world(WorldConfig(seed=3))
    assert time.perf_counter() - start < 5.0


def test_ids_unique_and_qrels_point_at_existing_products_and_queries(world: Dataset) -> None:
    product_ids = [p.id for p in world.products]
    assert len(set(product_ids)) == len(product_ids)
    all_qids = [q.id for s in world.splits.values() for q in s.queries]
    assert len(set(all_qids)) == len(all_qids)
    texts = [q.text for s in world.splits.values() for q in s.queries]
    assert len(set(texts)) == len(texts), "a query text is repeated (across splits)"
    known = set(product_ids)
    for split in world.splits.values():
        assert set(split.qrels) == {q.id for q in split.queries}
        for qid, docs in split.qrels.items():
            assert set(docs) <= known, qid
            assert set(docs.values()) <= set(ESCI_GRADES.values()), qid
            assert ESCI_GRADES["E"] in docs.values(), f"{qid} has no Exact product"
            assert 5 <= len(docs) <= 60, f"{qid}: pool of {len(docs)} judgments"


def test_every_query_kind_in_every_split(world: Dataset) -> None:
    """Every kind with a weight; model-number queries are the ESCI profile's (default weight 0)."""
    weighted = {kind for kind, w in zip(KINDS, WorldConfig().kind_weights, strict=True) if w > 0}
    assert weighted == set(KINDS) - {"model"}
    for split in world.splits.values():
        assert {q.meta["kind"] for q in split.queries} == weighted, split.name


def test_query_meta_and_product_types(world: Dataset) -> None:
    types = all_types()
    assert 30 <= len(types) <= 60
    assert all(p.product_type in types for p in world.products)
    for split in world.splits.values():
        for query in split.queries:
            meta = query.meta
            assert meta["product_types"] and set(meta["product_types"]) <= set(types), query.id
            expected = [n for key in meta["product_types"] for n in types[key].names]
            assert meta["oracle_terms"] == list(dict.fromkeys(expected)), query.id
            json.dumps(dict(meta))  # meta is plain JSON data


def test_labels_follow_esci_semantics(world: Dataset) -> None:
    products = world.product_index()
    types = all_types()
    for query in world.split("test").queries:
        intended = set(query.meta["product_types"])
        related = intended | {s for k in intended for s in types[k].substitutes}
        for pid, grade in world.split("test").qrels[query.id].items():
            ptype = products[pid].product_type
            if grade == ESCI_GRADES["E"]:
                assert ptype in intended, (query.id, pid)
            elif grade == ESCI_GRADES["S"]:
                assert ptype in related, (query.id, pid)
            elif grade == ESCI_GRADES["I"]:
                assert ptype not in related, (query.id, pid)
        if query.meta["kind"] == "attribute" and "color" in query.meta["intents"][0]:
            colour = query.meta["intents"][0]["color"]
            exact = [pid for pid, g in world.split("test").qrels[query.id].items() if g == ESCI_GRADES["E"]]
            assert all(products[pid].color == colour for pid in exact), query.id


def test_synonyms_make_titles_miss_the_query_name(world: Dataset) -> None:
    """Each title names its type by one surface name; many Exact titles use another one."""
    types = all_types()
    for product in world.products[:500]:
        title = product.title.lower()
        assert any(name in title for name in types[product.product_type].names), product.title
    products = world.product_index()
    missing = total = 0
    for split in world.splits.values():
        for query in split.queries:
            if query.meta["kind"] not in ("type", "attribute"):
                continue
            names = [n for n in query.meta["oracle_terms"] if re.search(rf"\b{re.escape(n)}\b", query.text)]
            name = max(names, key=len)
            for pid, grade in split.qrels[query.id].items():
                if grade == ESCI_GRADES["E"]:
                    total += 1
                    missing += name not in products[pid].title.lower()
    assert total > 500 and missing / total > 0.5


def test_misspellings_edit_the_type_word(world: Dataset) -> None:
    queries = [q for q in world.split("train").queries if q.meta["kind"] == "misspelling"]
    assert queries
    for query in queries:
        typo, correct = query.meta["typo"], query.meta["correct"]
        assert typo != correct and re.search(rf"\b{re.escape(typo)}\b", query.text)
        assert not re.search(rf"\b{re.escape(correct)}\b", query.text)


def test_bad_config_is_rejected_with_a_clear_message() -> None:
    with pytest.raises(DataError, match="kind_weights"):
        WorldConfig(kind_weights=(1.0, 2.0))
    with pytest.raises(DataError, match="n_products"):
        WorldConfig(n_products=10)
    with pytest.raises(DataError, match="desc_synonym_p"):
        WorldConfig(desc_synonym_p=1.5)
    with pytest.raises(DataError, match="duplicate_p"):
        WorldConfig(duplicate_p=-0.1)
    with pytest.raises(DataError, match="pool='top'.*allowed"):
        WorldConfig(pool="top")
    with pytest.raises(DataError, match="label_shares"):
        WorldConfig(label_shares=(0.7, 0.3))
    with pytest.raises(DataError, match="semantic_p"):
        WorldConfig(semantic_p=0.8)
    with pytest.raises(DataError, match="judged_depth"):
        WorldConfig(judged_depth=41)
    with pytest.raises(DataError, match="name"):
        WorldConfig(name="a/b")
    with pytest.raises(DataError, match="model_number_p"):
        WorldConfig(kind_weights=(1.0,) * 8)


def test_loads_through_the_dataset_config() -> None:
    dataset = load_dataset({"source": "world", "seed": 5, "n_products": 800, "n_train": 40, "n_test": 30})
    assert dataset.generated and len(dataset.products) == 800 and len(dataset.split("test").queries) == 30


@pytest.mark.slow
def test_difficulty_targets_on_the_default_seed(world: Dataset, tmp_path) -> None:
    from leser_bench.data.world.difficulty import difficulty_table

    table = difficulty_table(world, "test", tmp_path)
    recall, ndcg = table.loc["all", ("bm25", "R@100")], table.loc["all", ("bm25", "nDCG@10")]
    oracle_recall = table.loc["all", ("bm25+oracle", "R@100")]
    assert 0.35 <= recall <= 0.75, table.round(3).to_string()
    assert 0.25 <= ndcg <= 0.65, table.round(3).to_string()
    assert oracle_recall - recall >= 0.10, table.round(3).to_string()
