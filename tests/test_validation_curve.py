"""The GRPO validation curve (train.validation): real TRL trainer, real index, tiny random policy.

It must only watch: the training with the monitor on gives the same training curves and weights as
without it, and its numbers are what scoring the saved weights on the validation split gives.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from leser_bench.data.world import WorldConfig, generate_world
from leser_bench.llm.config import ModelConfig
from leser_bench.policy.rules import RulesConfig
from leser_bench.retrieval import Retriever
from leser_bench.training.common import load_policy
from leser_bench.training.data import TrainingSetup, prompt_config
from leser_bench.training.grpo import GRPOSettings, train_grpo
from leser_bench.training.validation import ValidationMonitor, ValidationSettings

RUN = {"max_steps": 3, "num_generations": 2, "per_device_train_batch_size": 4, "max_completion_length": 8,
       "learning_rate": 5e-3, "beta": 0.05, "save_steps": 2, "torch_threads": 1, "max_queries": 6,
       "lora": {"enabled": True, "r": 4, "alpha": 8}}
WATCH = {"every": 2, "max_queries": 5, "batch_size": 2}


@pytest.fixture(scope="module")
def world():
    return generate_world(WorldConfig(seed=5, n_products=500, n_train=10, n_test=4, n_valid=6))


def make_setup(world, retriever: Retriever, model_dir: Path) -> TrainingSetup:
    return TrainingSetup(world, retriever, prompt_config({"context_k": 3}), RulesConfig(),
                         ModelConfig(path=str(model_dir), gguf_package=None), relevant_grade=3,
                         answer_prefix='["')


def test_settings_parse_and_refuse_bad_values(world, retriever: Retriever, tiny_model: Path) -> None:
    settings = GRPOSettings.from_dict({"validation": {"every": 5, "measures": ["R@100"]}})
    assert settings.validation == ValidationSettings(every=5, measures=("R@100",))
    with pytest.raises(ValueError, match="train.validation"):
        GRPOSettings.from_dict({"validation": {"evry": 5}})
    with pytest.raises(ValueError, match="training split"):
        ValidationMonitor(make_setup(world, retriever, tiny_model), ValidationSettings(every=1, split="train"), 8)
    with pytest.raises(ValueError, match="n_valid"):
        ValidationMonitor(make_setup(world, retriever, tiny_model), ValidationSettings(every=1, split="dev"), 8)


@pytest.mark.slow
def test_the_monitor_watches_without_changing_the_training(world, retriever: Retriever, tiny_model: Path,
                                                           tmp_path: Path) -> None:
    plain = train_grpo(make_setup(world, retriever, tiny_model), GRPOSettings.from_dict(RUN), tmp_path / "plain")
    watched = train_grpo(make_setup(world, retriever, tiny_model),
                         GRPOSettings.from_dict({**RUN, "validation": WATCH}), tmp_path / "watched")
    before = pd.read_csv(plain.out_dir / "curves.csv")
    after = pd.read_csv(watched.out_dir / "curves.csv")
    # validation at the start, at step 2 (every 2) and at the last step
    rows = after.dropna(subset=["valid/R@100"])
    assert list(rows["step"]) == [0, 2, 3]
    for column in ("valid/R@100", "valid/nDCG@10", "valid/violation_rate", "valid/fallback_rate"):
        assert rows[column].between(0, 1).all(), column
    training = after[after["step"] > 0].reset_index(drop=True)
    for column in ("reward", "rewards/relevance/mean", "kl", "completions/mean_length"):
        assert list(training[column]) == pytest.approx(list(before[column]), abs=1e-9), column

    # the last row is the saved final model scored afresh on the validation split
    model, tokenizer = load_policy(str(watched.final_dir))
    monitor = ValidationMonitor(make_setup(world, retriever, tiny_model), ValidationSettings(**WATCH), 8)
    fresh = monitor.evaluate(model, tokenizer)
    last = rows.iloc[-1]
    for name, value in fresh.items():
        assert last[name] == pytest.approx(value, abs=1e-6), name


@pytest.mark.slow
def test_the_curve_of_a_constrained_rollout_training(world, retriever: Retriever, tiny_model: Path,
                                                     tmp_path: Path) -> None:
    """issue 15 (found by a 48-step run that stopped at its first curve point): with constrained rollouts the
    monitor's own prompts are not taken for rollouts, and its numbers are the constrained greedy decoding of
    the weights at that step, as the evaluation decodes them."""
    setup = make_setup(world, retriever, tiny_model)
    settings = GRPOSettings.from_dict({**RUN, "max_completion_length": 40, "constrained_rollouts": True,
                                       "validation": WATCH})
    result = train_grpo(setup, settings, tmp_path / "constrained", constrain="shown")
    rows = pd.read_csv(result.out_dir / "curves.csv").dropna(subset=["valid/R@100"])
    assert list(rows["step"]) == [0, 2, 3]
    model, tokenizer = load_policy(str(result.final_dir))
    monitor = ValidationMonitor(make_setup(world, retriever, tiny_model), ValidationSettings(**WATCH), 40, "shown")
    fresh = monitor.evaluate(model, tokenizer)
    for name, value in fresh.items():
        assert rows.iloc[-1][name] == pytest.approx(value, abs=1e-6), name
    assert fresh["valid/violation_rate"] == 0  # every validation answer is an allowed one
