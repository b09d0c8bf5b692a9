"""``build_backend(model_cfg)``: the ``model`` config group -> a ready (lazy) ``LLMBackend``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from leser_bench.llm.config import ModelConfig
from leser_bench.llm.ray_backend import with_ray
from leser_bench.llm.generation_cache import CachedBackend
from leser_bench.llm.local_model import file_sha256
from leser_bench.llm.types import Choices, Generation, GenerationConfig, LLMBackend, Prompt


class FingerprintedBackend:
    """Delegates to a backend; its ``model_id`` also names a hash of the weights, so the generations
    of a retrained model never come from a stale cache entry."""

    def __init__(self, backend: Any, weights: Path) -> None:
        self.backend = backend
        self.name = backend.name
        self._digest = file_sha256(weights)[:16]

    @property
    def model_id(self) -> str:
        return f"{self.backend.model_id}|weights:{self._digest}"

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig,
                 choices: Choices | None = None) -> list[list[Generation]]:
        if choices is None:
            return self.backend.generate(prompts, config)
        return self.backend.generate(prompts, config, choices=choices)

    def render(self, prompt: Prompt) -> str:
        """The chat-templated text (the prompted policy's ``answer_prefix`` needs it)."""
        return self.backend.render(prompt)


def build_backend(model_cfg: Mapping[str, Any] | ModelConfig, cache_dir: str | Path | None = None,
                  weights: Path | None = None) -> LLMBackend:
    """The backend named by ``model_cfg.backend``, wrapped in the generation cache when
    ``model_cfg.cache_generations`` is true. Nothing is loaded until the first ``generate``.

    ``cache_dir`` (e.g. the root config's ``cache_dir``) is used when the model config has none.
    ``weights`` (a trained model's ``model.safetensors``, when it exists) is hashed into the model id.
    """
    cfg = model_cfg if isinstance(model_cfg, ModelConfig) else ModelConfig.from_dict(model_cfg)
    if cfg.cache_dir is None and cache_dir is not None:
        cfg = replace(cfg, cache_dir=str(cache_dir))
    backend: Any
    if cfg.backend == "vllm":
        from leser_bench.llm.vllm_backend import VLLMBackend

        backend = VLLMBackend(cfg)
    else:
        from leser_bench.llm.hf_backend import TransformersBackend

        backend = TransformersBackend(cfg)
    backend = with_ray(cfg, backend)  # model.ray.workers > 0: the same backend on Ray actors
    if weights is not None and Path(weights).is_file():
        backend = FingerprintedBackend(backend, Path(weights))
    if cfg.cache_generations:
        return CachedBackend(backend, cfg.resolved_cache_dir)
    return backend
