"""The SFT baseline: TRL ``SFTTrainer`` on targets built from the training split.

Targets (``targets`` in leser_bench/conf/train/sft.yaml; built by :mod:`leser_bench.training.sft_targets`):
``rejection`` (default: search-feedback rejection sampling from the base model), ``exact_titles``
(product-type phrases of the query's Exact training products) and ``context_titles`` (the best
combination, by the same search reward, of the shown results' titles without their brand).

Output (as GRPO's): ``final/``, ``adapter/`` (LoRA), ``checkpoints/``, ``curves.csv``/``.png``,
``targets.jsonl`` (what was trained on) and ``meta.json``.
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
from leser_bench.training.sft_targets import BUILDERS, SELECTIONS, context_title_targets, rejection_targets, title_targets

__all__ = ["SFTSettings", "train_sft", "context_title_targets", "rejection_targets", "title_targets"]

log = logging.getLogger(__name__)

TARGETS = tuple(BUILDERS)


@dataclass(frozen=True)
class SFTSettings:
    """The ``train`` config of the SFT baseline; defaults as leser_bench/conf/train/sft.yaml (kept equal by
    tests/test_config_defaults.py)."""

    targets: str = "rejection"
    # -- rejection sampling --
    n_samples: int = 4
    sample_temperature: float = 1.0
    sample_top_p: float = 1.0
    max_new_tokens: int = 24
    #: keep a query's best sample only when its weighted reward is above this.
    min_reward: float = 0.0
    #: sampling prompts per forward batch.
    sample_batch_size: int = 8
    # -- exact titles --
    titles_per_query: int = 3
    # -- context titles --
    #: per_query: each query's best combination by the search reward; template: the one answer shape
    #: (the first k shown titles, with or without the prompt's PRF terms) whose mean reward over the
    #: training queries is best, used for every query.
    selection: str = "per_query"
    # -- training --
    max_queries: int = 96
    num_train_epochs: float = 2.0
    max_steps: int = -1
    learning_rate: float = 5e-4
    per_device_train_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    lr_scheduler_type: str = "constant"
    warmup_steps: int = 0
    max_length: int = 512
    logging_steps: int = 1
    #: trackers TRL logs the training to (tensorboard, mlflow, wandb; empty = none): checked before work.
    report_to: tuple[str, ...] = ()
    save_steps: int = 1000
    save_total_limit: int = 1
    seed: int = 13
    use_cpu: bool = True
    bf16: bool = False
    gradient_checkpointing: bool = False
    torch_threads: int | None = None
    lora: LoraSettings = field(default_factory=LoraSettings)
    reward: RewardConfig = field(default_factory=RewardConfig)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.targets not in TARGETS:
            raise ValueError(f"train.targets={self.targets!r}; allowed: {list(TARGETS)}")
        if self.selection not in SELECTIONS:
            raise ValueError(f"train.selection={self.selection!r}; allowed: {list(SELECTIONS)}")
        if self.n_samples < 1 or self.titles_per_query < 1:
            raise ValueError("train.n_samples and train.titles_per_query must be >= 1")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> SFTSettings:
        return settings_from_dict(cls, values, "train (sft)")

    def sft_config(self, output_dir: Path | str) -> Any:
        from trl import SFTConfig  # noqa: PLC0415

        return SFTConfig(**trainer_kwargs(dict(
            output_dir=str(output_dir), num_train_epochs=self.num_train_epochs, max_steps=self.max_steps,
            learning_rate=self.learning_rate, per_device_train_batch_size=self.per_device_train_batch_size,
            gradient_accumulation_steps=self.gradient_accumulation_steps, lr_scheduler_type=self.lr_scheduler_type,
            warmup_steps=self.warmup_steps, max_length=self.max_length, logging_steps=self.logging_steps,
            save_strategy="steps", save_steps=self.save_steps, save_total_limit=self.save_total_limit,
            save_only_model=False, seed=self.seed, data_seed=self.seed, use_cpu=self.use_cpu, bf16=self.bf16,
            gradient_checkpointing=self.gradient_checkpointing, report_to=list(self.report_to), dataloader_num_workers=0,
            completion_only_loss=True, disable_tqdm=False), self.extra))

    def describe(self) -> dict[str, Any]:
        return asdict(self)


def sft_row(prompt: Any, target: str, answer_prefix: str) -> dict[str, Any]:
    """A prompt-completion row: chat messages, or (with an answer prefix) the rendered prompt text and
    the target's continuation after the prefix (SFTTrainer appends the EOS token)."""
    if not answer_prefix:
        return {"prompt": prompt, "completion": [{"role": "assistant", "content": target}]}
    if not target.startswith(answer_prefix):
        raise ValueError(f"SFT target {target!r} does not start with the answer prefix {answer_prefix!r}")
    return {"prompt": prompt, "completion": target[len(answer_prefix):]}


