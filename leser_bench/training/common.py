"""Pieces both trainers share: LoRA settings, loading the policy, saving the final model, config helpers."""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from leser_bench.config import section
from leser_bench.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoraSettings:
    enabled: bool = True
    r: int = 16
    alpha: int = 32
    dropout: float = 0.0
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
    #: adapt only the last N decoder layers (0 = all). Back-propagation then stops at the lowest adapted
    #: layer, which is what makes CPU training affordable (the frozen lower layers only run forward).
    last_n_layers: int = 8

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> LoraSettings:
        return section(cls, values, "train.lora", label="train.lora")

    def peft_config(self, num_layers: int | None = None) -> Any:
        if not self.enabled:
            return None
        from peft import LoraConfig  # noqa: PLC0415

        layers = None
        if self.last_n_layers and num_layers:
            layers = list(range(max(0, num_layers - self.last_n_layers), num_layers))
        return LoraConfig(r=self.r, lora_alpha=self.alpha, lora_dropout=self.dropout,
                          target_modules=list(self.target_modules), layers_to_transform=layers,
                          task_type="CAUSAL_LM", bias="none")


def freeze_lower_layers(model: Any, last_n_layers: int) -> None:
    """Full fine-tuning of only the last N decoder layers (plus the final norm and LM head)."""
    if not last_n_layers:
        return
    layers = model.model.layers
    keep = set(range(max(0, len(layers) - last_n_layers), len(layers)))
    for param in model.model.embed_tokens.parameters():
        param.requires_grad_(False)
    for i, layer in enumerate(layers):
        for param in layer.parameters():
            param.requires_grad_(i in keep)


def num_layers(model: Any) -> int | None:
    return getattr(model.config, "num_hidden_layers", None)


@dataclass
class TrainResult:
    final_dir: Path
    out_dir: Path
    seconds: float
    steps: int
    summary: dict[str, float]
    extra: dict[str, Any]


def load_policy(source: str, dtype: str = "float32") -> tuple[Any, Any]:
    """(model, tokenizer) from a local directory (offline) or a hub id."""
    import torch  # noqa: PLC0415
    from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: PLC0415

    local = Path(source).is_dir()
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local)
    torch_dtype = torch.float32 if dtype == "auto" else getattr(torch, dtype)
    model = AutoModelForCausalLM.from_pretrained(source, dtype=torch_dtype, local_files_only=local)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def save_final(model: Any, tokenizer: Any, out_dir: Path, lora: bool) -> Path:
    """``final/``: a plain model any backend loads (LoRA merged); ``adapter/``: the adapter alone."""
    final_dir = out_dir / "final"
    if lora:
        model.save_pretrained(out_dir / "adapter")
        model = model.merge_and_unload()
    model.save_pretrained(final_dir)
    tokenizer.save_pretrained(final_dir)
    return final_dir


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run with ``n`` intra-op threads (None: leave torch's setting). On a CPU shared with other jobs,
    1 thread avoids OpenMP spin-waiting, which made small ops 10x slower in our measurements."""
    if not n:
        yield
        return
    import torch  # noqa: PLC0415

    before = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


#: the trainers' trackers (TRL's ``report_to``) -> (the modules, any one of which makes it usable, as in
#: transformers' own availability checks; what to install). ``none`` alone means no tracker, as in TRL.
TRACKERS: dict[str, tuple[tuple[str, ...], str]] = {
    "tensorboard": (("tensorboard", "tensorboardX"), "pip install tensorboard"),
    "mlflow": (("mlflow",), "pip install mlflow-skinny"),
    "wandb": (("wandb",), "pip install wandb"),
}


def report_to_of(value: Any) -> tuple[str, ...]:
    """``train.report_to``: a list of tracker names (or one name); ``[]``, ``none`` or null = no tracker. An
    unknown name, or a tracker whose package is not installed, is refused here, before any training starts."""
    names = [] if value is None else [value] if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"train.report_to={value!r}: expected a list of tracker names, e.g. [tensorboard]")
    trackers = tuple(n for n in names if n != "none")
    if "none" in names and trackers:
        raise ConfigError(f"train.report_to={list(names)!r}: 'none' cannot be combined with trackers")
    if len(set(trackers)) != len(trackers):
        raise ConfigError(f"train.report_to={list(names)!r} names a tracker twice")
    for name in trackers:
        if name not in TRACKERS:
            raise ConfigError(f"train.report_to: {name!r} is not a known tracker; allowed: "
                              f"{', '.join(TRACKERS)} (or none)")
        modules, install = TRACKERS[name]
        if not any(importlib.util.find_spec(module) is not None for module in modules):
            raise ConfigError(f"train.report_to: {name!r} needs the {modules[0]} package, which is not "
                              f"installed ({install})")
    return trackers


def settings_from_dict(cls: type, values: Mapping[str, Any] | None, where: str) -> Any:
    """A trainer's settings dataclass from config values: unknown keys refused (naming ``where``),
    ``lora``, ``reward`` and ``validation`` blocks parsed, ``report_to`` checked (:func:`report_to_of`),
    ``extra`` kept as a plain dict."""
    from leser_bench.training.reward import RewardConfig  # noqa: PLC0415 - reward imports the engine
    from leser_bench.training.validation import ValidationSettings  # noqa: PLC0415

    own = {f.name for f in dataclasses.fields(cls)}

    def extra_of(extra: Any) -> dict[str, Any]:
        extra = dict(extra or {})
        clash = sorted(set(extra) & own)
        if clash:
            raise ConfigError(f"{where}: extra {clash} are settings of their own: set them directly, not in extra")
        return extra

    return section(cls, values, where, label=where,
                   nested={"lora": LoraSettings.from_dict, "reward": RewardConfig.from_dict,
                           "validation": ValidationSettings.from_dict, "report_to": report_to_of,
                           "extra": extra_of})


def trainer_kwargs(fixed: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """The TRL config's keyword arguments: the harness's values, then ``extra`` over them (any other
    TRL field; one that is a setting of its own, such as ``report_to``, is refused by settings_from_dict)."""
    return {**fixed, **dict(extra)}
