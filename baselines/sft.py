"""The SFT baseline: the base model fine-tuned (TRL SFTTrainer) on search-feedback rejection-sampled
expansions (or Exact product titles) of the train split, evaluated like the context-aware prompted
model. ``method.checkpoint=<dir>`` loads a trained model instead of training."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from leser_bench.methods import ConfigError, MethodContext


def build_sft(method_cfg: Mapping[str, Any], context: MethodContext) -> Any:
    from leser_bench.training.policy import (  # noqa: PLC0415
        output_dir,
        policy_expander,
        resolve_checkpoint,
        threads_default,
        training_setup,
    )
    from leser_bench.training.sft import SFTSettings, train_sft  # noqa: PLC0415

    if method_cfg.get("checkpoint"):
        return policy_expander(method_cfg, context, resolve_checkpoint(method_cfg["checkpoint"]))
    setup = training_setup(method_cfg, context)
    try:
        settings = SFTSettings.from_dict(threads_default(method_cfg.get("train"), setup.model))
    except ValueError as exc:
        raise ConfigError(f"methods.{method_cfg.get('name')}.train: {exc}") from None
    result = train_sft(setup, settings, output_dir(method_cfg, context))
    return policy_expander(method_cfg, context, result.final_dir)
