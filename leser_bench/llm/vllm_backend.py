"""The vLLM backend (GPU, optional extra ``leser_bench[vllm]``); same prompts, same records.

vLLM is imported lazily, when the engine is first needed, so this module imports (and its request
building is testable) on machines without it. Each request gets its own seed,
``sample_seed(seed, prompt, 0)``, so a prompt's samples do not depend on the rest of the batch.
vLLM schedules its own batches: ``GenerationConfig.batch_size`` is not used here.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from leser_bench.llm.config import ModelConfig
from leser_bench.llm.local_model import convert_gguf, file_sha256, find_gguf
from leser_bench.llm.types import (
    Generation,
    GenerationConfig,
    ModelLoadError,
    Prompt,
    normalize_prompt,
    sample_seed,
)

INSTALL_HINT = (
    "vLLM is not installed. It needs a CUDA GPU: install it there with `pip install 'leser_bench[vllm]'` "
    "and use `model=vllm_qwen2_5_1_5b`; on CPU use the transformers backend (`model=smollm2_135m`)."
)


def import_vllm() -> Any:
    try:
        import vllm
    except ImportError as exc:
        raise ModelLoadError(INSTALL_HINT) from exc
    return vllm


class VLLMBackend:
    """``LLMBackend`` over ``vllm.LLM``; the engine starts on first ``generate``."""

    name = "vllm"

    def __init__(self, cfg: ModelConfig) -> None:
        self.cfg = cfg
        self._llm: Any = None

    @property
    def model_id(self) -> str:
        if self.cfg.path is None:
            gguf = find_gguf(self.cfg.gguf_package or "", self.cfg.gguf_file)
            source = f"{self.cfg.gguf_package}/{gguf.name}@sha256:{file_sha256(gguf)[:16]}"
        elif Path(self.cfg.path).expanduser().is_dir():
            source = str(Path(self.cfg.path).expanduser().resolve())
        else:
            source = self.cfg.path
        return f"{source}|{self.cfg.dtype}"

    def engine(self) -> Any:
        if self._llm is None:
            vllm = import_vllm()
            if self.cfg.path is None:  # the packaged GGUF model, converted to a plain checkpoint
                gguf = find_gguf(self.cfg.gguf_package or "", self.cfg.gguf_file)
                source = str(convert_gguf(gguf, self.cfg.resolved_cache_dir))
            else:
                source = str(Path(self.cfg.path).expanduser()) if Path(self.cfg.path).expanduser().is_dir() \
                    else self.cfg.path
            kwargs = {"model": source, "dtype": self.cfg.dtype,
                      "trust_remote_code": self.cfg.trust_remote_code, **self.cfg.engine}
            try:
                self._llm = vllm.LLM(**kwargs)
            except Exception as exc:  # CUDA, hub and memory errors all end here
                raise ModelLoadError(
                    f"vLLM could not start model {source!r}: {exc}. Without network access, point "
                    "`model.path` at a local copy of the model; check `model.engine` "
                    "(gpu_memory_utilization, max_model_len) for memory errors."
                ) from exc
        return self._llm

    def render(self, prompt: Prompt) -> str:
        normalized = normalize_prompt(prompt)
        if isinstance(normalized, str):
            return normalized
        tokenizer = self.engine().get_tokenizer()
        return tokenizer.apply_chat_template(normalized, tokenize=False, add_generation_prompt=True)

    def sampling_params(self, prompt: Prompt, config: GenerationConfig) -> Any:
        """vLLM SamplingParams for one prompt (greedy asks for one sample; it is repeated)."""
        vllm = import_vllm()
        if config.greedy:
            return vllm.SamplingParams(n=1, temperature=0.0, max_tokens=config.max_new_tokens)
        return vllm.SamplingParams(n=config.num_return_sequences, temperature=config.temperature,
                                   top_p=config.top_p, max_tokens=config.max_new_tokens,
                                   seed=sample_seed(config.seed, prompt, 0))

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig,
                 choices: Any = None) -> list[list[Generation]]:
        if choices is not None:
            raise ModelLoadError("constrained decoding (a method's `constrain: shown`) is implemented for the "
                                 "transformers backend only; use model.backend=transformers for that method")
        if not prompts:
            return []
        llm = self.engine()
        texts = [self.render(p) for p in prompts]
        params = [self.sampling_params(p, config) for p in prompts]
        started = time.perf_counter()
        outputs = llm.generate(texts, sampling_params=params, use_tqdm=True)
        elapsed = time.perf_counter() - started
        if len(outputs) != len(prompts):
            raise RuntimeError(f"vLLM returned {len(outputs)} outputs for {len(prompts)} prompts")
        n = config.num_return_sequences
        seconds = elapsed / (len(prompts) * n)
        results = []
        for prompt, request_output in zip(prompts, outputs):
            completions = list(request_output.outputs)
            if config.greedy:
                completions = completions[:1] * n
            if len(completions) != n:
                raise RuntimeError(f"vLLM returned {len(completions)} completions, expected {n}")
            results.append([Generation(prompt=prompt, text=c.text, n_tokens=len(c.token_ids), seconds=seconds)
                            for c in completions])
        return results
