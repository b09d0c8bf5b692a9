"""The SFT baseline: the base model fine-tuned (TRL SFTTrainer) on search-feedback rejection-sampled
expansions (or Exact product titles, or the best-rewarded shown titles) of the train split, evaluated like the context-aware prompted
model. ``method.checkpoint=<dir>`` loads a trained model instead of training. The trained model is
registered under a content hash of its training, so LESER's SFT warm start reuses it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from leser_bench.methods import MethodContext


def check_sft(method_cfg: Mapping[str, Any], view: Any) -> None:  # noqa: ARG001
    """The SFT settings (conf/train/sft.yaml under ``train``) parse and are possible."""
    from leser_bench.training.policy import parsed_settings  # noqa: PLC0415
    from leser_bench.training.sft import SFTSettings  # noqa: PLC0415

    if not method_cfg.get("checkpoint"):
        parsed_settings(SFTSettings, method_cfg.get("train"), f"methods.{method_cfg.get('name')}.train")


def build_sft(method_cfg: Mapping[str, Any], context: MethodContext) -> Any:
    from leser_bench.training.policy import build_trained_policy  # noqa: PLC0415

    return build_trained_policy(method_cfg, context, train_sft_method)


def train_sft_method(method_cfg: Mapping[str, Any], context: MethodContext) -> Path:
    """Train the SFT baseline and register it (LESER's warm start finds it); returns the model directory."""
    from leser_bench.training.policy import (  # noqa: PLC0415
        output_dir,
        parsed_settings,
        stage_reuse,
        threads_default,
        trained_or_resumed,
        training_key,
        training_setup,
    )
    from leser_bench.training.sft import SFTSettings, train_sft  # noqa: PLC0415

    setup = training_setup(method_cfg, context)
    settings = parsed_settings(SFTSettings, threads_default(method_cfg.get("train"), setup.model),
                               f"methods.{method_cfg.get('name')}.train")
    if settings.max_queries:
        setup.max_queries = settings.max_queries
    out = output_dir(method_cfg, context)
    return trained_or_resumed(context.cache_dir, training_key("sft", settings, setup), out,
                              lambda resume: train_sft(setup, settings, out, resume).final_dir,
                              reuse=stage_reuse(context))
