"""Data-parallel generation on Ray: the prompts of a ``generate`` call split across Ray actors, each
with its own copy of the model (``model.ray.workers``; a GPU each with ``model.ray.num_gpus: 1``, and
vLLM's tensor parallelism inside an actor with ``model.engine.tensor_parallel_size``).

Every LLM stage of the pipeline (prompted baselines, Query2doc, doc2query, SFT and LESER evaluation)
generates through :func:`leser_bench.llm.factory.build_backend`, so ``model.ray.workers=N`` spreads all
of them over a Ray cluster (``model.ray.address``: ``auto`` for a running one, null for a local one
started here) without a code change. The outputs do not depend on the split: greedy decoding is
per prompt, and sampling seeds are derived from (seed, prompt, index), never from a batch position;
``tests/test_ray_generation.py`` checks identical texts against the in-process backend. The model id
(the generation cache key) is the inner backend's, for the same reason.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from leser_bench.config import section
from leser_bench.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RaySettings:
    """``model.ray``: ``workers`` 0 generates in this process (the default)."""

    #: Ray actors, each holding the model; 0 = no Ray.
    workers: int = 0
    #: a running cluster (``auto``, ``ray://host:10001``), or null to start a local one.
    address: str | None = None
    #: GPUs and CPUs reserved per actor (fractions allowed, as Ray allows).
    num_gpus: float = 0.0
    num_cpus: float = 1.0
    #: object store of a local cluster started here, in MB (Ray's default takes 30% of RAM).
    object_store_mb: int = 256

    def __post_init__(self) -> None:
        if self.workers < 0 or self.num_gpus < 0 or self.num_cpus < 0 or self.object_store_mb < 64:
            raise ConfigError("model.ray: workers, num_gpus and num_cpus must be >= 0, object_store_mb >= 64")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> RaySettings:
        return section(cls, values, "model.ray", label="model.ray")


def import_ray() -> Any:
    try:
        import ray  # noqa: PLC0415
    except ImportError:
        raise ConfigError("model.ray.workers > 0 needs Ray: pip install -c constraints/cpu.txt -e '.[launchers]' "
                          "(or `pip install ray`), or set model.ray.workers=0") from None
    return ray


class _Worker:
    """One actor: an in-process backend over the same model config."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        from leser_bench.llm.factory import build_backend  # noqa: PLC0415
        from leser_bench.llm.config import ModelConfig  # noqa: PLC0415

        self.backend = build_backend(ModelConfig.from_dict(cfg))

    def generate(self, prompts: list[Any], config: Any, choices: Any = None) -> list[Any]:
        if choices is None:
            return self.backend.generate(prompts, config)
        return self.backend.generate(prompts, config, choices=choices)


class RayBackend:
    """``LLMBackend`` that fans a ``generate`` call out to ``settings.workers`` Ray actors."""

    def __init__(self, cfg: Any, inner: Any, settings: RaySettings) -> None:
        self.inner = inner
        self.settings = settings
        # the actors generate in process and uncached: the cache, if any, wraps this backend
        self.worker_cfg = {**asdict(cfg), "ray": {}, "cache_generations": False}
        self._actors: list[Any] = []

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    def render(self, prompt: Any) -> str:
        return self.inner.render(prompt)

    def actors(self) -> list[Any]:
        if not self._actors:
            ray = import_ray()
            if not ray.is_initialized():
                options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
                if self.settings.address is None:
                    options["object_store_memory"] = self.settings.object_store_mb * 1024 * 1024
                ray.init(address=self.settings.address, **options)
            remote = ray.remote(num_gpus=self.settings.num_gpus, num_cpus=self.settings.num_cpus)(_Worker)
            self._actors = [remote.remote(self.worker_cfg) for _ in range(self.settings.workers)]
            log.info("generation on %d Ray actors (%s)", len(self._actors), ray.cluster_resources())
        return self._actors

    def generate(self, prompts: Sequence[Any], config: Any, choices: Any = None) -> list[list[Any]]:
        if not prompts:
            return []
        ray = import_ray()
        actors = self.actors()
        size = -(-len(prompts) // len(actors))
        shards = [list(prompts[i : i + size]) for i in range(0, len(prompts), size)]
        parts = [None if choices is None else list(choices[i : i + size]) for i in range(0, len(prompts), size)]
        results = ray.get([actor.generate.remote(shard, config, part)
                           for actor, shard, part in zip(actors, shards, parts)])
        return [generations for shard in results for generations in shard]

    def close(self) -> None:
        """Stop the actors (the cluster stays up for whoever else uses it)."""
        if self._actors:
            ray = import_ray()
            for actor in self._actors:
                ray.kill(actor)
            self._actors = []


def with_ray(cfg: Any, backend: Any) -> Any:
    """``backend`` fanned out on Ray when ``cfg.ray`` asks for workers, else ``backend`` itself."""
    settings = RaySettings.from_dict(cfg.ray)
    if not settings.workers:
        return backend
    import_ray()  # a missing package fails here, when the backend is built, before any generation
    return RayBackend(replace(cfg), backend, settings)
