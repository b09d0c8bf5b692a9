"""On-disk generation cache: a rerun with the same model, prompt, sampling and seed costs nothing.

One JSON file per key under ``<cache_dir>/generations/<k[:2]>/<k>.json``, written atomically. The
key is a hash of (backend kind, model identity, prompt, sampling parameters incl. seed); the batch
size is not in it because backends make each prompt's output independent of its batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from leser_bench.io.cache import atomic_write_json, content_hash, read_json
from leser_bench.llm.types import (
    Choices,
    Generation,
    GenerationConfig,
    LLMBackend,
    Prompt,
    check_choices,
    choices_digest,
    normalize_prompt,
)


class CachedBackend:
    """Wraps an ``LLMBackend``; only cache misses reach it.

    Counters: ``hits`` and ``misses`` count prompts, ``calls`` counts calls to the wrapped
    backend's ``generate`` (zero on a fully warm rerun).
    """

    def __init__(self, backend: LLMBackend, cache_dir: str | Path) -> None:
        self.backend = backend
        self.root = Path(cache_dir) / "generations"
        self.hits = 0
        self.misses = 0
        self.calls = 0

    @property
    def name(self) -> str:
        return self.backend.name

    @property
    def model_id(self) -> str:
        return self.backend.model_id

    def key(self, prompt: Prompt, config: GenerationConfig, choices: Sequence[str] | None = None) -> str:
        return content_hash(self._material(prompt, config, choices), length=32)

    def _material(self, prompt: Prompt, config: GenerationConfig,
                  choices: Sequence[str] | None = None) -> dict[str, Any]:
        material = {"backend": self.backend.name, "model": self.backend.model_id,
                    "prompt": normalize_prompt(prompt), "sampling": config.sampling_key()}
        if choices is not None:  # constrained decoding: a different output (unconstrained keys unchanged)
            material["choices"] = choices_digest(choices)
        return material

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def _load(self, key: str, prompt: Prompt, n: int) -> list[Generation] | None:
        stored = read_json(self._path(key))
        try:
            records = stored["generations"]
            generations = [Generation(prompt=prompt, text=str(r["text"]), n_tokens=int(r["n_tokens"]),
                                      seconds=float(r["seconds"]), cached=True) for r in records]
        except (TypeError, KeyError, ValueError):
            return None  # missing or damaged entry: regenerate
        return generations if len(generations) == n else None

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig,
                 choices: Choices | None = None) -> list[list[Generation]]:
        check_choices(prompts, choices)
        n = config.num_return_sequences
        per_prompt = list(choices) if choices is not None else [None] * len(prompts)
        keys = [self.key(p, config, c) for p, c in zip(prompts, per_prompt)]
        results: list[list[Generation] | None] = []
        missing: dict[str, int] = {}  # key -> index of the first prompt with it
        for i, (key, prompt) in enumerate(zip(keys, prompts)):
            found = self._load(key, prompt, n)
            results.append(found)
            if found is not None:
                self.hits += 1
            else:
                self.misses += 1
                missing.setdefault(key, i)
        if missing:
            self.calls += 1
            todo = [prompts[i] for i in missing.values()]
            if choices is None:
                fresh = self.backend.generate(todo, config)
            else:
                fresh = self.backend.generate(todo, config, choices=[per_prompt[i] for i in missing.values()])
            if len(fresh) != len(missing):
                raise RuntimeError(f"backend {self.name} returned {len(fresh)} results for {len(missing)} prompts")
            by_key = dict(zip(missing, fresh))
            for key, i in missing.items():
                atomic_write_json(self._path(key), {
                    "key": self._material(prompts[i], config, per_prompt[i]),
                    "generations": [{"text": g.text, "n_tokens": g.n_tokens, "seconds": g.seconds}
                                    for g in by_key[key]],
                })
            for i, key in enumerate(keys):
                if results[i] is None:
                    results[i] = [replace(g, prompt=prompts[i]) for g in by_key[key]]
        return [r if r is not None else [] for r in results]