def train_sft(setup: TrainingSetup, settings: SFTSettings, out_dir: Path, resume_from: Path | None = None) -> TrainResult:
    """Build the targets, then fine-tune; ``resume_from`` (an intact checkpoint of the identical training)
    continues an interrupted run (the seeded targets are rebuilt: they are the same)."""
    from datasets import Dataset as HFDataset  # noqa: PLC0415
    from trl import SFTTrainer  # noqa: PLC0415

    out_dir.mkdir(parents=True, exist_ok=True)
    if settings.max_queries:
        setup.max_queries = settings.max_queries
    started = time.perf_counter()
    with torch_threads(settings.torch_threads):
        records = BUILDERS[settings.targets](setup, settings)
    target_seconds = time.perf_counter() - started
    kept = [r for r in records if r["target"]]
    atomic_write_text(out_dir / "targets.jsonl",
                      "".join(json.dumps({k: v for k, v in r.items() if k != "prompt"}) + "\n" for r in records))
    if not kept:
        raise ValueError(f"SFT ({settings.targets}): no training query produced a target; see {out_dir / 'targets.jsonl'}")
    rows = [sft_row(r["prompt"], r["target"], setup.answer_prefix) for r in kept]
    source = model_source(setup.model)
    with torch_threads(settings.torch_threads):
        model, tokenizer = load_policy(source, setup.model.dtype)
        if not settings.lora.enabled:
            freeze_lower_layers(model, settings.lora.last_n_layers)
        recorder = CurveRecorder()
        trainer = SFTTrainer(model=model, args=settings.sft_config(out_dir / "checkpoints"),
                             train_dataset=HFDataset.from_list(rows), processing_class=tokenizer,
                             peft_config=settings.lora.peft_config(num_layers(model)),
                             callbacks=[recorder.callback()])
        log.info("SFT: %d targets (%s) from %d training queries", len(rows), settings.targets, len(records))
        train_started = time.perf_counter()
        train_from(trainer, recorder, resume_from)
        train_seconds = time.perf_counter() - train_started
        final_dir = out_dir / "final"
        writer = trainer.is_world_process_zero()  # under accelerate, one process writes the results
        if writer:
            save_final(trainer.model, tokenizer, out_dir, settings.lora.enabled)
            recorder.save(out_dir, title=f"SFT baseline ({settings.targets}, {len(rows)} targets)")
    extra = {"targets": len(rows), "queries": len(records), "target_seconds": target_seconds,
             "train_seconds": train_seconds}
    if all(r.get("target_reward") is not None for r in kept):  # the search-feedback builders record it
        extra["mean_target_reward"] = sum(r["target_reward"] for r in kept) / len(kept)
    meta = {"kind": "sft", "base_model": source, "seconds": target_seconds + train_seconds,
            "steps": int(trainer.state.global_step), "summary": recorder.summary(), **extra,
            "settings": settings.describe(), "resumed_from": str(resume_from) if resume_from else None}
    if writer:
        atomic_write_text(out_dir / "meta.json", json.dumps(meta, indent=2, default=str))
    return TrainResult(final_dir, out_dir, target_seconds + train_seconds, int(trainer.state.global_step),
                       recorder.summary(), extra)
