"""The LESER method: a policy trained with GRPO on search-engine feedback, evaluated as an Expander.

``method=leser`` trains on the train split (conf/train/grpo.yaml under the method's ``train`` key;
``train.init_from: sft`` warm-starts from the SFT baseline trained first with the method's ``sft``
settings), writes checkpoints, the final model and curves to ``<run dir>/training/leser/``, then
expands queries with the trained weights exactly as the context-aware prompted baseline does.
``method.checkpoint=<dir>`` skips training and loads a trained model (a ``training/leser`` or
``final`` directory).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from leser_bench.methods import ConfigError, MethodContext

log = logging.getLogger(__name__)


def build_leser(method_cfg: Mapping[str, Any], context: MethodContext) -> Any:
    from leser_bench.training.grpo import GRPOSettings, train_grpo  # noqa: PLC0415
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
        settings = GRPOSettings.from_dict(threads_default(method_cfg.get("train"), setup.model))
    except ValueError as exc:
        raise ConfigError(f"methods.{method_cfg.get('name')}.train: {exc}") from None
    out = output_dir(method_cfg, context)
    init = None
    if settings.init_from == "sft":
        try:
            sft_settings = SFTSettings.from_dict(threads_default(method_cfg.get("sft"), setup.model))
        except ValueError as exc:
            raise ConfigError(f"methods.{method_cfg.get('name')}.sft: {exc}") from None
        log.info("LESER: SFT warm start first")
        init = str(train_sft(training_setup(method_cfg, context), sft_settings, out / "sft").final_dir)
    result = train_grpo(setup, settings, out, init_model=init)
    log.info("LESER trained in %.0f s (%d steps): %s", result.seconds, result.steps, result.final_dir)
    return policy_expander(method_cfg, context, result.final_dir)
