"""Prompted-LLM baselines (zero-shot, few-shot, Query2doc, context-aware) with the real SmolLM2
on a small generated world: expansions with rule violations and costs, a warm rerun that never
reaches the model, few-shot examples built from the train split only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from baselines_fixture import fresh_cache, make_context
from leser_bench.policy import llm as llm_common
from leser_bench.policy.examples import FewShotConfig, choose_examples, example_pool, title_targets
from leser_bench.policy.expander import PromptedExpander
from leser_bench.data.records import Dataset, Product, Query, Split
from leser_bench.data.world import WorldConfig, generate_world
from leser_bench.expansion import Expansion
from leser_bench.llm import CachedBackend
from leser_bench.llm.hf_backend import TransformersBackend
from leser_bench.methods import ConfigError, MethodContext, build_expander
from leser_bench.policy.prompting import build_messages, search_context
from leser_bench.retrieval import IndexConfig, RetrieverConfig, build_index

METHODS = ("zero_shot", "few_shot", "query2doc", "context_aware")


@pytest.fixture(scope="module")
def world() -> Dataset:
    return generate_world(WorldConfig(seed=5, n_products=500, n_train=60, n_test=4))


@pytest.fixture(scope="module")
def world_index(world: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(world.products, IndexConfig(threads=1), tmp_path_factory.mktemp("prompted_index"))


@pytest.fixture(autouse=True)
def _no_shared_backends() -> Iterator[None]:
    """Tests use their own cache directories; do not keep backends between them."""
    llm_common._BACKENDS.clear()
    yield
    llm_common._BACKENDS.clear()


def small_method(context: MethodContext, name: str, max_new_tokens: int = 12) -> dict[str, Any]:
    method = dict(context.config["methods"][name])
    method["generation"] = {**method["generation"], "max_new_tokens": max_new_tokens, "batch_size": 4}
    return method


# -- every method end to end with the real model ------------------------------------------------
@pytest.mark.slow
def test_each_method_expands_with_rules_and_costs_and_a_rerun_never_calls_the_model(
        world: Dataset, world_index: Path, tmp_path: Path, smollm2_models: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    cache = fresh_cache(tmp_path, smollm2_models)
    context = make_context(world, world_index, cache)
    queries = world.split("test").queries
    first: dict[str, list] = {}
    for name in METHODS:
        expander = build_expander(small_method(context, name), context)
        assert isinstance(expander, PromptedExpander) and isinstance(expander.backend, CachedBackend)
        expansions = expander.expand(queries)
        assert [e.query_id for e in expansions] == [q.id for q in queries]
        for e in expansions:
            assert e.raw_output  # what the model wrote is kept
            assert set(e.violations) >= {"non_empty", "brand_hijack", "banned_term", "near_duplicate_query"}
            assert e.generated_tokens >= 1 and e.seconds > 0
            assert e.fell_back == (not e.texts)
        first[name] = expansions
    backend = llm_common._BACKENDS[next(iter(llm_common._BACKENDS))]
    assert backend.calls >= len(METHODS) and backend.misses >= len(METHODS) * len(queries)
    # Query2doc: the passage follows the query, repeated query_repeat - retriever.query_repeat (5 - 2) times
    for e in first["query2doc"]:
        if e.texts:
            assert e.texts[0].startswith(" ".join([e.query.text] * 3) + " ")

    # warm rerun: the generation cache answers everything; the model is never asked
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the LLM was called on a warm rerun")

    monkeypatch.setattr(TransformersBackend, "generate", refuse)
    llm_common._BACKENDS.clear()
    for name in METHODS:
        expander = build_expander(small_method(context, name), context)
        again = expander.expand(queries)
        assert expander.backend.calls == 0
        assert [(e.texts, e.raw_output, e.violations) for e in again] == \
               [(e.texts, e.raw_output, e.violations) for e in first[name]]


@pytest.mark.slow
def test_context_aware_prompt_shows_the_engine_results_for_the_raw_query(
        world: Dataset, world_index: Path, tmp_path: Path, smollm2_models: Path) -> None:
    context = make_context(world, world_index, fresh_cache(tmp_path, smollm2_models))
    expander = build_expander(small_method(context, "context_aware"), context)
    query = world.split("test").queries[0]
    messages, _ = expander.prompts([query])
    top = context.retriever.search([Expansion(query=query)], k=5)[query.id]
    titles = {p.id: p.title for p in world.products}
    shown = messages[0][-1]["content"]
    assert "The search engine currently returns" in shown
    best = max(top, key=top.get)
    assert " ".join(titles[best].split())[:60] in shown
    # the shared builder with the same settings gives exactly this prompt (LESER's input)
    context_products = search_context(context.retriever, [query], 5, world.product_index())[query.id]
    assert messages[0] == build_messages(query, expander.config.prompt, expander.config.rules, context_products)


# -- few-shot: train split only -----------------------------------------------------------------
class GuardedQrels(dict):
    """Qrels that fail the test when anything reads them."""

    def _refuse(self, *args: object, **kwargs: object) -> Any:
        raise AssertionError("test-split qrels were read")

    __getitem__ = get = items = keys = values = __iter__ = __contains__ = __len__ = _refuse  # type: ignore[assignment]


def guarded(world: Dataset) -> Dataset:
    test = world.split("test")
    splits = dict(world.splits)
    splits["test"] = Split(name="test", queries=test.queries, qrels=GuardedQrels())
    return Dataset(name=world.name, products=world.products, splits=splits, gains=world.gains, generated=True)


def test_few_shot_examples_come_from_train_and_test_qrels_are_never_read(
        world: Dataset, world_index: Path, tmp_path: Path) -> None:
    data = guarded(world)
    context = make_context(data, world_index, tmp_path / "cache")
    expander = build_expander(small_method(context, "few_shot"), context)
    train_ids = {q.id for q in world.split("train").queries}
    assert expander.example_pool and all(q.id in train_ids for q, _ in expander.example_pool)
    test_queries = data.split("test").queries
    messages, _ = expander.prompts(test_queries)  # builds every prompt: no test qrels touched
    for query, prompt in zip(test_queries, messages):
        examples = expander.examples_for(query)
        assert len(examples) == 2 and all(q.id in train_ids for q, _ in examples)
        assert len(prompt) == 1 + 2 * 2 + 1  # system, two (user, assistant) examples, the query
        assert f'"{examples[0][1][0]}"' in prompt[2]["content"]


def test_few_shot_refuses_the_evaluated_split(world: Dataset, world_index: Path, tmp_path: Path) -> None:
    context = make_context(world, world_index, tmp_path / "cache", "methods.few_shot.few_shot.split=test")
    with pytest.raises(ConfigError, match="evaluated split"):
        build_expander(small_method(context, "few_shot"), context)


def test_title_targets_are_the_shared_product_type_phrases() -> None:
    query = Query(id="q", text="top rated percolator")
    products = [Product(id=str(i), title=t, brand=b, color=c) for i, (t, b, c) in enumerate([
        ("Brewcraft Stainless Steel Coffee Maker, 8 cup, Red", "Brewcraft", "red"),
        ("Simmerwell Stainless Steel Coffee Maker, 4 cup, White", "Simmerwell", "white"),
        ("Kitchara Programmable Percolator, 8 cup, Copper", "Kitchara", "copper"),
        ("Chefmate Plastic Espresso Machine, 12 cup, Black", "Chefmate", "black"),
        ("Brewcraft Plastic Espresso Machine, 12 cup, Black", "Brewcraft", "black"),
        ("Chefmate Brewer, 8 cup, White", "Chefmate", "white"),
    ])]
    # "percolator" is the query's own word; "brewer" is used by one product only
    assert title_targets(query, products, 3) == ["coffee maker", "espresso machine"]


def test_similar_selection_prefers_close_train_queries(world: Dataset) -> None:
    config = FewShotConfig(k=2, seed=1)
    pool = example_pool(world, config, relevant_grade=3)
    target = pool[-1][0]
    probe = Query(id="probe", text=target.text + " x")
    assert choose_examples(probe, pool, config)[0][0].id == target.id
    assert choose_examples(probe, pool, FewShotConfig(k=2, seed=1, selection="random")) == pool[:2]


def test_unknown_method_keys_and_bad_generation_are_refused(world: Dataset, world_index: Path,
                                                           tmp_path: Path) -> None:
    context = make_context(world, world_index, tmp_path / "cache")
    with pytest.raises(ConfigError, match="unknown keys"):
        build_expander({**small_method(context, "zero_shot"), "temprature": 0.3}, context)
    with pytest.raises(ConfigError, match="num_return_sequences"):
        method = small_method(context, "zero_shot")
        method["generation"]["num_return_sequences"] = 2
        build_expander(method, context)
    with pytest.raises(ConfigError, match="context_k"):
        build_expander({**small_method(context, "context_aware"), "prompt": {"context_k": 0}}, context)


def test_query2doc_expansion_text_follows_the_retriever_combination(world: Dataset, world_index: Path,
                                                                    tmp_path: Path) -> None:
    context = make_context(world, world_index, tmp_path / "cache")
    expander = build_expander(small_method(context, "query2doc"), context)
    query = Query(id="q", text="coffee maker")
    passage = "<think>hmm</think> A drip brewer for filter coffee,\n 12 cups."
    concat = expander.to_expansion(Expansion(query=query), passage)
    assert concat.texts == ["coffee maker coffee maker coffee maker A drip brewer for filter coffee, 12 cups."]
    assert not concat.fell_back and sum(concat.violations.values()) == 0
    context.retriever.config = RetrieverConfig(threads=1, combine="rrf")
    rrf = expander.to_expansion(Expansion(query=query), passage)
    assert rrf.texts[0].startswith(" ".join(["coffee maker"] * 5) + " A drip brewer")
    banned = expander.to_expansion(Expansion(query=query),
                                         "A cheap coffee maker on sale.")
    assert banned.fell_back and banned.texts == [] and banned.violations["banned_term"] == 1


def test_prf_terms_from_the_same_engine_can_be_shown_in_the_prompt(
        world: Dataset, world_index: Path, tmp_path: Path, smollm2_models: Path) -> None:
    """issue 15: `prompt.prf_terms` shows the engine's own RM3 feedback terms (the query's words left out);
    0 (the default) leaves the prompt exactly as it was."""
    from leser_bench.policy.prompting import PROMPT_PRF, feedback_context

    context = make_context(world, world_index, fresh_cache(tmp_path, smollm2_models))
    query = world.split("test").queries[0]
    method = small_method(context, "context_aware")
    plain = build_expander(method, context).prompts([query])[0][0][-1]["content"]
    with_terms = build_expander({**method, "prompt": {**method["prompt"], "prf_terms": 4}}, context)
    shown = with_terms.prompts([query])[0][0][-1]["content"]
    terms = feedback_context(context.retriever, [query], 4)[query.id]
    assert terms and not set(terms) & set(query.text.lower().split())
    rm3 = context.retriever.feedback_terms(query.text, {**PROMPT_PRF, "fb_terms": max(10, 4 + len(query.text.split()))})
    assert set(terms) <= set(rm3)
    assert "Words the search engine associates with this query: " + ", ".join(terms) in shown
    assert "associates" not in plain and shown.replace(
        "\n\nWords the search engine associates with this query: " + ", ".join(terms), "") == plain


def test_debrand_shows_what_the_brand_rule_lets_the_policy_copy(
        world: Dataset, world_index: Path, tmp_path: Path, smollm2_models: Path) -> None:
    """issue 15: `prompt.debrand` shows the results' titles without their brand and PRF terms that are no
    catalogue brand, so a policy that copies what it sees cannot break the brand rule."""
    from leser_bench.policy.prompting import PROMPT_PRF, debranded_title, feedback_context, search_context
    from leser_bench.policy.rules import catalogue_brands

    context = make_context(world, world_index, fresh_cache(tmp_path, smollm2_models))
    brands = catalogue_brands(world.products)
    method = small_method(context, "context_aware")
    queries = world.split("test").queries[:8]
    expander = build_expander({**method, "prompt": {**method["prompt"], "prf_terms": 6, "debrand": True}}, context)
    messages, _ = expander.prompts(queries)
    shown = search_context(context.retriever, queries, method["prompt"]["context_k"], world.product_index())
    clean_terms = feedback_context(context.retriever, queries, 6, brands)
    assert context.retriever.analyze("Pawsome") == ["pawsom"]  # the index's analyzer, as RM3's terms are written
    stemmed_brands = {" ".join(context.retriever.analyze(b)) for b in brands.phrases.values()}
    branded = stemmed_in_rm3 = 0
    for query, chat in zip(queries, messages):
        text = chat[-1]["content"]
        for product in shown[query.id]:
            assert debranded_title(product, query.text) in text
            if debranded_title(product, query.text) != product.title.strip():
                branded += 1
                assert product.title.strip() not in text
        assert clean_terms[query.id] and not any(brands.find([t]) for t in clean_terms[query.id])
        assert "associates with this query: " + ", ".join(clean_terms[query.id]) in text
        rm3 = context.retriever.feedback_terms(query.text, {**PROMPT_PRF, "fb_terms": 30})
        assert set(clean_terms[query.id]) <= set(rm3) - set(query.text.lower().split())
        # RM3's terms are Porter stems: a stemmed brand ("pawsom") searches as the brand does
        assert not set(clean_terms[query.id]) & stemmed_brands, (query.text, clean_terms[query.id])
        assert not set(clean_terms[query.id]) & set(context.retriever.analyze(query.text))
        stemmed_in_rm3 += bool(set(rm3) & stemmed_brands)
    assert branded  # the test saw titles that lost their brand
    assert stemmed_in_rm3  # ... and stemmed brands among RM3's terms that the prompt then left out


def test_title_words_shows_the_head_of_each_title_and_changes_nothing_when_unset() -> None:
    """issue 15: `prompt.title_words` cuts each shown title to its first words (trailing separators dropped);
    unset, the prompt is what it was."""
    from leser_bench.policy.prompting import PromptConfig, clipped, user_message
    from leser_bench.policy.rules import RulesConfig

    product = Product(id="p1", title="Acme Trail Runner Shoes, Breathable Mesh - Blue, Size 9", brand="Acme")
    query = Query(id="q1", text="running shoes")
    base = PromptConfig(context_k=1)
    plain = user_message(query, base, RulesConfig(), [product])
    assert "1. Acme Trail Runner Shoes, Breathable Mesh - Blue, Size 9\n" in plain
    cut = user_message(query, PromptConfig(context_k=1, title_words=4), RulesConfig(), [product])
    assert "1. Acme Trail Runner Shoes\n" in cut and "Breathable" not in cut
    both = user_message(query, PromptConfig(context_k=1, title_words=4, debrand=True), RulesConfig(), [product])
    assert "1. Trail Runner Shoes, Breathable\n" in both  # the brand goes first, then the cut
    assert plain.replace("Acme Trail Runner Shoes, Breathable Mesh - Blue, Size 9", "Acme Trail Runner Shoes") == cut
    assert clipped("a b c, d", 3) == "a b c" and clipped(" a  b ", None) == "a  b" and clipped("", 2) == ""
    with pytest.raises(ValueError, match="title_words"):
        PromptConfig(title_words=0)


@pytest.mark.slow
def test_expand_sends_the_subclass_prompts_to_the_model(world: Dataset, world_index: Path, tmp_path: Path,
                                                        smollm2_models: Path) -> None:
    """query2doc overrides `prompts()` (a passage prompt): `expand()` must generate from those messages, not
    the keyword prompt (a session-8 refactor broke this; the default run's query2doc row caught it)."""
    context = make_context(world, world_index, fresh_cache(tmp_path, smollm2_models))
    expander = build_expander(small_method(context, "query2doc", max_new_tokens=4), context)
    queries = world.split("test").queries[:2]
    expander.expand(queries)
    messages, _ = expander.prompts(queries)
    again = expander.backend.generate([expander.prompt_for(m) for m in messages], expander.config.generation)
    assert all(gens[0].cached for gens in again)  # expand generated exactly these prompts
    keyword = super(type(expander), expander).prompts(queries)[0]
    assert keyword != messages
