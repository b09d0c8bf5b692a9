"""A trained policy as an Expander, and what the LESER/SFT method builders share.

A trained model is evaluated exactly like the context-aware prompted baseline it started from:
the same prompt (query + top-k search results + rules), the same generation settings and the same
rule checking (:class:`baselines.prompted.PromptedExpander`); only the weights differ. Its
generations are cached under a key that includes a hash of the weights file, so a retrained model
never reads a stale cache entry.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from leser_bench.cache import atomic_write_json, content_hash, read_json
from leser_bench.llm import CachedBackend, GenerationConfig, ModelConfig
from leser_bench.llm.local_model import file_sha256
from leser_bench.llm.types import Generation, Prompt
from leser_bench.methods import ConfigError, MethodContext
from leser_bench.training.checkpoints import latest_checkpoint
from leser_bench.training.data import TrainingSetup, prompt_config

log = logging.getLogger(__name__)

#: method keys that belong to training, not to the prompted expander.
TRAINING_KEYS = ("checkpoint", "train", "sft", "output_dir")


class FingerprintedBackend:
    """Delegates to a backend; its ``model_id`` also names a hash of the weights."""

    def __init__(self, backend: Any, weights: Path) -> None:
        self.backend = backend
        self.name = backend.name
        self._digest = file_sha256(weights)[:16]

    @property
    def model_id(self) -> str:
        return f"{self.backend.model_id}|weights:{self._digest}"

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig) -> list[list[Generation]]:
        return self.backend.generate(prompts, config)

    def render(self, prompt: Prompt) -> str:
        """The chat-templated text (the prompted baselines' ``answer_prefix`` needs it)."""
        return self.backend.render(prompt)


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


def base_model_config(method_cfg: Mapping[str, Any], context: MethodContext) -> ModelConfig:
    values = method_cfg.get("model") or context.config.get("model")
    if not values:
        raise ConfigError("LESER/SFT need the `model` config group (e.g. `model=smollm2_135m`)")
    try:
        model = ModelConfig.from_dict(values)
    except ValueError as exc:
        raise ConfigError(f"model: {exc}") from None
    if model.cache_dir is None:
        model = ModelConfig.from_dict({**model.__dict__, "cache_dir": str(context.cache_dir)})
    return model


def training_setup(method_cfg: Mapping[str, Any], context: MethodContext, split: str = "train") -> TrainingSetup:
    """The training split, the policy prompt (the method's ``prompt``) and rules, the base model."""
    from baselines.prompted import relevant_grade  # noqa: PLC0415
    from baselines import llm_common  # noqa: PLC0415

    evaluated = (context.config.get("evaluation") or {}).get("split", "test")
    if split == evaluated:
        raise ConfigError(f"training split {split!r} is the evaluated split; LESER/SFT train on another split")
    try:
        prompt = prompt_config(method_cfg.get("prompt"))
    except ValueError as exc:
        raise ConfigError(f"methods.{method_cfg.get('name')}.prompt: {exc}") from None
    return TrainingSetup(context.dataset, context.retriever, prompt, llm_common.rules_config(method_cfg, context),
                         base_model_config(method_cfg, context), relevant_grade(context), split_name=split,
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
    key = content_hash(dict(method_cfg), context.dataset.name, context.seed)
    return Path(context.cache_dir) / "training-runs" / f"{name}-{key}"


def policy_expander(method_cfg: Mapping[str, Any], context: MethodContext, model_dir: Path) -> Any:
    """The context-aware prompted expander over the model in ``model_dir``."""
    from baselines.prompted import PromptedExpander, prompted_config  # noqa: PLC0415
    from leser_bench.llm.hf_backend import TransformersBackend  # noqa: PLC0415

    prompted_cfg = {k: v for k, v in method_cfg.items() if k not in TRAINING_KEYS and k != "model"}
    base = base_model_config(method_cfg, context)
    trained = ModelConfig.from_dict({**base.__dict__, "name": str(method_cfg.get("name")), "path": str(model_dir),
                                     "gguf_package": None, "gguf_file": None, "offline": True})
    config = prompted_config({**prompted_cfg, "model": trained.__dict__}, context, style="keywords")
    weights = model_dir / "model.safetensors"
    backend: Any = TransformersBackend(trained)
    if weights.is_file():
        backend = FingerprintedBackend(backend, weights)
    if trained.cache_generations:
        backend = CachedBackend(backend, trained.resolved_cache_dir)
    return PromptedExpander(str(method_cfg["name"]), config, backend, context)


def threads_default(train_cfg: Mapping[str, Any], model: ModelConfig) -> dict[str, Any]:
    """The training settings with ``torch_threads`` defaulting to the model's ``num_threads``."""
    values = dict(train_cfg or {})
    if values.get("torch_threads") is None and model.num_threads is not None:
        values["torch_threads"] = model.num_threads
    return values


# -- trained-model registry: an identical training is not run twice (e.g. LESER's SFT warm start
# reuses the SFT baseline trained earlier in the same experiment) -----------------------------------
def model_identity(model: ModelConfig) -> str:
    """What the base weights are: the GGUF file's hash, or a local directory's weights hash."""
    if model.path is None:
        from leser_bench.llm.local_model import find_gguf  # noqa: PLC0415

        return f"gguf:{file_sha256(find_gguf(model.gguf_package or '', model.gguf_file))}"
    weights = Path(model.path).expanduser() / "model.safetensors"
    return f"weights:{file_sha256(weights)}" if weights.is_file() else f"hub:{model.path}"


def training_key(kind: str, settings: Any, setup: TrainingSetup) -> str:
    """A content hash of everything a training's result depends on (threads excluded)."""
    described = dict(settings.describe())
    described.pop("torch_threads", None)
    return content_hash("trained-v1", kind, described, setup.fingerprint(), model_identity(setup.model),
                        setup.model.dtype)


def _registry(cache_dir: Path, key: str) -> Path:
    return Path(cache_dir) / "training" / f"{key}.json"


def find_trained(cache_dir: Path, key: str) -> Path | None:
    """The final model directory of an earlier identical training, if it still exists."""
    entry = read_json(_registry(cache_dir, key))
    if not isinstance(entry, dict) or "final_dir" not in entry:
        return None
    final = Path(entry["final_dir"])
    return final if (final / "config.json").is_file() and (final / "model.safetensors").is_file() else None


def register_trained(cache_dir: Path, key: str, final_dir: Path) -> None:
    atomic_write_json(_registry(cache_dir, key), {"final_dir": str(Path(final_dir).resolve())})


def _progress(cache_dir: Path, key: str) -> Path:
    return Path(cache_dir) / "training" / f"{key}.progress.json"


_RECORDS = ("curves.csv", "curves.png", "meta.json", "targets.jsonl")


def trained_or_resumed(cache_dir: Path, key: str, out_dir: Path, train: Callable[[Path | None], Path],
                       copy_records: bool = True, reuse: bool = True) -> Path:
    """The final model of training ``key``: an identical finished training's (with ``copy_records``,
    its curves and meta copied into ``out_dir``), else ``train(resume_from)``, resuming from the newest
    intact checkpoint any interrupted identical training left (their checkpoint dirs are listed in the cache).

    ``reuse=False`` (``cache.reuse: false``, e.g. the regression check) trains from scratch: the key
    hashes settings and data, not the code, so reusing would let a broken trainer or reward pass.
    Checkpoints in ``out_dir`` that this key did not register belong to another training (the same
    method name and data with other settings) and are removed, never resumed from."""
    mine = (out_dir / "checkpoints").resolve()
    progress = _progress(cache_dir, key)
    earlier = read_json(progress)
    dirs = [Path(d) for d in (earlier.get("checkpoint_dirs", []) if isinstance(earlier, dict) else [])]
    if mine.is_dir() and (not reuse or mine not in [d.resolve() for d in dirs]):
        log.warning("removing checkpoints of another training in %s", mine)
        shutil.rmtree(mine)
    if not reuse:
        dirs = []
    found = find_trained(cache_dir, key) if reuse else None
    if found is not None:
        log.info("reusing the identical finished training at %s", found.parent)
        if copy_records and found.parent.resolve() != out_dir.resolve():
            out_dir.mkdir(parents=True, exist_ok=True)
            for name in _RECORDS:
                if (found.parent / name).is_file():
                    shutil.copyfile(found.parent / name, out_dir / name)
        return found
    atomic_write_json(progress, {"checkpoint_dirs": [str(d) for d in dirs if d != mine] + [str(mine)]})
    resume = latest_checkpoint([*dirs, mine])
    final = train(resume)
    register_trained(cache_dir, key, final)
    return final


def stage_reuse(context: Any) -> bool:
    """``cache.reuse`` of the run (default true): false recomputes every artefact, trainings included."""
    return bool(((getattr(context, "config", None) or {}).get("cache") or {}).get("reuse", True))


def build_trained_policy(method_cfg: Mapping[str, Any], context: Any,
                         train: Callable[[Mapping[str, Any], Any], Path]) -> Any:
    """The Expander of a trained policy: from ``checkpoint`` when given, else trained now by ``train``."""
    if method_cfg.get("checkpoint"):
        return policy_expander(method_cfg, context, resolve_checkpoint(method_cfg["checkpoint"]))
    return policy_expander(method_cfg, context, train(method_cfg, context))
