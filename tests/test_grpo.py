"""GRPO wiring on a tiny random policy (SmolLM2's tokenizer, 2 layers, hidden 64) and a small world.

The real TRL GRPOTrainer, the real search reward over a real Pyserini index; only the model is tiny.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from leser_bench.data.world import WorldConfig, generate_world
from leser_bench.llm.config import ModelConfig
from leser_bench.retrieval import Retriever
from leser_bench.policy.rules import RulesConfig
from leser_bench.training.data import TrainingSetup, prompt_config
from leser_bench.training.grpo import GRPOSettings, train_grpo
from leser_bench.training.reward import RewardLeakError

TINY_RUN = {"max_steps": 3, "num_generations": 2, "per_device_train_batch_size": 4, "max_completion_length": 8,
            "learning_rate": 5e-3, "beta": 0.05, "save_steps": 2, "torch_threads": 1, "max_queries": 6,
            "lora": {"enabled": True, "r": 4, "alpha": 8}}


@pytest.fixture(scope="module")
def world():
    return generate_world(WorldConfig(seed=3, n_products=500, n_train=12, n_test=4))


def make_setup(world, retriever: Retriever, model_dir: Path) -> TrainingSetup:
    return TrainingSetup(world, retriever, prompt_config({"context_k": 3}), RulesConfig(),
                         ModelConfig(path=str(model_dir), gguf_package=None), relevant_grade=3)


def state(model_dir: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(model_dir / "model.safetensors"))


def test_reward_holds_only_training_judgments(world, retriever: Retriever, tiny_model: Path) -> None:
    setup = make_setup(world, retriever, tiny_model)
    reward = setup.reward(GRPOSettings().reward)
    train_ids = {q.id for q in world.split("train").queries}
    test_ids = {q.id for q in world.split("test").queries}
    assert set(reward.qrels) == train_ids and not set(reward.qrels) & test_ids
    assert {row["query_id"] for row in setup.rows()} <= train_ids
    with pytest.raises(RewardLeakError):
        reward.score([sorted(test_ids)[0]], ['["anything"]'])


@pytest.mark.slow
def test_tiny_grpo_changes_weights_logs_rewards_and_is_seeded(world, retriever: Retriever, tiny_model: Path,
                                                             tmp_path: Path) -> None:
    settings = GRPOSettings.from_dict(TINY_RUN)
    first = train_grpo(make_setup(world, retriever, tiny_model), settings, tmp_path / "a")
    assert first.steps == 3
    before, after = state(tiny_model), state(first.final_dir)
    changed = [k for k in before if not bool((before[k] == after[k]).all())]
    assert changed and all("layers" in k for k in changed)  # LoRA merged into the adapted projections
    assert (first.out_dir / "adapter" / "adapter_config.json").is_file()
    assert list((first.out_dir / "checkpoints").glob("checkpoint-2"))
    curves = pd.read_csv(first.out_dir / "curves.csv")
    assert list(curves["step"]) == [1, 2, 3]
    for column in ("reward", "rewards/relevance/mean", "rewards/coverage/mean", "rewards/compliance/mean",
                   "rewards/format/mean", "kl", "completions/mean_length", "violation_rate", "step_seconds"):
        assert column in curves and curves[column].notna().all(), column
    assert (first.out_dir / "curves.png").stat().st_size > 1000
    assert first.extra["reward_stats"]["batches"] == 3 and first.summary["reward_share"] < 1

    second = train_grpo(make_setup(world, retriever, tiny_model), settings, tmp_path / "b")
    again = pd.read_csv(second.out_dir / "curves.csv")
    for column in ("reward", "rewards/relevance/mean", "rewards/format/mean", "completions/mean_length"):
        assert list(again[column]) == pytest.approx(list(curves[column]), abs=1e-9), column


def test_grpo_config_is_built_from_settings_cpu_and_vllm(tmp_path: Path) -> None:
    cpu = GRPOSettings.from_dict({"max_steps": 7, "beta": 0.0, "reward": {"weights": {"coverage": 0.0}}})
    args = cpu.grpo_config(tmp_path)
    assert (args.max_steps, args.num_generations, args.beta, args.loss_type) == (7, 4, 0.0, "dapo")
    assert args.use_cpu and not args.bf16 and not args.gradient_checkpointing and not args.use_vllm
    assert args.reward_weights == [1.0, 0.25, 0.25]  # relevance, compliance, format (coverage off)
    gpu = GRPOSettings.from_dict({"use_cpu": False, "use_vllm": True, "vllm_mode": "server",
                                  "vllm_server_base_url": "http://localhost:8000", "extra": {"epsilon_high": 0.28}})
    args = gpu.grpo_config(tmp_path)
    assert args.use_vllm and args.vllm_mode == "server" and args.vllm_server_base_url == "http://localhost:8000"
    assert args.epsilon_high == 0.28


def test_bad_settings_name_the_key() -> None:
    with pytest.raises(ValueError, match="num_generations"):
        GRPOSettings.from_dict({"num_generations": 3, "per_device_train_batch_size": 8})
    with pytest.raises(ValueError, match="unknown train"):
        GRPOSettings.from_dict({"max_stpes": 3})
    with pytest.raises(ValueError, match="vllm_mode"):
        GRPOSettings.from_dict({"vllm_mode": "remote"})


def test_report_to_is_a_setting_checked_before_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """issue 16: `train.report_to` is a setting of both trainers (default: no tracker), passed to TRL; an
    unknown tracker or one whose package is missing is refused naming the key; `extra.report_to` is refused."""
    import sys

    from leser_bench.training.sft import SFTSettings

    assert GRPOSettings.from_dict({}).grpo_config(tmp_path).report_to == []
    assert SFTSettings.from_dict({}).sft_config(tmp_path).report_to == []
    assert GRPOSettings.from_dict({"report_to": "none"}).report_to == ()
    grpo = GRPOSettings.from_dict({"report_to": ["tensorboard"]})
    assert grpo.grpo_config(tmp_path).report_to == ["tensorboard"]
    assert SFTSettings.from_dict({"report_to": ["tensorboard"]}).sft_config(tmp_path).report_to == ["tensorboard"]
    with pytest.raises(ValueError, match="train.report_to: 'tensorbord' is not a known tracker; allowed: "
                                         "tensorboard, mlflow, wandb \\(or none\\)"):
        GRPOSettings.from_dict({"report_to": ["tensorbord"]})
    with pytest.raises(ValueError, match="'none' cannot be combined"):
        SFTSettings.from_dict({"report_to": ["none", "tensorboard"]})
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if it were not installed
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ValueError, match="train.report_to: 'tensorboard' needs the tensorboard package, which "
                                         "is not installed \\(pip install tensorboard\\)"):
        SFTSettings.from_dict({"report_to": ["tensorboard"]})
    with pytest.raises(ValueError, match="extra \\[.report_to.\\] are settings of their own: set them directly"):
        GRPOSettings.from_dict({"extra": {"report_to": ["tensorboard"]}})
    with pytest.raises(ValueError, match="extra \\[.max_steps.\\] are settings of their own: set them directly"):
        GRPOSettings.from_dict({"extra": {"max_steps": 3}})


def test_a_tracker_does_not_change_the_training_key(world, retriever: Retriever, tiny_model: Path) -> None:
    """Where the curves go is not what the model is: report_to leaves the reuse key as it was."""
    from leser_bench.training.registry import training_key

    setup = make_setup(world, retriever, tiny_model)
    plain = training_key("grpo", GRPOSettings.from_dict({}), setup)
    assert training_key("grpo", GRPOSettings.from_dict({"report_to": ["tensorboard"]}), setup) == plain
    assert training_key("grpo", GRPOSettings.from_dict({"max_steps": 3}), setup) != plain


@pytest.mark.slow
def test_constrained_rollouts_sample_only_the_allowed_answers(world, retriever: Retriever, tiny_model: Path,
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """issue 15: with train.constrained_rollouts every GRPO completion the reward scores is one of its prompt's
    allowed answers (the shown items, as the evaluation's `constrain: shown` allows them)."""
    from leser_bench.policy.choices import answer_choices, shown_items
    from leser_bench.policy.rules import RuleChecker
    from leser_bench.training.reward import SearchReward

    setup = TrainingSetup(world, retriever, prompt_config({"context_k": 3, "prf_terms": 4}), RulesConfig(),
                          ModelConfig(path=str(tiny_model), gguf_package=None), relevant_grade=3, answer_prefix='["')
    seen: list[tuple[str, str]] = []
    original = SearchReward.score

    def recording(self, query_ids, completions):  # noqa: ANN001, ANN202 - observes, then scores as always
        seen.extend(zip(query_ids, completions))
        return original(self, query_ids, completions)

    monkeypatch.setattr(SearchReward, "score", recording)
    settings = GRPOSettings.from_dict({**TINY_RUN, "max_steps": 2, "max_completion_length": 40,
                                       "constrained_rollouts": True})
    with pytest.raises(ValueError, match="constrained_rollouts needs"):
        train_grpo(setup, settings, tmp_path / "free")
    result = train_grpo(setup, settings, tmp_path / "a", constrain="shown")
    # each reward component scores the batch (the reward caches the search): 2 steps x 8 completions, or more
    assert result.steps == 2 and len(seen) >= 2 * TINY_RUN["per_device_train_batch_size"]
    checker, brands, shown, terms = RuleChecker(setup.rules), setup.brands(), setup.context(), setup.feedback()
    queries = {q.id: q.text for q in setup.train.queries}
    for query_id, completion in seen:
        titles, prf = shown_items(queries[query_id], shown[query_id], terms[query_id], setup.prompt, checker, brands)
        allowed = answer_choices(titles + ([prf] if prf else []), 3, '["')
        assert completion in allowed, (query_id, completion)
    assert len({c for _, c in seen}) > 1  # sampled, not one fixed answer
