"""``build_backend(model_cfg)``: the ``model`` config group -> a ready (lazy) ``LLMBackend``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from leser_bench.llm.config import ModelConfig
from leser_bench.llm.generation_cache import CachedBackend
from leser_bench.llm.types import LLMBackend


def build_backend(model_cfg: Mapping[str, Any] | ModelConfig, cache_dir: str | Path | None = None) -> LLMBackend:
    """The backend named by ``model_cfg.backend``, wrapped in the generation cache when
    ``model_cfg.cache_generations`` is true. Nothing is loaded until the first ``generate``.

    ``cache_dir`` (e.g. the root config's ``cache_dir``) is used when the model config has none.
    """
    cfg = model_cfg if isinstance(model_cfg, ModelConfig) else ModelConfig.from_dict(model_cfg)
    if cfg.cache_dir is None and cache_dir is not None:
        cfg = replace(cfg, cache_dir=str(cache_dir))
    backend: LLMBackend
    if cfg.backend == "vllm":
        from leser_bench.llm.vllm_backend import VLLMBackend

        backend = VLLMBackend(cfg)
    else:
        from leser_bench.llm.hf_backend import TransformersBackend

        backend = TransformersBackend(cfg)
    if cfg.cache_generations:
        return CachedBackend(backend, cfg.resolved_cache_dir)
    return backend
