"""doc2query / doc2query-- with the real SmolLM2 and the real MiniLM embedding model: a separate
index whose documents hold the kept generated queries, the percentile filter's share, the
product cap, and a rerun that loads neither model. Also the whole baselines experiment, rerun
with warm caches, never calls the LLM."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hydra import compose, initialize_config_dir

from conftest import CONF_DIR
from baselines_fixture import fresh_cache, make_context
from leser_bench.policy import llm as llm_common
from baselines.doc2query import (
    Doc2QueryConfig,
    Doc2QueryExpander,
    FilterConfig,
    clean_queries,
    embedding_model_dir,
    percentile_filter,
    select_products,
)
from leser_bench.data.records import Dataset, Product
from leser_bench.data.world import WorldConfig, generate_world
from leser_bench.llm.hf_backend import TransformersBackend
from leser_bench.methods import ConfigError, build_expander, kind_of
from leser_bench.pipeline import run_experiment
from leser_bench.retrieval import IndexConfig, Retriever, build_index


@pytest.fixture(scope="module")
def world() -> Dataset:
    return generate_world(WorldConfig(seed=5, n_products=500, n_train=60, n_test=4))


@pytest.fixture(scope="module")
def world_index(world: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(world.products, IndexConfig(threads=1), tmp_path_factory.mktemp("d2q_index"))


@pytest.fixture(autouse=True)
def _no_shared_backends() -> None:
    llm_common._BACKENDS.clear()


def contents(retriever: Retriever, pid: str) -> str:
    return json.loads(retriever.searcher().doc(pid).raw())["contents"]


# -- pieces ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("percentile, kept", [(0, 100), (30, 70), (50, 50), (90, 10), (100, 1)])
def test_percentile_filter_keeps_the_expected_share(percentile: float, kept: int) -> None:
    scores = [[i / 100, (i + 1) / 100] for i in range(0, 100, 2)]  # 100 distinct scores in 50 products
    keep, threshold = percentile_filter(scores, percentile)
    assert sum(map(sum, keep)) == kept
    assert all((s >= threshold) == k for row, flags in zip(scores, keep) for s, k in zip(row, flags))


def test_percentile_filter_with_nothing_generated() -> None:
    keep, threshold = percentile_filter([[], []], 30)
    assert keep == [[], []] and math.isnan(threshold)


def test_clean_queries_drops_duplicates_the_title_and_extras() -> None:
    product = Product(id="p", title="Brewcraft Coffee Maker")
    text = '["brewcraft coffee maker", "drip coffee machine", "Drip  Coffee Machine", "", "filter brewer", "x"]'
    assert clean_queries(text, product, 2) == ["drip coffee machine", "filter brewer"]
    assert clean_queries("no list at all", product, 3) == ["no list at all"]


def test_product_cap_is_seeded_or_in_catalogue_order(world: Dataset) -> None:
    sample = select_products(world.products, Doc2QueryConfig(max_products=10, seed=1))
    assert len(sample) == 10 and sample == select_products(world.products, Doc2QueryConfig(max_products=10, seed=1))
    assert sample != select_products(world.products, Doc2QueryConfig(max_products=10, seed=2))
    first = select_products(world.products, Doc2QueryConfig(max_products=10, selection="first"))
    assert first == world.products[:10]
    assert len(select_products(world.products, Doc2QueryConfig(max_products=None))) == len(world.products)


def test_bad_configs_are_refused(world: Dataset, world_index: Path, tmp_path: Path) -> None:
    context = make_context(world, world_index, tmp_path / "cache")
    method = dict(context.config["methods"]["doc2query"])
    # being document-side is the kind's (leser_bench.methods.registry), no longer a config key to get wrong
    assert kind_of(method).document_side
    with pytest.raises(ConfigError, match="unknown keys \\['own_index'\\]"):
        build_expander({**method, "own_index": False}, context)
    with pytest.raises(ConfigError, match="percentile"):
        build_expander({**method, "filter": {"percentile": 120}}, context)
    with pytest.raises(ConfigError, match="selection"):
        build_expander({**method, "selection": "best"}, context)
    with pytest.raises(ConfigError, match="no sentence-transformers model"):
        embedding_model_dir(FilterConfig(model_dir=str(tmp_path / "nowhere")))


# -- end to end with the real models ------------------------------------------------------------------
def small_doc2query(context: Any, **overrides: Any) -> dict[str, Any]:
    method = dict(context.config["methods"]["doc2query"])
    method.update({"max_products": 6, "n_queries": 3, "filter": {"enabled": True, "percentile": 50}})
    method["generation"] = {**method["generation"], "max_new_tokens": 16, "batch_size": 6}
    method.update(overrides)
    return method


@pytest.mark.slow
def test_doc2query_builds_a_separate_index_with_the_kept_queries_and_reruns_from_cache(
        world: Dataset, world_index: Path, tmp_path: Path, smollm2_models: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    cache = fresh_cache(tmp_path, smollm2_models)
    context = make_context(world, world_index, cache)
    expander = build_expander(small_doc2query(context), context)
    assert isinstance(expander, Doc2QueryExpander)
    queries = world.split("test").queries
    expansions = expander.expand(queries)
    assert [e.query_id for e in expansions] == [q.id for q in queries] and all(e.is_identity for e in expansions)

    retriever = expander.retriever
    assert retriever.index_dir != context.retriever.index_dir
    assert retriever.config == context.retriever.config
    records = expander.generated_queries()["products"]
    assert len(records) == 6
    stats = expander.stats
    generated = [s for r in records.values() for s in r["scores"]]
    assert stats["queries_generated"] == len(generated) > 0
    # the doc2query-- filter keeps the queries at or above the median similarity: about half
    assert stats["queries_kept"] == sum(s >= stats["threshold"] for s in generated)
    assert abs(stats["queries_kept"] - len(generated) / 2) <= 1
    for pid, record in records.items():
        expanded, plain = contents(retriever, pid), contents(context.retriever, pid)
        if record["kept"]:
            assert expanded == plain + "\n" + " ".join(record["kept"])
        else:
            assert expanded == plain
    # the report's examples show products with what doc2query added to them
    shown = expander.examples(3)
    kept = [(pid, r) for pid, r in records.items() if r["kept"]][:3]
    assert [left.split(":")[0] for left, _ in shown] == [f"product {pid}" for pid, _ in kept]
    assert [right for _, right in shown] == [" | ".join(r["kept"]) for _, r in kept]
    others = [p.id for p in world.products if p.id not in records][:20]
    assert all(contents(retriever, pid) == contents(context.retriever, pid) for pid in others)

    # rerun: neither the LLM nor the embedding model is touched, the same index is found
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model was called on a warm rerun")

    monkeypatch.setattr(TransformersBackend, "generate", refuse)
    monkeypatch.setattr(TransformersBackend, "load", refuse)
    monkeypatch.setattr("baselines.doc2query.similarities", refuse)
    llm_common._BACKENDS.clear()
    again = build_expander(small_doc2query(context), context)
    assert again.retriever.index_dir == retriever.index_dir
    assert again.stats["cached"] is True and again.backend.calls == 0


@pytest.mark.slow
def test_baselines_experiment_rerun_with_warm_caches_never_calls_the_llm(
        tmp_path: Path, smollm2_models: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = fresh_cache(tmp_path, smollm2_models)
    overrides = [
        "+experiment=baselines", f"cache_dir={cache}", "model.num_threads=1", "dataset.n_products=500",
        "dataset.n_train=60", "dataset.n_test=4", "methods.doc2query.max_products=6", "retriever.threads=1",
        "retriever.k=100", "abtest.n_users=300", "abtest.interleaving_impressions=200",
        "stats.n_permutations=200", "stats.n_bootstrap=100",
        *[f"methods.{m}.generation.max_new_tokens=8" for m in
          ("zero_shot", "few_shot", "query2doc", "context_aware", "doc2query")],
    ]
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cold = compose(config_name="config", overrides=overrides)
        warm = compose(config_name="config", overrides=[*overrides, "cache.reuse=false"])
    first = run_experiment(cold, tmp_path / "run1")
    assert list(first.leaderboard.index) == ["identity", "rm3", "rocchio", "zero_shot", "few_shot", "query2doc",
                                             "context_aware", "doc2query"]
    report = (tmp_path / "run1" / "report.md").read_text()
    assert "weighted concatenation" in report  # the combination mode that ran is reported
    for name in ("zero_shot", "few_shot", "query2doc", "context_aware"):
        assert f"{name}: expand" in first.stage_seconds

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the LLM was called on a warm rerun")

    monkeypatch.setattr(TransformersBackend, "generate", refuse)
    llm_common._BACKENDS.clear()
    # stage artefacts off: every expander runs again, served by the generation and doc2query caches
    second = run_experiment(warm, tmp_path / "run2")
    assert second.leaderboard.equals(first.leaderboard)
    assert all(b.calls == 0 and b.hits > 0 for b in llm_common._BACKENDS.values())
