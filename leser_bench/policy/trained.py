"""A trained policy as an Expander, and what the SFT and LESER methods share to train one.

A trained model is evaluated exactly like the context-aware prompted baseline it started from: the
same prompt (query + top-k search results + rules), the same generation settings and the same rule
checking (:class:`leser_bench.policy.expander.PromptedExpander`); only the weights differ. Its backend
comes from the one factory (``model.backend: vllm`` runs a trained checkpoint on vLLM too), and its
generations are cached under a key that includes a hash of the weights file, so a retrained model never
reads a stale cache entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from leser_bench.io.cache import content_hash
from leser_bench.errors import ConfigError
from leser_bench.llm import ModelConfig, build_backend
from leser_bench.methods.context import MethodContext, stage_reuse
from leser_bench.policy import llm as common
from leser_bench.policy.expander import PromptedExpander, prompted_config
from leser_bench.training.data import TrainingSetup, prompt_config
from leser_bench.training.registry import trained_or_resumed, training_key

#: method keys that belong to training, not to the prompted expander.
TRAINING_KEYS = ("checkpoint", "train", "sft", "output_dir")


def resolve_checkpoint(path: str | Path) -> Path:
    """A model directory from ``path``: a training output (holding ``final/``) or a model directory."""
    path = Path(path).expanduser()
    for candidate in (path / "final", path):
        if (candidate / "config.json").is_file():
            return candidate
    raise ConfigError(f"checkpoint {str(path)!r} holds no model (expected config.json in it or in its final/)")


def parsed_settings(settings_class: Any, values: Mapping[str, Any] | None, key: str) -> Any:
    """``settings_class.from_dict(values)``; an impossible value is a ConfigError naming ``key``."""
    try:
        return settings_class.from_dict(values)
    except ValueError as exc:
        raise ConfigError(f"{key}: {exc}") from None


def training_split(method_cfg: Mapping[str, Any]) -> str | None:
    """A trained method reads the train split, unless it loads a ``checkpoint``."""
    return None if method_cfg.get("checkpoint") else "train"


def training_setup(method_cfg: Mapping[str, Any], context: MethodContext, split: str = "train") -> TrainingSetup:
    """The training split, the policy prompt (the method's ``prompt``) and rules, the base model."""
    evaluated = (context.config.get("evaluation") or {}).get("split", "test")
    if split == evaluated:
        raise ConfigError(f"training split {split!r} is the evaluated split; LESER/SFT train on another split")
    try:
        prompt = prompt_config(method_cfg.get("prompt"))
    except ValueError as exc:
        raise ConfigError(f"methods.{method_cfg.get('name')}.prompt: {exc}") from None
    return TrainingSetup(context.dataset, context.retriever, prompt, common.rules_config(method_cfg, context),
                         common.model_config(context, method_cfg), context.relevant_grade(), split_name=split,
                         answer_prefix=str(method_cfg.get("answer_prefix") or ""))


def output_dir(method_cfg: Mapping[str, Any], context: MethodContext) -> Path:
    """``<run dir>/training/<method name>``: the pipeline's run directory (or Hydra's) when there is one."""
    if method_cfg.get("output_dir"):
        return Path(str(method_cfg["output_dir"]))
    name = str(method_cfg.get("name"))
    if getattr(context, "run_dir", None) is not None:
        return Path(context.run_dir) / "training" / name
    try:
        from hydra.core.hydra_config import HydraConfig  # noqa: PLC0415

        if HydraConfig.initialized():
            return Path(HydraConfig.get().runtime.output_dir) / "training" / name
    except (ImportError, ValueError):
        pass
    # no run directory: a cache location keyed by what the training reads (the registry decides reuse)
    splits = {name: [(q.id, q.text) for q in split.queries] for name, split in context.dataset.splits.items()}
    key = content_hash(dict(method_cfg), context.dataset.name, context.seed, len(context.dataset.products), splits)
    return Path(context.cache_dir) / "training-runs" / f"{name}-{key}"


def policy_expander(method_cfg: Mapping[str, Any], context: MethodContext, model_dir: Path) -> PromptedExpander:
    """The context-aware prompted expander over the model in ``model_dir`` (on the ``model`` group's backend)."""
    prompted_cfg = {k: v for k, v in method_cfg.items() if k not in TRAINING_KEYS and k != "model"}
    base = common.model_config(context, method_cfg)
    trained = ModelConfig.from_dict({**base.__dict__, "name": str(method_cfg.get("name")), "path": str(model_dir),
                                     "gguf_package": None, "gguf_file": None, "offline": True})
    config = prompted_config({**prompted_cfg, "model": trained.__dict__}, context)
    backend = build_backend(trained, weights=model_dir / "model.safetensors")
    return PromptedExpander(str(method_cfg["name"]), config, backend, context)


def check_policy(method_cfg: Mapping[str, Any], view: Any) -> None:
    """The trained policy's prompting keys (prompt, generation, rules, constrain …) parse, before any training."""
    prompted_config({k: v for k, v in method_cfg.items() if k not in TRAINING_KEYS}, view)


def threads_default(train_cfg: Mapping[str, Any] | None, model: ModelConfig) -> dict[str, Any]:
    """The training settings with ``torch_threads`` defaulting to the model's ``num_threads``."""
    values = dict(train_cfg or {})
    if values.get("torch_threads") is None and model.num_threads is not None:
        values["torch_threads"] = model.num_threads
    return values


def train_sft_model(method_cfg: Mapping[str, Any], context: MethodContext, train_cfg: Mapping[str, Any] | None,
                    out: Path, where: str, copy_records: bool = True) -> tuple[Path, str]:
    """The SFT model of ``train_cfg`` (the SFT baseline's ``train``, or LESER's ``sft`` warm start):
    trained now, or an identical registered training reused. Returns (final model dir, training key)."""
    from leser_bench.training.sft import SFTSettings, train_sft  # noqa: PLC0415

    setup = training_setup(method_cfg, context)
    settings = parsed_settings(SFTSettings, threads_default(train_cfg, setup.model), where)
    if settings.max_queries:
        setup.max_queries = settings.max_queries
    key = training_key("sft", settings, setup)
    final = trained_or_resumed(context.cache_dir, key, out, lambda resume: train_sft(setup, settings, out, resume).final_dir,
                               copy_records=copy_records, reuse=stage_reuse(context))
    return final, key


def build_trained_policy(method_cfg: Mapping[str, Any], context: MethodContext,
                         train: Callable[[Mapping[str, Any], MethodContext], Path]) -> PromptedExpander:
    """The Expander of a trained policy: from ``checkpoint`` when given, else trained now by ``train``."""
    if method_cfg.get("checkpoint"):
        return policy_expander(method_cfg, context, resolve_checkpoint(method_cfg["checkpoint"]))
    return policy_expander(method_cfg, context, train(method_cfg, context))
