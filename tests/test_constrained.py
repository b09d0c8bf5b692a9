"""Constrained decoding to what the prompt shows (`constrain: shown`, issue 15): the real transformers
backend, the real generation cache and the prompted policy with SmolLM2, on a small world."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from baselines_fixture import compose_config, fresh_cache, make_context
from leser_bench.data.records import Dataset
from leser_bench.data.world import WorldConfig, generate_world
from leser_bench.errors import ConfigError
from leser_bench.llm import CachedBackend, GenerationConfig
from leser_bench.llm.config import ModelConfig
from leser_bench.llm.hf_backend import TransformersBackend
from leser_bench.methods import build_expander
from leser_bench.policy import llm as llm_common
from leser_bench.policy.choices import answer_choices, completion, shown_items
from leser_bench.policy.prompting import feedback_context, search_context
from leser_bench.retrieval import IndexConfig, build_index


@pytest.fixture(scope="module")
def world() -> Dataset:
    return generate_world(WorldConfig(seed=5, n_products=500, n_train=20, n_test=8))


@pytest.fixture(scope="module")
def world_index(world: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(world.products, IndexConfig(threads=1), tmp_path_factory.mktemp("constrained_index"))


@pytest.fixture(autouse=True)
def _no_shared_backends() -> Iterator[None]:
    llm_common._BACKENDS.clear()
    yield
    llm_common._BACKENDS.clear()


def tiny_backend(model_dir: Path, cache: Path) -> TransformersBackend:
    return TransformersBackend(ModelConfig(name="tiny", path=str(model_dir), gguf_package=None,
                                           cache_dir=str(cache), offline=True, num_threads=1))


def test_answer_choices_are_every_ordered_list_of_distinct_items() -> None:
    choices = answer_choices(["a b", "c", "d"], 2, '["')
    assert len(choices) == 3 + 3 * 2
    assert choices[0] == 'a b"]' and 'c", "a b"]' in choices and not any('"c", "c"' in c for c in choices)
    assert answer_choices(["x"], 3, "") == ['["x"]'] and answer_choices([], 3, '["') == []


def test_allowed_answers_never_pair_items_that_break_a_rule_together(world: Dataset) -> None:
    """Two near-identical listings' titles each pass the rules alone; a list holding both breaks
    near_duplicate_other, so it is not among the choices (the 0.05 violations of leser_shown on world_esci)."""
    from leser_bench.policy.choices import allowed_answers
    from leser_bench.policy.prompting import PromptConfig
    from leser_bench.policy.rules import PhraseIndex, RuleChecker, RulesConfig

    base = world.products[0]
    twins = [replace(base, id="a", title="stainless steel electric kettle 1.7 l cordless"),
             replace(base, id="b", title="stainless steel electric kettle 1.7 l, cordless"),
             replace(base, id="c", title="glass tea pot with infuser")]
    prompt, brands = PromptConfig(n_expansions=3, debrand=True), PhraseIndex([])
    strict, lax = RuleChecker(RulesConfig()), RuleChecker(RulesConfig(near_duplicate_other=False))
    titles, prf = shown_items("kettle", twins, [], prompt, strict, brands)
    assert len(titles) == 3 and prf is None  # every item passes alone
    allowed = allowed_answers("kettle", twins, [], prompt, strict, brands, '["')
    assert set(allowed) < set(answer_choices(titles, 3, '["'))
    assert not any(titles[0] in a and titles[1] in a for a in allowed)
    assert all(strict.check("kettle", json.loads('["' + a), brands).violations["near_duplicate_other"] == 0
               for a in allowed)
    assert {'%s"]' % t for t in titles} <= set(allowed) and f'{titles[0]}", "{titles[2]}"]' in allowed
    assert allowed_answers("kettle", twins, [], prompt, lax, brands, '["') == answer_choices(titles, 3, '["')


def test_the_backend_writes_only_allowed_completions_greedy_and_sampled(tiny_model: Path, tmp_path: Path) -> None:
    """A random tiny model writes one of its prompt's choices, token for token, and stops; a choice longer than
    max_new_tokens is never written; a prompt without choices is unconstrained."""
    backend = tiny_backend(tiny_model, tmp_path)
    prompts = ['Query: "red shoes"\n["', 'Query: "tea kettle"\n["', 'Query: "lamp"\n["']
    choices = [['red sneakers"]', 'trainers", "red sneakers"]'],
               ['kettle"]', 'electric kettle steel ' * 8 + '"]'], None]
    greedy = GenerationConfig(max_new_tokens=12, do_sample=False, batch_size=2)
    out = backend.generate(prompts, greedy, choices=choices)
    assert out[0][0].text in choices[0] and out[1][0].text == 'kettle"]'  # the long one does not fit in 12
    free = backend.generate(prompts[2:], greedy)[0][0].text
    assert out[2][0].text == free  # None: exactly what unconstrained decoding writes
    sampled = GenerationConfig(max_new_tokens=12, temperature=1.0, do_sample=True, num_return_sequences=4, seed=3)
    for gens, allowed in zip(backend.generate(prompts[:2], sampled, choices=choices[:2]), choices[:2]):
        assert len(gens) == 4 and all(g.text in allowed for g in gens)
    with pytest.raises(ValueError, match="choices"):
        backend.generate(prompts, greedy, choices=choices[:2])


def test_the_generation_cache_keys_constrained_output_apart(tiny_model: Path, tmp_path: Path) -> None:
    cached = CachedBackend(tiny_backend(tiny_model, tmp_path), tmp_path / "generations")
    config = GenerationConfig(max_new_tokens=8, do_sample=False)
    prompt = 'Query: "mug"\n["'
    free = cached.generate([prompt], config)[0][0]
    one = cached.generate([prompt], config, choices=[['cup"]']])[0][0]
    other = cached.generate([prompt], config, choices=[['tumbler"]']])[0][0]
    assert (one.text, other.text) == ('cup"]', 'tumbler"]') and not one.cached and not other.cached
    again = cached.generate([prompt], config, choices=[['cup"]']])[0][0]
    assert again.cached and again.text == 'cup"]'
    assert cached.generate([prompt], config)[0][0].text == free.text  # the unconstrained entry is untouched
    assert cached.key(prompt, config) != cached.key(prompt, config, ['cup"]'])


def method_with(context: Any, name: str = "context_aware", **changes: Any) -> dict[str, Any]:
    method = dict(context.config["methods"][name])
    method["generation"] = {**method["generation"], "max_new_tokens": 40, "batch_size": 4}
    method["prompt"] = {**method["prompt"], "prf_terms": 6, "debrand": True, **changes.pop("prompt", {})}
    return {**method, **changes}


@pytest.mark.slow
def test_constrained_policy_chooses_among_shown_items_and_breaks_no_rule(
        world: Dataset, world_index: Path, tmp_path: Path, smollm2_models: Path) -> None:
    """SmolLM2 under `constrain: shown` writes lists of the shown, rule-abiding items only: no violation,
    no fallback for a format error; unconstrained, the same prompts break rules."""
    context = make_context(world, world_index, fresh_cache(tmp_path, smollm2_models))
    queries = world.split("test").queries
    constrained = build_expander(method_with(context, constrain="shown"), context)
    free = build_expander(method_with(context), context)
    shown = search_context(context.retriever, queries, constrained.config.prompt.context_k, world.product_index())
    terms = feedback_context(context.retriever, queries, 6, constrained.brands)
    out = constrained.expand(queries)
    for query, expansion in zip(queries, out):
        titles, prf = shown_items(query.text, shown[query.id], terms[query.id], constrained.config.prompt,
                                  constrained.checker, constrained.brands)
        assert expansion.texts and set(expansion.texts) <= set(titles + [prf])
        assert not any(expansion.violations.values()), (query.text, expansion.texts, expansion.violations)
        assert not expansion.fell_back
    unconstrained = free.expand(queries)
    assert sum(any(e.violations.values()) for e in unconstrained) > 0  # what the constraint prevents
    assert [e.texts for e in out] != [e.texts for e in unconstrained]


def test_constrain_is_checked_before_any_work(world: Dataset, world_index: Path, tmp_path: Path,
                                              smollm2_models: Path) -> None:
    from leser_bench.methods.registry import check_method_settings

    context = make_context(world, world_index, fresh_cache(tmp_path, smollm2_models))
    with pytest.raises(ConfigError, match=r"methods.context_aware.constrain='copy'"):
        build_expander(method_with(context, constrain="copy"), context)
    with pytest.raises(ConfigError, match="needs something shown"):
        build_expander(method_with(context, "zero_shot", constrain="shown", prompt={"prf_terms": 0}), context)
    with pytest.raises(ConfigError, match="needs prompt.debrand"):
        build_expander(method_with(context, constrain="shown", prompt={"debrand": False}), context)
    with pytest.raises(ConfigError, match="only the JSON list"):
        build_expander(method_with(context, constrain="shown", prompt={"reasoning": True}), context)
    leser = replace(context, config=compose_config("+experiment=leser", f"cache_dir={context.cache_dir}"))
    for name in ("sft", "leser"):  # the trained policies: before their training starts
        method = {**leser.config["methods"][name], "constrain": "everything"}
        with pytest.raises(ConfigError, match=rf"methods.{name}.constrain='everything'"):
            check_method_settings(name, method, leser)
        check_method_settings(name, {**method, "constrain": "shown"}, leser)
    method = leser.config["methods"]["leser"]  # constrained rollouts without the constraint to sample under
    with pytest.raises(ConfigError, match="constrained_rollouts needs methods.leser.constrain: shown"):
        check_method_settings("leser", {**method, "train": {**method["train"], "constrained_rollouts": True}}, leser)


def test_vllm_refuses_choices_rather_than_ignoring_them() -> None:
    from leser_bench.llm.types import ModelLoadError
    from leser_bench.llm.vllm_backend import VLLMBackend

    backend = VLLMBackend(ModelConfig(name="x", path="/nonexistent", backend="vllm", gguf_package=None))
    with pytest.raises(ModelLoadError, match="transformers backend only"):
        backend.generate(["q"], GenerationConfig(), choices=[["a"]])
    assert json.dumps(None) == "null"


@pytest.mark.slow
def test_a_query_with_nothing_to_choose_keeps_the_raw_query(world: Dataset, world_index: Path, tmp_path: Path,
                                                            smollm2_models: Path) -> None:
    """Before: a query for which the engine showed nothing rule-abiding was decoded free under the constraint
    (the 4 violations of leser_shown on validation); now it is not generated for and keeps the raw query."""
    from leser_bench.data.records import Query

    context = make_context(world, world_index, fresh_cache(tmp_path, smollm2_models))
    constrained = build_expander(method_with(context, constrain="shown"), context)
    queries = [world.split("test").queries[0], Query("nothing", "zqxv wpfk")]
    assert constrained.choices(queries)[1] is None and constrained.choices(queries)[0]
    first, nothing = constrained.expand(queries)
    assert first.texts and first.generated_tokens > 0 and not first.fell_back
    assert nothing.is_identity and nothing.fell_back and nothing.generated_tokens == 0 and not nothing.raw_output
    assert not any(nothing.violations.values())


@pytest.mark.slow
def test_rm3_terms_is_the_prf_item_a_constrained_policy_may_copy(world: Dataset, world_index: Path, tmp_path: Path,
                                                                 smollm2_models: Path) -> None:
    """The model-free row for a policy that always copies the PRF-terms line: its one expansion is exactly one
    of the constrained policy's allowed answers, and it is searched as that answer would be."""
    from leser_bench.retrieval import Retriever, RetrieverConfig

    context = make_context(world, world_index, fresh_cache(tmp_path, smollm2_models))
    queries = world.split("test").queries
    terms_row = build_expander({"name": "rm3_terms", "kind": "rm3_terms", "n_terms": 6}, context)
    constrained = build_expander(method_with(context, constrain="shown"), context)
    expansions = terms_row.expand(queries)
    assert sum(bool(e.texts) for e in expansions) >= len(queries) - 1
    for query, expansion, allowed in zip(queries, expansions, constrained.choices(queries)):
        if expansion.texts:
            assert len(expansion.texts) == 1 and completion(expansion.texts, '["') in allowed
            assert not any(constrained.checker.check(query.text, expansion.texts, constrained.brands).violations.values())
    with_prf = Retriever(world_index, RetrieverConfig(expansion_prf={"method": "rm3"}))
    e = next(e for e in expansions if e.texts)
    assert with_prf.search([e], k=20) != context.retriever.search([e], k=20)  # a text expansion: RM3 on top
    with_prf.close()
    with pytest.raises(ConfigError, match="methods.rm3_terms.n_terms=0 is impossible"):
        build_expander({"name": "rm3_terms", "kind": "rm3_terms", "n_terms": 0}, context)
    with pytest.raises(ConfigError, match="fb_docs"):
        build_expander({"name": "rm3_terms", "kind": "rm3_terms", "n_terms": 6, "fb_docs": 3}, context)
