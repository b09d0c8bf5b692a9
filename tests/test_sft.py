"""SFT targets and a tiny SFTTrainer run; LESER/SFT method builders end to end (SFT-then-GRPO) on a tiny
policy; the trained model as an Expander. Real TRL, real Pyserini, a tiny random model."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from leser_bench.data.world import WorldConfig, generate_world
from leser_bench.llm.config import ModelConfig
from leser_bench.methods import ConfigError, MethodContext
from leser_bench.retrieval import Retriever
from leser_bench.policy.rules import RulesConfig
from leser_bench.training.data import TrainingSetup, prompt_config
from leser_bench.data.records import Product
from leser_bench.training.sft import SFTSettings, context_title_targets, rejection_targets, title_targets, train_sft
from leser_bench.training.sft_targets import answer_text, debranded_title

TINY_SFT = {"targets": "exact_titles", "max_queries": 6, "num_train_epochs": 1, "per_device_train_batch_size": 2,
            "learning_rate": 5e-3, "torch_threads": 1, "lora": {"enabled": False, "last_n_layers": 1}}
PROMPT = {"context_k": 3, "context_fields": ["title"], "n_expansions": 3, "reasoning": False}


@pytest.fixture(scope="module")
def world():
    return generate_world(WorldConfig(seed=3, n_products=500, n_train=12, n_test=4))


def model_cfg(model_dir: Path, cache: Path) -> ModelConfig:
    return ModelConfig(name="tiny", path=str(model_dir), gguf_package=None, cache_dir=str(cache), offline=True,
                       num_threads=1)


def make_setup(world, retriever: Retriever, model_dir: Path, cache: Path) -> TrainingSetup:
    return TrainingSetup(world, retriever, prompt_config(PROMPT), RulesConfig(), model_cfg(model_dir, cache),
                         relevant_grade=3, max_queries=6)


def test_title_targets_come_from_exact_train_products(world, retriever: Retriever, tiny_model: Path,
                                                      tmp_path: Path) -> None:
    setup = make_setup(world, retriever, tiny_model, tmp_path)
    records = title_targets(setup, SFTSettings.from_dict(TINY_SFT))
    assert [r["query_id"] for r in records] == [q.id for q in world.split("train").queries[:6]]
    with_target = [r for r in records if r["target"]]
    assert len(with_target) >= 4
    for r in with_target:
        phrases = json.loads(r["target"])
        assert 1 <= len(phrases) <= 3
        exact_titles = " ".join(p.title.lower() for p in world.products
                                if world.split("train").qrels[r["query_id"]].get(p.id, 0) >= 3)
        assert all(word in exact_titles for phrase in phrases for word in phrase.split())


def test_rejection_sampling_keeps_the_best_sample_by_the_search_reward(world, retriever: Retriever,
                                                                       tiny_model: Path, tmp_path: Path) -> None:
    setup = make_setup(world, retriever, tiny_model, tmp_path)
    settings = SFTSettings.from_dict({"n_samples": 3, "max_new_tokens": 8, "min_reward": -100.0, "max_queries": 3})
    setup.max_queries = 3
    records = rejection_targets(setup, settings)
    reward = setup.reward(settings.reward)
    assert len(records) == 3
    for r in records:
        assert len(r["samples"]) == 3 and len(r["rewards"]) == 3
        rescored = [reward.total(r["query_id"], text) for text in r["samples"]]
        assert rescored == pytest.approx(r["rewards"])
        best = max(range(3), key=lambda j: (r["rewards"][j], -j))
        kept = reward.score([r["query_id"]], [r["samples"][best]])[0].kept
        assert r["target"] == (json.dumps(list(kept)) if kept else None)
    assert rejection_targets(setup, settings)[0]["samples"] == records[0]["samples"]  # seeded (and cached)


def test_debranded_title_drops_the_products_own_brand_unless_the_query_names_it() -> None:
    product = Product(id="p1", title="Blue Peak Trail Runner, Size 9", brand="Blue Peak")
    assert debranded_title(product, "trail shoes") == "Trail Runner, Size 9"
    assert debranded_title(product, "blue peak shoes") == "Blue Peak Trail Runner, Size 9"
    assert debranded_title(Product(id="p2", title="Kettle, Acme Steel", brand="Acme"), "kettle") == "Kettle, Steel"
    assert debranded_title(Product(id="p3", title="Acmeco Kettle", brand="Acme"), "kettle") == "Acmeco Kettle"
    assert debranded_title(Product(id="p4", title="Kettle", brand=""), "tea") == "Kettle"
    assert debranded_title(Product(id="p5", title="Cafetera Élite de acero", brand="Élite"), "cafetera") == \
        "Cafetera de acero"
    assert answer_text(["Cafetera de acero inoxidable"]) == '["Cafetera de acero inoxidable"]'
    assert answer_text(["café"]) == '["café"]'  # what the model learns to write: no \\u escapes


def test_context_title_targets_pick_the_best_rewarded_shown_titles(world, retriever: Retriever, tiny_model: Path,
                                                                   tmp_path: Path) -> None:
    setup = make_setup(world, retriever, tiny_model, tmp_path)
    settings = SFTSettings.from_dict({"targets": "context_titles", "max_new_tokens": 24, "max_queries": 6})
    records = context_title_targets(setup, settings)
    reward = setup.reward(settings.reward)
    shown = setup.context()
    assert [r["query_id"] for r in records] == [q.id for q in world.split("train").queries[:6]]
    assert sum(bool(r["target"]) for r in records) >= 3
    for r in records:
        titles = {debranded_title(p, r["query"]) for p in shown[r["query_id"]]}
        options = [json.loads(o) for o in r["samples"]]
        assert options and all(1 <= len(o) <= PROMPT["n_expansions"] and set(o) <= titles for o in options)
        completions = [o[len(setup.answer_prefix):] for o in r["samples"]]
        assert [reward.total(r["query_id"], c) for c in completions] == pytest.approx(r["rewards"])
        if r["target"] is None:
            assert max(r["rewards"]) <= settings.min_reward or not any(
                list(reward.score([r["query_id"]], [c])[0].kept) == o for c, o in zip(completions, options))
            continue
        target = json.loads(r["target"])
        assert r["target_reward"] == pytest.approx(max(r["rewards"])) and r["target_reward"] > settings.min_reward
        continuation = r["target"][len(setup.answer_prefix):]
        assert list(reward.score([r["query_id"]], [continuation])[0].kept) == target  # nothing the rules drop
        assert len(setup.tokenizer()(continuation, add_special_tokens=False)["input_ids"]) <= 24


def test_title_words_makes_the_candidates_the_clipped_titles_the_prompt_shows(
        world, retriever: Retriever, tiny_model: Path, tmp_path: Path) -> None:
    """issue 15: with `prompt.title_words` the SFT candidates are the shown titles' first words as the prompt
    shows them (then without their brand), so a long title is a candidate the length rule accepts instead
    of none, and no candidate holds a word the prompt did not show."""
    from dataclasses import replace

    from leser_bench.policy.prompting import clipped

    words = 4
    setup = TrainingSetup(world, retriever, prompt_config({**PROMPT, "title_words": words}), RulesConfig(),
                          model_cfg(tiny_model, tmp_path), relevant_grade=3, max_queries=6)
    records = context_title_targets(setup, SFTSettings.from_dict({"targets": "context_titles",
                                                                   "max_new_tokens": 40, "max_queries": 6}))
    shown = setup.context()
    long_titles = 0
    for r in records:
        seen = [clipped(p.title, words) for p in shown[r["query_id"]]]
        long_titles += sum(len(p.title.split()) > words for p in shown[r["query_id"]])
        for title in seen:
            assert f". {title}\n" in r["prompt"][-1]["content"] + "\n" and len(title.split()) <= words
        candidates = {debranded_title(replace(p, title=t), r["query"]) for p, t in zip(shown[r["query_id"]], seen)}
        options = [json.loads(o) for o in r["samples"]]
        assert options and all(set(o) <= candidates for o in options)
    assert long_titles  # the test saw titles that were cut


def test_template_selection_gives_every_query_the_shape_with_the_best_mean_reward(
        world, retriever: Retriever, tiny_model: Path, tmp_path: Path) -> None:
    setup = TrainingSetup(world, retriever, prompt_config({**PROMPT, "prf_terms": 6}), RulesConfig(),
                          model_cfg(tiny_model, tmp_path), relevant_grade=3, max_queries=6)
    settings = SFTSettings.from_dict({"targets": "context_titles", "selection": "template", "max_new_tokens": 40,
                                      "max_queries": 6})
    records = context_title_targets(setup, settings)
    reward = setup.reward(settings.reward)
    shown, terms, brands = setup.context(), setup.feedback(), setup.brands()
    assert all(len(t) == 6 for t in terms.values())  # what the prompt shows
    chosen = {r["template"] for r in records}
    assert len(chosen) == 1
    shape = chosen.pop()
    # recompute every shape's mean reward by hand from the options: the chosen one is the best
    sums: dict[str, float] = {}
    for r in records:
        titles = [debranded_title(p, r["query"]) for p in shown[r["query_id"]]]
        prf = " ".join(t for t in terms[r["query_id"]] if not brands.find([t]))
        for text, value in zip(r["samples"], r["rewards"]):
            option = json.loads(text)
            assert reward.total(r["query_id"], text[len(setup.answer_prefix):]) == pytest.approx(value)
            with_prf = option[0] == prf
            rest = option[1:] if with_prf else option
            assert rest == titles[: len(rest)]  # the first k shown titles, in order
            name = ("prf+" if with_prf else "") + f"{len(rest)} titles"
            sums[name] = sums.get(name, 0.0) + value
    assert sums[shape] == pytest.approx(max(sums.values()))
    with_target = [r for r in records if r["target"]]
    assert len(with_target) >= 4
    for r in with_target:  # the same shape everywhere (fewer titles only where fewer were shown or fit)
        target = json.loads(r["target"])
        assert (target[0] == " ".join(t for t in terms[r["query_id"]] if not brands.find([t]))) == \
            shape.startswith("prf+")
        continuation = r["target"][len(setup.answer_prefix):]
        assert list(reward.score([r["query_id"]], [continuation])[0].kept) == target
        assert len(setup.tokenizer()(continuation, add_special_tokens=False)["input_ids"]) <= 40
    with pytest.raises(ValueError, match="train.selection='best'"):
        SFTSettings.from_dict({"selection": "best"})


@pytest.mark.slow
def test_tiny_sft_trains_the_last_layer_and_is_seeded(world, retriever: Retriever, tiny_model: Path,
                                                     tmp_path: Path) -> None:
    from safetensors.torch import load_file

    settings = SFTSettings.from_dict(TINY_SFT)
    first = train_sft(make_setup(world, retriever, tiny_model, tmp_path), settings, tmp_path / "a")
    before = load_file(str(tiny_model / "model.safetensors"))
    after = load_file(str(first.final_dir / "model.safetensors"))
    changed = {k for k in before if not bool((before[k] == after[k]).all())}
    assert changed and all(k.startswith("model.layers.1.") or k == "model.norm.weight" for k in changed), changed
    curves = pd.read_csv(first.out_dir / "curves.csv")
    assert curves["loss"].notna().all() and len(curves) == first.steps
    assert (first.out_dir / "targets.jsonl").is_file() and first.extra["targets"] >= 4
    second = train_sft(make_setup(world, retriever, tiny_model, tmp_path), settings, tmp_path / "b")
    assert list(pd.read_csv(second.out_dir / "curves.csv")["loss"]) == pytest.approx(list(curves["loss"]), abs=1e-9)


@pytest.mark.slow
def test_sft_then_leser_reuses_the_sft_model_and_checkpoints_load(world, retriever: Retriever, tiny_model: Path,
                                                                tmp_path: Path) -> None:
    from baselines.sft import build_sft
    from leser_bench.methods.leser import build_leser

    model = model_cfg(tiny_model, tmp_path / "cache").__dict__
    context = MethodContext(dataset=world, retriever=retriever, cache_dir=tmp_path / "cache", seed=3,
                            config={"model": model, "rules": {}, "evaluation": {"split": "test"}})
    method = {"name": "leser", "kind": "leser", "output_dir": str(tmp_path / "leser"), "prompt": PROMPT,
              "generation": {"max_new_tokens": 8, "temperature": 0.0, "batch_size": 4}, "rules": {},
              "answer_prefix": '["',  # prompts become rendered text + prefix, in training and evaluation
              "train": {"max_steps": 2, "num_generations": 2, "per_device_train_batch_size": 2,
                        "max_completion_length": 8, "max_queries": 4, "init_from": "sft",
                        "lora": {"r": 4, "alpha": 8, "last_n_layers": 1}},
              "sft": TINY_SFT}
    sft = build_sft({**method, "name": "sft", "kind": "sft", "output_dir": str(tmp_path / "sft"), "train": TINY_SFT},
                    context)
    expander = build_leser(method, context)
    out = tmp_path / "leser"
    assert not (out / "sft").exists()  # the identical SFT training of the `sft` method is reused ...
    meta = json.loads((out / "meta.json").read_text())
    assert meta["base_model"] == str((tmp_path / "sft" / "final").resolve())  # ... as GRPO's starting weights
    assert sft.expand(world.split("test").queries[:1])[0].query_id == world.split("test").queries[0].id
    queries = world.split("test").queries
    expansions = expander.expand(queries)
    assert [e.query_id for e in expansions] == [q.id for q in queries]
    assert all(e.generated_tokens >= 1 and "format" in e.violations for e in expansions)
    assert all(e.raw_output.startswith('["') for e in expansions)

    again = build_sft({**method, "name": "sft", "kind": "sft", "checkpoint": str(out)}, context)
    assert [e.raw_output for e in again.expand(queries)] == [e.raw_output for e in expansions]
    with pytest.raises(ConfigError, match="holds no model"):
        build_sft({**method, "checkpoint": str(tmp_path)}, context)
    with pytest.raises(ConfigError, match="evaluated split"):
        build_leser({**method, "checkpoint": None}, MethodContext(
            dataset=world, retriever=retriever, cache_dir=tmp_path, seed=3,
            config={"model": model, "evaluation": {"split": "train"}}))

    # an SFT warm start nobody trained before is trained first, under LESER's own directory
    fresh = tmp_path / "leser-fresh"
    build_leser({**method, "output_dir": str(fresh), "sft": {**TINY_SFT, "learning_rate": 1e-3}}, context)
    assert (fresh / "sft" / "final" / "config.json").is_file()  # SFT first ...
    meta = json.loads((fresh / "meta.json").read_text())
    assert meta["base_model"] == str((fresh / "sft" / "final").resolve())  # ... then GRPO from its weights


def test_training_dir_without_a_run_dir_is_keyed_by_the_data_not_only_its_name(tmp_path: Path) -> None:
    """Outside a pipeline run and Hydra, two data sets with the same name and seed but other queries
    must not write their trainings into the same directory."""
    from types import SimpleNamespace

    from leser_bench.policy.trained import output_dir

    a = generate_world(WorldConfig(seed=3, n_products=500, n_train=6, n_test=3))
    b = generate_world(WorldConfig(seed=3, n_products=500, n_train=8, n_test=3))
    assert a.name == b.name
    method = {"name": "leser", "kind": "leser"}
    where = [output_dir(method, SimpleNamespace(run_dir=None, dataset=d, seed=13, cache_dir=tmp_path)) for d in (a, a, b)]
    assert where[0] == where[1] != where[2]
    assert where[0].parent == tmp_path / "training-runs" and where[0].name.startswith("leser-")
