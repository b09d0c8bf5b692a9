"""LESER's training: TRL ``GRPOTrainer`` on the training split, rewarded by the search engine.

``leser_bench/conf/train/grpo.yaml`` -> :class:`GRPOSettings` -> ``trl.GRPOConfig`` (every knob explicit, CPU
defaults) and an optional ``peft.LoraConfig``. :func:`train_grpo` writes, under its output
directory: ``checkpoints/`` (TRL checkpoints), ``final/`` (a plain transformers model: LoRA merged
into the base), ``adapter/`` (the LoRA adapter alone, when LoRA is on), ``curves.csv``,
``curves.png`` and ``meta.json`` (settings, time, step and reward timings).

The same settings run on a GPU machine with vLLM generation (``use_vllm: true``, ``vllm_mode``)
and several GPUs through ``accelerate launch`` (docs/training.md); nothing here starts vLLM.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from leser_bench.io.cache import atomic_write_text
from leser_bench.training.common import (
    LoraSettings,
    TrainResult,
    freeze_lower_layers,
    load_policy,
    num_layers,
    save_final,
    settings_from_dict,
    torch_threads,
    trainer_kwargs,
)
from leser_bench.training.checkpoints import train_from
from leser_bench.training.curves import CurveRecorder
from leser_bench.training.data import TrainingSetup, model_source
from leser_bench.training.reward import RewardConfig
from leser_bench.training.validation import ValidationMonitor, ValidationSettings

log = logging.getLogger(__name__)

LOSS_TYPES = ("grpo", "dr_grpo", "dapo", "bnpo", "cispo", "sapo")
VLLM_MODES = ("colocate", "server")


@dataclass(frozen=True)
class GRPOSettings:
    """The ``train`` config of LESER; defaults as leser_bench/conf/train/grpo.yaml, which says why (kept equal by
    tests/test_config_defaults.py). ``seed`` is the run's ``seed`` in the YAML (13 by default)."""

    max_steps: int = 16
    num_generations: int = 4
    per_device_train_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    max_completion_length: int = 24
    temperature: float = 0.8
    top_p: float = 1.0
    beta: float = 0.02
    loss_type: str = "dapo"
    scale_rewards: str = "group"
    epsilon: float = 0.2
    num_iterations: int = 1
    learning_rate: float = 5e-4
    lr_scheduler_type: str = "constant"
    warmup_steps: int = 0
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    logging_steps: int = 1
    #: trackers TRL logs the training to (tensorboard, mlflow, wandb; empty = none): checked before work.
    report_to: tuple[str, ...] = ()
    save_steps: int = 8
    save_total_limit: int = 2
    seed: int = 13
    use_cpu: bool = True
    bf16: bool = False
    gradient_checkpointing: bool = False
    #: at most this many training queries (0 = the whole train split).
    max_queries: int = 0
    #: "base" (the model config's weights) or "sft" (warm start from the SFT baseline's model).
    init_from: str = "base"
    #: torch intra-op threads while training (null: torch's default).
    torch_threads: int | None = None
    lora: LoraSettings = field(default_factory=LoraSettings)
    reward: RewardConfig = field(default_factory=RewardConfig)
    #: the validation curve (monitoring only): every N steps, greedy expansions of the validation split.
    validation: ValidationSettings = field(default_factory=ValidationSettings)
    #: sample the rollouts under the method's ``constrain: shown`` too (leser_bench/training/rollouts.py).
    constrained_rollouts: bool = False
    # -- scale-out (GPU) --
    use_vllm: bool = False
    vllm_mode: str = "colocate"
    vllm_gpu_memory_utilization: float = 0.3
    vllm_tensor_parallel_size: int = 1
    vllm_server_base_url: str | None = None
    #: any other GRPOConfig field, passed as is (GRPOConfig validates it).
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.loss_type not in LOSS_TYPES:
            raise ValueError(f"train.loss_type={self.loss_type!r}; allowed: {list(LOSS_TYPES)}")
        if self.vllm_mode not in VLLM_MODES:
            raise ValueError(f"train.vllm_mode={self.vllm_mode!r}; allowed: {list(VLLM_MODES)}")
        if self.init_from not in ("base", "sft"):
            raise ValueError(f"train.init_from={self.init_from!r}; allowed: base, sft")
        if self.num_generations < 2:
            raise ValueError("train.num_generations must be >= 2 (GRPO compares completions of one prompt)")
        if (self.per_device_train_batch_size * self.gradient_accumulation_steps) % self.num_generations:
            raise ValueError(f"train.per_device_train_batch_size x gradient_accumulation_steps "
                             f"({self.per_device_train_batch_size} x {self.gradient_accumulation_steps}) must be a "
                             f"multiple of train.num_generations ({self.num_generations})")
        if self.max_steps < 1 or self.max_completion_length < 1:
            raise ValueError("train.max_steps and train.max_completion_length must be >= 1")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> GRPOSettings:
        return settings_from_dict(cls, values, "train (grpo)")

    def grpo_config(self, output_dir: Path | str) -> Any:
        """The ``trl.GRPOConfig`` of these settings (builds nothing else; vLLM is not started)."""
        from trl import GRPOConfig  # noqa: PLC0415

        vllm = {}
        if self.use_vllm:
            vllm = {"use_vllm": True, "vllm_mode": self.vllm_mode,
                    "vllm_gpu_memory_utilization": self.vllm_gpu_memory_utilization,
                    "vllm_tensor_parallel_size": self.vllm_tensor_parallel_size}
            if self.vllm_server_base_url:
                vllm["vllm_server_base_url"] = self.vllm_server_base_url
        return GRPOConfig(**trainer_kwargs(dict(
            output_dir=str(output_dir), max_steps=self.max_steps, num_generations=self.num_generations,
            per_device_train_batch_size=self.per_device_train_batch_size,
            gradient_accumulation_steps=self.gradient_accumulation_steps,
            max_completion_length=self.max_completion_length, temperature=self.temperature, top_p=self.top_p,
            beta=self.beta, loss_type=self.loss_type, scale_rewards=self.scale_rewards, epsilon=self.epsilon,
            num_iterations=self.num_iterations, learning_rate=self.learning_rate,
            lr_scheduler_type=self.lr_scheduler_type, warmup_steps=self.warmup_steps,
            weight_decay=self.weight_decay, max_grad_norm=self.max_grad_norm, logging_steps=self.logging_steps,
            save_strategy="steps", save_steps=self.save_steps, save_total_limit=self.save_total_limit,
            save_only_model=False, seed=self.seed, data_seed=self.seed, use_cpu=self.use_cpu, bf16=self.bf16,
            gradient_checkpointing=self.gradient_checkpointing, report_to=list(self.report_to), dataloader_num_workers=0,
            reward_weights=self.reward_weights(), disable_tqdm=False, log_completions=False,
            remove_unused_columns=False, **vllm), self.extra))

    def reward_weights(self) -> list[float]:
        return [float(self.reward.weights[c]) for c in self.reward.active()]

    def describe(self) -> dict[str, Any]:
        return asdict(self)


