"""The SFT baseline: the base model fine-tuned (TRL SFTTrainer) on search-feedback targets of the train
split (rejection-sampled expansions, Exact product titles, or the best-rewarded shown titles), evaluated
like the context-aware prompted model. ``method.checkpoint=<dir>`` loads a trained model instead of
training. The trained model is registered under a content hash of its training, so LESER's SFT warm
start reuses it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from leser_bench.methods import MethodContext, MethodKind
from leser_bench.policy.trained import (
    build_trained_policy,
    check_policy,
    output_dir,
    parsed_settings,
    train_sft_model,
    training_split,
)


def check_sft(method_cfg: Mapping[str, Any], view: Any) -> None:
    """The policy's prompting keys and the SFT settings (leser_bench/conf/train/sft.yaml under ``train``) parse and are possible."""
    from leser_bench.training.sft import SFTSettings  # noqa: PLC0415

    check_policy(method_cfg, view)
    if not method_cfg.get("checkpoint"):
        parsed_settings(SFTSettings, method_cfg.get("train"), f"methods.{method_cfg.get('name')}.train")


def train_sft_method(method_cfg: Mapping[str, Any], context: MethodContext) -> Path:
    """Train the SFT baseline and register it (LESER's warm start finds it); returns the model directory."""
    final, _ = train_sft_model(method_cfg, context, method_cfg.get("train"), output_dir(method_cfg, context),
                               f"methods.{method_cfg.get('name')}.train")
    return final


def build_sft(method_cfg: Mapping[str, Any], context: MethodContext) -> Any:
    return build_trained_policy(method_cfg, context, train_sft_method)


SFT = MethodKind("sft", build=build_sft, check=check_sft, per_query_llm=True, uses_llm=True,
                 train=train_sft_method, extra_split=training_split,
                 seeds={"train.seed": "leser_bench.training.sft:SFTSettings"})
