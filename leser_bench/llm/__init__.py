"""LLM generation behind one interface: transformers on CPU (default), vLLM on GPU.

    backend = build_backend(cfg.model, cache_dir=cfg.cache_dir)
    gens = backend.generate([[{"role": "user", "content": "..."}]], cfg_model.generation_config())

Importing this package loads nothing; models load on the first ``generate``.
"""

from leser_bench.llm.config import ModelConfig
from leser_bench.llm.factory import build_backend
from leser_bench.llm.generation_cache import CachedBackend
from leser_bench.llm.types import (
    Generation,
    GenerationConfig,
    LLMBackend,
    ModelLoadError,
    Prompt,
    default_cache_dir,
)

__all__ = [
    "CachedBackend",
    "Generation",
    "GenerationConfig",
    "LLMBackend",
    "ModelConfig",
    "ModelLoadError",
    "Prompt",
    "build_backend",
    "default_cache_dir",
]
