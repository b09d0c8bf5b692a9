"""The harder, ESCI-calibrated world (conf/dataset/world_esci.yaml): its judgments follow ESCI's
published statistics, and it sits in the difficulty band of real catalogues — BM25 strong, RM3
gaining little — while the default world at the same size rewards RM3 a lot.

Both worlds are built at their full catalogue (6,000 products: the profile's shares are calibrated
at that size) with 150 test queries and no training split; BM25 and RM3 run through the harness's
Retriever (leser_bench.data.world.difficulty). Measured values (seed 13) are in the comments; the
bounds leave margin for other seeds (14 and 15 measured in docs/world.md).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from leser_bench.data.loading import load_dataset
from leser_bench.data.records import ESCI_GRADES, Dataset
from leser_bench.data.world.difficulty import RM3_PRF, difficulty_table, judgment_stats
from leser_bench.data.world.qrels import tokens

from conftest import CONF_DIR

SIZE = {"n_products": 6000, "n_train": 0, "n_test": 150}
#: ESCI large version, rounded (E, S, C, I), as the profile sets them.
TARGET = {"E": 0.65, "S": 0.22, "C": 0.03, "I": 0.10}
SHARE_TOLERANCE = 0.03


def _profile(name: str, **overrides: object) -> dict:
    node = OmegaConf.create({"seed": 13, "node": OmegaConf.load(CONF_DIR / "dataset" / f"{name}.yaml")})
    return {**OmegaConf.to_container(node, resolve=True)["node"], **overrides}  # type: ignore[index]


@pytest.fixture(scope="module")
def esci() -> Dataset:
    return load_dataset(_profile("world_esci", **SIZE))


@pytest.fixture(scope="module")
def default() -> Dataset:
    return load_dataset(_profile("world", **SIZE))


@pytest.fixture(scope="module")
def tables(esci: Dataset, default: Dataset, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("world_esci_index")
    return {"esci": difficulty_table(esci, "test", root), "default": difficulty_table(default, "test", root)}


def test_profile_composes_and_names_its_data_set(esci: Dataset) -> None:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=["dataset=world_esci", "suite=prf"])
    assert cfg.dataset.source == "world" and cfg.dataset.pool == "search"
    assert esci.name == "world_esci-s13" and esci.generated and "profile 'world_esci'" in esci.description


def test_label_shares_follow_esci(esci: Dataset) -> None:
    """Measured: E 0.639, S 0.232, C 0.028, I 0.101 (the default world: E 0.59, S 0.18, C 0.06, I 0.17)."""
    stats = judgment_stats(esci, "test")
    for label, share in TARGET.items():
        assert abs(stats[f"share_{label}"] - share) <= SHARE_TOLERANCE, (label, stats)


def test_judgments_are_shallow_and_every_query_has_an_exact(esci: Dataset, default: Dataset) -> None:
    """Measured: 19.7 judged per query (ESCI Task 1, US: 20.15, up to 40); the default world 38.4."""
    split = esci.split("test")
    depths = [len(pool) for pool in split.qrels.values()]
    assert 17 <= sum(depths) / len(depths) <= 23 and max(depths) <= 40
    assert all(ESCI_GRADES["E"] in pool.values() for pool in split.qrels.values())
    assert judgment_stats(default, "test")["judged_per_query"] > 30


def test_titles_are_long_listings_repeat_and_model_numbers_are_asked_for(esci: Dataset, default: Dataset) -> None:
    """Measured: 10.9 title words (default 6.2); 62 % of products carry a model number and 92 % of
    those share it with another listing; Exact titles hold 73 % of the query's words (default 26 %)."""
    esci_stats, default_stats = judgment_stats(esci, "test"), judgment_stats(default, "test")
    assert esci_stats["title_words"] >= 9.5 and default_stats["title_words"] <= 7.0
    assert esci_stats["exact_overlap"] >= 0.6 and default_stats["exact_overlap"] <= 0.4
    models = [m.group(0) for p in esci.products if (m := re.search(r"\b[A-Z]{2}-\d{3,4}[A-Z]?\b", p.title))]
    shared = sum(models.count(m) > 1 for m in models)
    assert len(models) >= 0.5 * len(esci.products) and shared >= 0.8 * len(models)
    queries = [q for q in esci.split("test").queries if q.meta["kind"] == "model"]
    products = esci.product_index()
    assert queries
    for query in queries:
        model = query.meta["intents"][0]["model"]
        exact = [pid for pid, g in esci.split("test").qrels[query.id].items() if g == ESCI_GRADES["E"]]
        assert exact and all(model in products[pid].title for pid in exact), query.text


def _negatives_sharing_a_query_word(dataset: Dataset) -> float:
    split, products = dataset.split("test"), dataset.product_index()
    sharing = total = 0
    for query in split.queries:
        words = set(tokens(query.text))
        for pid, grade in split.qrels[query.id].items():
            if grade in (ESCI_GRADES["S"], ESCI_GRADES["I"]):
                total += 1
                product = products[pid]
                sharing += bool(words & set(tokens(f"{product.title} {product.description} {product.bullets}")))
    return sharing / total


def test_negatives_are_hard(esci: Dataset, default: Dataset) -> None:
    """Judged Substitutes and Irrelevants come from the engine's results, so they share a word with
    the query (measured 99 %; the default world's sampled ones 57 %)."""
    assert _negatives_sharing_a_query_word(esci) >= 0.9
    assert _negatives_sharing_a_query_word(default) < 0.8


def test_bm25_is_strong_and_rm3_gains_little_unlike_on_the_default_world(tables: dict) -> None:
    """Measured (R@100 / nDCG@10): ESCI world BM25 0.930 / 0.649, RM3 gain +0.006 / -0.017;
    default world BM25 0.586 / 0.398, RM3 gain +0.096 / +0.009."""
    esci, default = tables["esci"].loc["all"], tables["default"].loc["all"]
    assert esci[("bm25", "R@100")] >= 0.85, tables["esci"].round(3).to_string()
    assert abs(esci[("rm3 gain", "R@100")]) < 0.03, tables["esci"].round(3).to_string()
    assert esci[("rm3 gain", "nDCG@10")] < 0.01, tables["esci"].round(3).to_string()
    assert default[("rm3 gain", "R@100")] > 0.05, tables["default"].round(3).to_string()
    assert esci[("bm25", "R@100")] - default[("bm25", "R@100")] > 0.2


def test_difficulty_rm3_is_the_rm3_method() -> None:
    method = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "method" / "rm3.yaml"))
    assert {k: method[k] for k in RM3_PRF if k != "method"} == {k: v for k, v in RM3_PRF.items() if k != "method"}
    assert method["kind"] == RM3_PRF["method"]


def test_profile_keys_are_world_config_fields() -> None:
    """Every key the profile sets is a WorldConfig field (section() refuses others), checked without
    generating anything."""
    from leser_bench.data.loading import dataset_config

    source, config = dataset_config(_profile("world_esci"))
    assert source.name == "world" and config.name == "world_esci" and config.n_products == 6000
    assert Path(CONF_DIR / "dataset" / "world_esci.yaml").read_text().count("arXiv 2206.06588") == 1
