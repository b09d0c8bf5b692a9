"""The transformers backend (CPU default): batched, left-padded, chat-templated, seeded generation.

Sampling (temperature, top-p) is done by a logits processor that draws each row's next token
with its own ``torch.Generator`` seeded by ``sample_seed(seed, prompt, j)`` and hands greedy
decoding a one-hot score. A row's output therefore does not depend on which other prompts share
its batch, so a generation is reproducible and cacheable per prompt. (transformers' own sampling
draws from one global generator for the whole batch.)
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from leser_bench.llm.config import ModelConfig
from leser_bench.llm.local_model import convert_gguf, file_sha256, find_gguf
from leser_bench.llm.types import (
    Generation,
    GenerationConfig,
    ModelLoadError,
    Prompt,
    check_choices,
    normalize_prompt,
    sample_seed,
)

log = logging.getLogger(__name__)


def _hub_offline(cfg: ModelConfig) -> bool:
    if cfg.offline is not None:
        return cfg.offline
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


class _SeededSampler:
    """Logits processor that samples (temperature, top-p) with one ``torch.Generator`` per row
    and returns scores that are -inf except at the drawn token, so greedy arg-max picks it.

    Inverse-CDF sampling over the probabilities sorted in descending order: one uniform draw per
    row and step, so a row's random stream depends on nothing but its own seed.
    """

    def __init__(self, seeds: Sequence[int], temperature: float, top_p: float) -> None:
        import torch

        self._generators = [torch.Generator(device="cpu").manual_seed(s) for s in seeds]
        self._temperature = temperature
        self._top_p = top_p

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        probs = torch.softmax(scores.float() / self._temperature, dim=-1)
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        keep = (sorted_probs.cumsum(dim=-1) - sorted_probs) < self._top_p  # the first token always stays
        sorted_probs = sorted_probs * keep
        cumulative = sorted_probs.cumsum(dim=-1)
        uniform = torch.cat([torch.rand(1, generator=g) for g in self._generators]).to(scores.device)
        target = (uniform * cumulative[:, -1]).unsqueeze(-1)
        position = torch.searchsorted(cumulative, target, right=True)
        position = torch.minimum(position, keep.sum(dim=-1, keepdim=True) - 1)
        chosen = order.gather(-1, position)
        out = torch.full_like(scores, float("-inf"))
        return out.scatter_(-1, chosen, 0.0)


class TransformersBackend:
    """``LLMBackend`` over ``transformers``; the model is loaded on first ``generate``."""

    name = "transformers"

    def __init__(self, cfg: ModelConfig) -> None:
        self.cfg = cfg
        self._model: Any = None
        self._tokenizer: Any = None
        self._model_id: str | None = None

    @classmethod
    def over(cls, cfg: ModelConfig, model: Any, tokenizer: Any) -> TransformersBackend:
        """A backend over an already loaded (model, tokenizer), e.g. a policy while it trains; the
        tokenizer must pad on the left. Generation is this class's, as for a loaded checkpoint."""
        backend = cls(cfg)
        backend._model, backend._tokenizer = model, tokenizer
        return backend

    # -- identity and loading -------------------------------------------------------------
    @property
    def model_id(self) -> str:
        if self._model_id is None:
            if self.cfg.path is None:
                gguf = find_gguf(self.cfg.gguf_package or "", self.cfg.gguf_file)
                source = f"{self.cfg.gguf_package}/{gguf.name}@sha256:{file_sha256(gguf)[:16]}"
            elif Path(self.cfg.path).expanduser().is_dir():
                source = str(Path(self.cfg.path).expanduser().resolve())
            else:
                source = self.cfg.path
            self._model_id = f"{source}|{self.cfg.dtype}"
        return self._model_id

    def _source_dir(self) -> str:
        if self.cfg.path is None:
            gguf = find_gguf(self.cfg.gguf_package or "", self.cfg.gguf_file)
            return str(convert_gguf(gguf, self.cfg.resolved_cache_dir))
        local = Path(self.cfg.path).expanduser()
        return str(local) if local.is_dir() else self.cfg.path

    def load(self) -> tuple[Any, Any]:
        """(model, tokenizer), loaded once."""
        if self._model is not None:
            return self._model, self._tokenizer
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if self.cfg.num_threads is not None:
            torch.set_num_threads(self.cfg.num_threads)  # process-wide: asked for in the config
        source = self._source_dir()
        offline = _hub_offline(self.cfg)
        kwargs: dict[str, Any] = {"trust_remote_code": self.cfg.trust_remote_code}
        if offline:
            kwargs["local_files_only"] = True
        dtype = self.cfg.dtype if self.cfg.dtype == "auto" else getattr(torch, self.cfg.dtype, None)
        if dtype is None:
            raise ValueError(f"model.dtype {self.cfg.dtype!r} is not a torch dtype name")
        started = time.perf_counter()
        try:
            tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
            model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, **kwargs)
        except Exception as exc:  # hub, file and format errors all end here
            raise ModelLoadError(self._load_hint(source, offline, exc)) from exc
        model.to(self.cfg.device).eval()
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        log.info("loaded %s in %.1f s", source, time.perf_counter() - started)
        self._model, self._tokenizer = model, tokenizer
        return model, tokenizer

    def _load_hint(self, source: str, offline: bool, exc: Exception) -> str:
        if Path(source).is_dir():
            return f"cannot load the model from local directory {source}: {exc}"
        reason = "offline mode is on (HF_HUB_OFFLINE / model.offline)" if offline else "the hub may be unreachable"
        return (
            f"cannot load model {source!r}: it is not in the local Hugging Face cache and {reason}. "
            "Download it on a machine with network access (e.g. `huggingface-cli download "
            f"{source} --local-dir <dir>`) and point `model.path=<dir>` at that local copy, "
            f"or use the offline default `model=smollm2_135m`. Original error: {exc}"
        )

    # -- generation -------------------------------------------------------------------------
    def render(self, prompt: Prompt) -> str:
        """The exact text fed to the model: chat messages through the chat template."""
        _, tokenizer = self.load()
        normalized = normalize_prompt(prompt)
        if isinstance(normalized, str):
            return normalized
        if not getattr(tokenizer, "chat_template", None):
            raise ValueError(f"model {self.model_id} has no chat template; pass plain string prompts")
        return tokenizer.apply_chat_template(normalized, tokenize=False, add_generation_prompt=True)

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig,
                 choices: Sequence[Sequence[str] | None] | None = None) -> list[list[Generation]]:
        """``choices[i]`` (optional) lists the only completions prompt ``i`` may produce (constrained decoding)."""
        if not prompts:
            return []
        check_choices(prompts, choices)
        model, tokenizer = self.load()
        texts = [self.render(p) for p in prompts]
        # longest first: similar lengths share a batch (less padding); outputs do not depend on it.
        order = sorted(range(len(prompts)), key=lambda i: -len(texts[i]))
        batches = [order[i : i + config.batch_size] for i in range(0, len(order), config.batch_size)]
        results: list[list[Generation]] = [[] for _ in prompts]
        for batch in tqdm(batches, desc=f"generate ({self.cfg.name})", unit="batch"):
            outputs = self._generate_batch(model, tokenizer, [prompts[i] for i in batch],
                                           [texts[i] for i in batch], config,
                                           [choices[i] for i in batch] if choices is not None else None)
            for i, generations in zip(batch, outputs):
                results[i] = generations
        return results

    def _generate_batch(self, model: Any, tokenizer: Any, prompts: list[Prompt], texts: list[str],
                        config: GenerationConfig, choices: list[Sequence[str] | None] | None = None,
                        ) -> list[list[Generation]]:
        import torch
        from transformers import GenerationConfig as HFGenerationConfig
        from transformers import LogitsProcessorList

        n = config.num_return_sequences
        copies = 1 if config.greedy else n  # greedy samples are identical: compute once
        row_texts = [t for t in texts for _ in range(copies)]
        encoded = tokenizer(row_texts, return_tensors="pt", padding=True, add_special_tokens=False)
        encoded = encoded.to(model.device)
        eos_ids = self._eos_ids(model, tokenizer)
        hf_config = HFGenerationConfig(max_new_tokens=config.max_new_tokens, do_sample=False, num_beams=1,
                                       pad_token_id=tokenizer.pad_token_id, eos_token_id=eos_ids)
        processors = LogitsProcessorList()
        if not config.greedy:
            seeds = [sample_seed(config.seed, p, j) for p in prompts for j in range(n)]
            processors.append(_SeededSampler(seeds, config.temperature, config.top_p))
        constraint = None
        if choices is not None and any(c is not None for c in choices):
            from leser_bench.llm.constrained import ChoiceConstraint  # noqa: PLC0415

            rows = [c for c in choices for _ in range(copies)]
            constraint = ChoiceConstraint(tokenizer, rows, eos_ids, config.max_new_tokens,
                                          prompt_length=encoded["input_ids"].shape[1])
        started = time.perf_counter()
        with torch.inference_mode():
            output = model.generate(**encoded, generation_config=hf_config, logits_processor=processors,
                                    prefix_allowed_tokens_fn=constraint)
        seconds = (time.perf_counter() - started) / (len(prompts) * n)
        new_tokens = output[:, encoded["input_ids"].shape[1] :].tolist()
        results = []
        for k, prompt in enumerate(prompts):
            generations = []
            for j in range(n):
                tokens = new_tokens[k * copies + (j if copies > 1 else 0)]
                used = next((pos + 1 for pos, tok in enumerate(tokens) if tok in eos_ids), len(tokens))
                text = tokenizer.decode(tokens[:used], skip_special_tokens=True)
                generations.append(Generation(prompt=prompt, text=text, n_tokens=used, seconds=seconds))
            results.append(generations)
        return results

    @staticmethod
    def _eos_ids(model: Any, tokenizer: Any) -> list[int]:
        return eos_token_ids(model, tokenizer)


def eos_token_ids(model: Any, tokenizer: Any) -> list[int]:
    """Every token id that ends a generation: the model's generation config's and the tokenizer's."""
    ids: set[int] = set()
    configured = getattr(model.generation_config, "eos_token_id", None)
    if isinstance(configured, int):
        ids.add(configured)
    elif configured:
        ids.update(configured)
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return sorted(ids)
