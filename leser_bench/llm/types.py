"""The generation contract shared by every LLM backend (transformers on CPU, vLLM on GPU).

A *prompt* is either a list of chat messages (``[{"role": "user", "content": "..."}]``), which the
backend renders with the model's chat template, or a plain string, which is sent as is (no
template). ``generate`` returns one list of ``num_return_sequences`` generations per prompt.

Sampling is seeded *per prompt and per sample*: the random stream of sample ``j`` of a prompt is
derived from ``(seed, prompt, j)`` only, never from the batch the prompt happened to be in, so a
generation can be cached under exactly that key and a rerun reproduces it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Protocol, Union, runtime_checkable

Message = Mapping[str, str]
Prompt = Union[str, Sequence[Message]]


class ModelLoadError(RuntimeError):
    """A model (or its engine) cannot be loaded; the message says why and what to do."""


@dataclass(frozen=True)
class GenerationConfig:
    max_new_tokens: int = 64
    #: 0 means greedy decoding whatever ``do_sample`` says.
    temperature: float = 0.7
    top_p: float = 0.95
    do_sample: bool = True
    num_return_sequences: int = 1
    seed: int = 0
    #: prompts per forward batch (each expands to ``num_return_sequences`` rows); not part of
    #: the cache key because it does not change what is generated.
    batch_size: int = 8

    def __post_init__(self) -> None:
        problems = []
        if self.max_new_tokens < 1:
            problems.append(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.temperature < 0:
            problems.append(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            problems.append(f"top_p must be in (0, 1], got {self.top_p}")
        if self.num_return_sequences < 1:
            problems.append(f"num_return_sequences must be >= 1, got {self.num_return_sequences}")
        if self.batch_size < 1:
            problems.append(f"batch_size must be >= 1, got {self.batch_size}")
        if problems:
            raise ValueError("invalid GenerationConfig: " + "; ".join(problems))

    @property
    def greedy(self) -> bool:
        return not self.do_sample or self.temperature == 0

    def sampling_key(self) -> dict[str, Any]:
        """What determines the output (batch size excluded; greedy ignores the sampling knobs)."""
        if self.greedy:
            return {"greedy": True, "max_new_tokens": self.max_new_tokens,
                    "n": self.num_return_sequences}
        return {"greedy": False, "max_new_tokens": self.max_new_tokens, "n": self.num_return_sequences,
                "temperature": float(self.temperature), "top_p": float(self.top_p), "seed": self.seed}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> GenerationConfig:
        values = dict(values or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown generation config keys {unknown}; known: {sorted(known)}")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Generation:
    """One generated completion."""

    #: the prompt as given (string or chat messages).
    prompt: Prompt
    text: str
    #: generated tokens, EOS included when the model stopped by itself.
    n_tokens: int
    #: wall seconds, the batch's time shared evenly among the generations it produced.
    seconds: float
    #: True when the generation came from the generation cache.
    cached: bool = False


@runtime_checkable
class LLMBackend(Protocol):
    """``generate(prompts, config) -> [[Generation] * n for each prompt]``."""

    #: backend kind, e.g. "transformers" or "vllm".
    name: str

    @property
    def model_id(self) -> str:
        """A stable identity of the weights (used in cache keys); cheap, no model load."""
        ...

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig) -> list[list[Generation]]: ...


#: per prompt, the only completions it may produce (None: unconstrained). Backends that implement
#: constrained decoding take it as ``generate(prompts, config, choices=...)``; callers pass it only when set.
Choices = Sequence[Sequence[str] | None]


def check_choices(prompts: Sequence[Prompt], choices: Choices | None) -> None:
    """A clear error for choices that do not line up with the prompts or are empty."""
    if choices is None:
        return
    if len(choices) != len(prompts):
        raise ValueError(f"choices: {len(choices)} lists for {len(prompts)} prompts")
    for i, options in enumerate(choices):
        if options is not None and (not options or not all(isinstance(o, str) and o for o in options)):
            raise ValueError(f"choices[{i}]: must be None or non-empty strings, got {options!r:.80}")


def choices_digest(options: Sequence[str] | None) -> str | None:
    """A stable digest of one prompt's choices (generation-cache keys)."""
    if options is None:
        return None
    return hashlib.sha256(json.dumps(list(options), ensure_ascii=False).encode("utf-8")).hexdigest()


def normalize_prompt(prompt: Prompt) -> str | list[dict[str, str]]:
    """A JSON-friendly copy of a prompt; a clear error for anything that is not one."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, Sequence) and all(isinstance(m, Mapping) for m in prompt):
        messages = []
        for i, message in enumerate(prompt):
            if "role" not in message or "content" not in message:
                raise ValueError(f"chat message {i} lacks 'role' or 'content': {dict(message)!r}")
            messages.append({"role": str(message["role"]), "content": str(message["content"])})
        return messages
    raise ValueError(f"a prompt must be a string or a list of chat messages, got {type(prompt).__name__}")


def prompt_digest(prompt: Prompt) -> str:
    payload = json.dumps(normalize_prompt(prompt), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def sample_seed(seed: int, prompt: Prompt, index: int) -> int:
    """The seed of sample ``index`` of ``prompt``: depends on nothing else (63-bit, non-negative)."""
    digest = hashlib.sha256(f"{seed}\x00{prompt_digest(prompt)}\x00{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << 63) - 1)


def default_cache_dir() -> Path:
    """``$LESER_BENCH_CACHE`` if set, else ``.cache/leser_bench`` (as ``cache_dir`` in leser_bench/conf/config.yaml)."""
    root = os.environ.get("LESER_BENCH_CACHE")
    return Path(root).expanduser() if root else Path(".cache") / "leser_bench"
