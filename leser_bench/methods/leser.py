"""The LESER method: a policy trained with GRPO on search-engine feedback, evaluated as an Expander.

``method=leser`` trains on the train split (leser_bench/conf/train/grpo.yaml under the method's ``train`` key;
``train.init_from: sft`` warm-starts from the SFT baseline: trained first with the method's ``sft``
settings, or reused when an identical SFT training was registered before, e.g. by the ``sft`` method
of the same experiment), writes checkpoints, the final model and curves to ``<run dir>/training/leser/``, then
expands queries with the trained weights exactly as the context-aware prompted baseline does.
``method.checkpoint=<dir>`` skips training and loads a trained model (a ``training/leser`` or
``final`` directory).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from leser_bench.errors import ConfigError
from leser_bench.io.cache import content_hash
from leser_bench.methods.context import MethodContext, stage_reuse
from leser_bench.methods.registry import MethodKind
from leser_bench.policy.trained import (
    build_trained_policy,
    check_policy,
    output_dir,
    parsed_settings,
    threads_default,
    train_sft_model,
    training_setup,
    training_split,
)
from leser_bench.training.registry import trained_or_resumed, training_key
from leser_bench.training.validation import fingerprint as validation_fingerprint

log = logging.getLogger(__name__)


def check_leser(method_cfg: Mapping[str, Any], view: Any) -> None:
    """The policy's prompting keys, the GRPO settings (``train``) and, for an SFT warm start, the SFT
    settings (``sft``) parse and are possible (e.g. num_generations divides the batch), before any data
    is loaded."""
    from leser_bench.training.grpo import GRPOSettings  # noqa: PLC0415
    from leser_bench.training.sft import SFTSettings  # noqa: PLC0415

    check_policy(method_cfg, view)
    if method_cfg.get("checkpoint"):
        return
    name = method_cfg.get("name")
    settings = parsed_settings(GRPOSettings, method_cfg.get("train"), f"methods.{name}.train")
    if settings.constrained_rollouts and (method_cfg.get("constrain") != "shown" or settings.use_vllm):
        raise ConfigError(f"methods.{name}.train.constrained_rollouts needs methods.{name}.constrain: shown "
                          "and transformers generation (train.use_vllm: false)")
    if settings.init_from == "sft":
        parsed_settings(SFTSettings, method_cfg.get("sft"), f"methods.{name}.sft")


def train_leser(method_cfg: Mapping[str, Any], context: MethodContext) -> Path:
    """Train LESER (SFT warm start first when configured); returns the final model directory."""
    from leser_bench.training.grpo import GRPOSettings, train_grpo  # noqa: PLC0415

    setup = training_setup(method_cfg, context)
    name = method_cfg.get("name")
    settings = parsed_settings(GRPOSettings, threads_default(method_cfg.get("train"), setup.model),
                               f"methods.{name}.train")
    out = output_dir(method_cfg, context)
    init, sft_key = None, None
    if settings.init_from == "sft":
        # the SFT baseline of the same experiment registered this key: then it is reused, not retrained
        sft_dir, sft_key = train_sft_model(method_cfg, context, method_cfg.get("sft"), out / "sft",
                                           f"methods.{name}.sft", copy_records=False)
        init = str(sft_dir)

    def grpo(resume: Path | None) -> Path:
        result = train_grpo(setup, settings, out, init_model=init, resume_from=resume,
                            constrain=method_cfg.get("constrain"))
        log.info("LESER trained in %.0f s (%d steps): %s", result.seconds, result.steps, result.final_dir)
        return result.final_dir

    # the validation curve (train.validation) also depends on the validation split: part of the key
    key = content_hash("leser", training_key("grpo", settings, setup), sft_key,
                       validation_fingerprint(setup, settings.validation, method_cfg.get("constrain")))
    return trained_or_resumed(context.cache_dir, key, out, grpo, reuse=stage_reuse(context))


def build_leser(method_cfg: Mapping[str, Any], context: MethodContext) -> Any:
    return build_trained_policy(method_cfg, context, train_leser)


LESER = MethodKind("leser", build=build_leser, check=check_leser, per_query_llm=True, uses_llm=True,
                   train=train_leser, extra_split=training_split,
                   seeds={"train.seed": "leser_bench.training.grpo:GRPOSettings",
                          "sft.seed": "leser_bench.training.sft:SFTSettings"})
