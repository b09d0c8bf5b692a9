"""What every LLM method shares (the policy, the prompted baselines, doc2query): reading their config,
building the (cached) backend, chunked generation with a progress bar, and the catalogue's brand index for
the brand-hijack rule."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from tqdm.auto import tqdm

from leser_bench import config
from leser_bench.errors import ConfigError
from leser_bench.llm import GenerationConfig, LLMBackend, ModelConfig, Prompt, build_backend
from leser_bench.llm.types import Generation
from leser_bench.methods.context import MethodContext
from leser_bench.policy.rules import PhraseIndex, RulesConfig, catalogue_brands

_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.IGNORECASE | re.DOTALL)


def check_keys(method_cfg: Mapping[str, Any], allowed: set[str]) -> None:
    """A method's keys: ``name``, ``kind`` and ``allowed`` (the one strict parser, leser_bench.config)."""
    config.check_keys(method_cfg, sorted(allowed | {"name", "kind"}), f"methods.{method_cfg.get('name')}")


def dataclass_from(cls: type, values: Mapping[str, Any] | None, where: str) -> Any:
    """``cls`` from a config section (:func:`leser_bench.config.section`); an impossible value raised by the
    dataclass is a ConfigError under ``where``."""
    try:
        return config.section(cls, values, where)
    except ConfigError:
        raise
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def model_config(context: Any, method_cfg: Mapping[str, Any] | None = None) -> ModelConfig:
    """The method's own ``model`` block if it has one, else the ``model`` config group; its ``cache_dir``
    defaults to the run's. The one model-config builder (prompted, trained and doc2query methods)."""
    values = (method_cfg or {}).get("model") or context.config.get("model")
    if not values:
        raise ConfigError("LLM methods need the `model` config group (e.g. `model=smollm2_135m`)")
    try:
        model = ModelConfig.from_dict(values)
    except ValueError as exc:
        raise ConfigError(f"model: {exc}") from None
    cache_dir = getattr(context, "cache_dir", None)
    if model.cache_dir is None and cache_dir is not None:
        model = replace(model, cache_dir=str(cache_dir))
    return model


def generation_config(method_cfg: Mapping[str, Any], model: ModelConfig, context: MethodContext) -> GenerationConfig:
    """The model's generation defaults, overridden by the method's ``generation`` block; the seed
    is the run's ``seed`` unless the method sets one."""
    overrides = dict(method_cfg.get("generation") or {})
    overrides.setdefault("seed", context.seed)
    try:
        config = model.generation_config(**overrides)
    except ValueError as exc:
        raise ConfigError(f"methods.{method_cfg.get('name')}.generation: {exc}") from None
    if config.num_return_sequences != 1:
        raise ConfigError(f"methods.{method_cfg.get('name')}.generation.num_return_sequences must be 1 "
                          "(one answer per prompt)")
    return config


def rules_config(method_cfg: Mapping[str, Any], context: MethodContext) -> RulesConfig:
    """The ``rules`` config group, with the method's own ``rules`` block laid over it."""
    values = {**dict(context.config.get("rules") or {}), **dict(method_cfg.get("rules") or {})}
    try:
        return RulesConfig.from_dict(values)
    except ValueError as exc:
        raise ConfigError(f"methods.{method_cfg.get('name')}.rules: {exc}") from None


#: (model config, cache dir) -> backend: the methods of one run share one loaded model.
_BACKENDS: dict[tuple[str, str], LLMBackend] = {}


def backend_for(model: ModelConfig, context: MethodContext) -> LLMBackend:
    """The (lazy, cached) backend of ``model``, shared by every method of the process that uses
    the same model config and cache directory, so the weights are loaded once per run."""
    key = (repr(model), str(context.cache_dir))
    if key not in _BACKENDS:
        _BACKENDS[key] = build_backend(model, cache_dir=context.cache_dir)
    return _BACKENDS[key]


def brand_index(context: MethodContext) -> PhraseIndex:
    return catalogue_brands(context.dataset.products)


def generate_all(backend: LLMBackend, prompts: Sequence[Prompt], config: GenerationConfig, chunk_size: int,
                 desc: str, choices: Sequence[Sequence[str] | None] | None = None) -> list[Generation]:
    """One generation per prompt, sent in chunks so that an interrupted run keeps what the
    generation cache already holds; ``config.num_return_sequences`` must be 1. ``choices``: constrained
    decoding (the backend must take it)."""
    if config.num_return_sequences != 1:
        raise ConfigError(f"{desc}: generation.num_return_sequences must be 1 for this method")
    out: list[Generation] = []
    with tqdm(total=len(prompts), desc=desc, unit="prompt") as bar:
        for start in range(0, len(prompts), max(1, chunk_size)):
            part = list(prompts[start : start + chunk_size])
            if choices is None:
                generated = backend.generate(part, config)
            else:
                generated = backend.generate(part, config, choices=list(choices[start : start + chunk_size]))
            out += [gens[0] for gens in generated]
            bar.update(len(part))
    return out


def prefixed_prompt(backend: LLMBackend, messages: list[dict[str, str]], prefix: str) -> Prompt:
    """``messages`` rendered with the model's chat template and the start of the answer appended
    (e.g. ``["``), so that even a small model answers in the expected format; the messages
    themselves when ``prefix`` is empty. The generation then continues after ``prefix``."""
    if not prefix:
        return messages
    inner = getattr(backend, "backend", backend)  # a CachedBackend wraps the real one
    render = getattr(inner, "render", None)
    if render is None:
        raise ConfigError(f"answer_prefix needs a backend that renders chat templates; {backend.name} does not")
    return str(render(messages)) + prefix


def strip_reasoning(text: str) -> str:
    """``text`` without ``<think>…</think>`` blocks, whitespace collapsed."""
    return " ".join(_THINK.sub(" ", text or "").split())