def train_grpo(setup: TrainingSetup, settings: GRPOSettings, out_dir: Path, init_model: str | None = None,
               resume_from: Path | None = None, constrain: str | None = None) -> TrainResult:
    """Run GRPO; ``init_model`` (a directory) replaces the model config's base weights (SFT warm start);
    ``resume_from`` (an intact checkpoint of the identical training) continues an interrupted run;
    ``constrain`` (the method's) makes the validation curve decode as the evaluation does. Rollouts are
    not constrained (TRL's generation has no per-prompt hook)."""
    from datasets import Dataset as HFDataset  # noqa: PLC0415
    from trl import GRPOTrainer  # noqa: PLC0415

    out_dir.mkdir(parents=True, exist_ok=True)
    if settings.max_queries:
        setup.max_queries = settings.max_queries
    source = init_model or model_source(setup.model)
    reward = setup.reward(settings.reward)
    rows = setup.rows()
    if not rows:
        raise ValueError(f"split {setup.split_name!r} has no judged query to train on")
    with torch_threads(settings.torch_threads):
        model, tokenizer = load_policy(source, setup.model.dtype)
        if not settings.lora.enabled:
            freeze_lower_layers(model, settings.lora.last_n_layers)
        recorder = CurveRecorder()
        callbacks = [recorder.callback()]
        if settings.validation.every:
            monitor = ValidationMonitor(setup, settings.validation, settings.max_completion_length, constrain)
            callbacks.append(monitor.callback(recorder))
        trainer = GRPOTrainer(model=model, reward_funcs=reward.callables(),
                              args=settings.grpo_config(out_dir / "checkpoints"),
                              train_dataset=HFDataset.from_list(rows), processing_class=tokenizer,
                              peft_config=settings.lora.peft_config(num_layers(model)),
                              callbacks=callbacks)
        if settings.constrained_rollouts:
            if constrain != "shown" or settings.use_vllm:
                raise ValueError("train.constrained_rollouts needs the method's constrain: shown and "
                                 "transformers generation (use_vllm: false)")
            from leser_bench.llm.hf_backend import eos_token_ids  # noqa: PLC0415
            from leser_bench.training.rollouts import constrain_rollouts, rollout_choices  # noqa: PLC0415

            constrain_rollouts(trainer.model, tokenizer, rollout_choices(setup),
                               eos_token_ids(trainer.model, tokenizer), settings.max_completion_length)
        log.info("GRPO: %d training queries, %d steps, model %s", len(rows), settings.max_steps, source)
        started = time.perf_counter()
        train_from(trainer, recorder, resume_from)
        seconds = time.perf_counter() - started
        final_dir = out_dir / "final"
        writer = trainer.is_world_process_zero()  # under accelerate, one process writes the results
        if writer:
            save_final(trainer.model, tokenizer, out_dir, settings.lora.enabled)
    summary = recorder.summary()
    if writer:
        recorder.save(out_dir, title=f"LESER GRPO ({len(rows)} train queries)")
        meta = {"kind": "grpo", "base_model": source, "train_queries": len(rows), "seconds": seconds,
                "steps": int(trainer.state.global_step), "summary": summary, "reward_stats": dict(reward.stats),
                "settings": settings.describe(),
                "resumed_from": str(resume_from) if resume_from else None}
        atomic_write_text(out_dir / "meta.json", json.dumps(meta, indent=2, default=str))
    return TrainResult(final_dir, out_dir, seconds, int(trainer.state.global_step), summary,
                       {"reward_stats": dict(reward.stats), "train_queries": len(rows)})
