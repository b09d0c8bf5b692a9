"""The trained-model registry: an identical training is not run twice (e.g. LESER's SFT warm start reuses
the SFT baseline trained earlier in the same experiment), and an interrupted one resumes from its newest
intact checkpoint. Keys hash the settings, the training data, the prompt, the rules and the base weights."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from leser_bench.io.artefacts import code_hash
from leser_bench.io.cache import artefact_lock, atomic_write_json, content_hash, holding, read_json
from leser_bench.llm import ModelConfig
from leser_bench.llm.local_model import file_sha256
from leser_bench.training.checkpoints import latest_checkpoint
from leser_bench.training.data import TrainingSetup

log = logging.getLogger(__name__)


def model_identity(model: ModelConfig) -> str:
    """What the base weights are: the GGUF file's hash, or a local directory's weights hash."""
    if model.path is None:
        from leser_bench.llm.local_model import find_gguf  # noqa: PLC0415

        return f"gguf:{file_sha256(find_gguf(model.gguf_package or '', model.gguf_file))}"
    weights = Path(model.path).expanduser() / "model.safetensors"
    return f"weights:{file_sha256(weights)}" if weights.is_file() else f"hub:{model.path}"


def training_key(kind: str, settings: Any, setup: TrainingSetup) -> str:
    """A content hash of everything a training's result depends on (threads and trackers excluded: they
    change how it runs and where its curves go, not the model), code included."""
    described = dict(settings.describe())
    described.pop("torch_threads", None)
    described.pop("report_to", None)
    # the trainer's, reward's and policy's code too: an edited trainer must not reuse an old model
    return content_hash("trained-v1", kind, described, setup.fingerprint(), model_identity(setup.model),
                        setup.model.dtype, code_hash())


def _registry(cache_dir: Path, key: str) -> Path:
    return Path(cache_dir) / "training" / f"{key}.json"


def find_trained(cache_dir: Path, key: str) -> Path | None:
    """The final model directory of an earlier identical training, if it still exists."""
    entry = read_json(_registry(cache_dir, key))
    if not isinstance(entry, dict) or "final_dir" not in entry:
        return None
    final = Path(entry["final_dir"])
    return final if (final / "config.json").is_file() and (final / "model.safetensors").is_file() else None


def register_trained(cache_dir: Path, key: str, final_dir: Path) -> None:
    atomic_write_json(_registry(cache_dir, key), {"final_dir": str(Path(final_dir).resolve())})


def _progress(cache_dir: Path, key: str) -> Path:
    return Path(cache_dir) / "training" / f"{key}.progress.json"


_RECORDS = ("curves.csv", "curves.png", "meta.json", "targets.jsonl")


def trained_or_resumed(cache_dir: Path, key: str, out_dir: Path, train: Callable[[Path | None], Path],
                       copy_records: bool = True, reuse: bool = True) -> Path:
    """The final model of training ``key``: an identical finished training's (with ``copy_records``,
    its curves and meta copied into ``out_dir``), else ``train(resume_from)``, resuming from the newest
    intact checkpoint any interrupted identical training left (their checkpoint dirs are listed in the cache).

    ``reuse=False`` (``cache.reuse: false``, e.g. the regression check) trains from scratch: the key
    hashes settings and data, not the code, so reusing would let a broken trainer or reward pass.
    Checkpoints in ``out_dir`` that this key did not register belong to another training (the same
    method name and data with other settings) and are removed, never resumed from."""
    # one training per key at a time: a second job on the same cache waits, then reuses the result
    registry = _registry(cache_dir, key)
    registry.parent.mkdir(parents=True, exist_ok=True)
    with holding(artefact_lock(registry), registry):
        return _trained_or_resumed(cache_dir, key, out_dir, train, copy_records, reuse)


def _trained_or_resumed(cache_dir: Path, key: str, out_dir: Path, train: Callable[[Path | None], Path],
                        copy_records: bool, reuse: bool) -> Path:
    mine = (out_dir / "checkpoints").resolve()
    progress = _progress(cache_dir, key)
    earlier = read_json(progress)
    dirs = [Path(d) for d in (earlier.get("checkpoint_dirs", []) if isinstance(earlier, dict) else [])]
    if mine.is_dir() and (not reuse or mine not in [d.resolve() for d in dirs]):
        log.warning("removing checkpoints of another training in %s", mine)
        shutil.rmtree(mine)
    if not reuse:
        dirs = []
    found = find_trained(cache_dir, key) if reuse else None
    if found is not None:
        log.info("reusing the identical finished training at %s", found.parent)
        if copy_records and found.parent.resolve() != out_dir.resolve():
            out_dir.mkdir(parents=True, exist_ok=True)
            for name in _RECORDS:
                if (found.parent / name).is_file():
                    shutil.copyfile(found.parent / name, out_dir / name)
        return found
    atomic_write_json(progress, {"checkpoint_dirs": [str(d) for d in dirs if d != mine] + [str(mine)]})
    resume = latest_checkpoint([*dirs, mine])
    final = train(resume)
    register_trained(cache_dir, key, final)
    return final
