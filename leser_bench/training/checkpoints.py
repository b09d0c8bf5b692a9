"""Resuming an interrupted training: find the newest intact TRL checkpoint, seed the curves from it.

A checkpoint is trusted only when it is whole: ``trainer_state.json`` (written last) parses and names
the step of its directory; it holds the optimizer state and the RNG states (without them a resumed run
would not continue the same way: the trainers save full checkpoints, ``save_only_model=False``);
every ``*.safetensors`` file's header covers the file, and every torch ``*.pt``/``*.pth`` file is an
intact zip archive (CRC-checked). A checkpoint killed mid-write fails one of these and the
one before it is used instead.
"""

from __future__ import annotations

import json
import logging
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


def checkpoint_problem(path: Path) -> str | None:
    """Why the checkpoint directory ``path`` cannot be trusted, or None when it is intact."""
    match = _CHECKPOINT.match(path.name)
    if not match or not path.is_dir():
        return "not a checkpoint-<step> directory"
    try:
        state = json.loads((path / "trainer_state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"trainer_state.json unreadable ({exc.__class__.__name__})"
    if not isinstance(state, dict) or state.get("global_step") != int(match.group(1)):
        return "trainer_state.json does not name this step"
    if not (path / "optimizer.pt").is_file() or not list(path.glob("rng_state*.pth")):
        return "no optimizer or RNG state (a model-only checkpoint cannot resume the same training)"
    weights = list(path.glob("*.safetensors"))
    if not weights:
        return "no *.safetensors weights"
    from safetensors import safe_open  # noqa: PLC0415

    for file in weights:
        try:
            with safe_open(str(file), "pt"):
                pass
        except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types
            return f"{file.name} damaged ({exc})"
    for file in [*path.glob("*.pt"), *path.glob("*.pth")]:
        try:
            with zipfile.ZipFile(file) as archive:
                bad = archive.testzip()
        except (OSError, zipfile.BadZipFile) as exc:
            return f"{file.name} damaged ({exc})"
        if bad is not None:
            return f"{file.name} damaged (bad CRC in {bad})"
    return None


def latest_checkpoint(directories: Iterable[Path]) -> Path | None:
    """The intact checkpoint with the highest step among ``checkpoint-*`` in ``directories``."""
    candidates = []
    for directory in directories:
        if Path(directory).is_dir():
            candidates += [p for p in Path(directory).iterdir() if _CHECKPOINT.match(p.name)]
    for path in sorted(candidates, key=lambda p: int(_CHECKPOINT.match(p.name).group(1)), reverse=True):
        problem = checkpoint_problem(path)
        if problem is None:
            return path
        log.warning("ignoring checkpoint %s: %s", path, problem)
    return None


def logged_history(checkpoint: Path) -> list[dict[str, Any]]:
    """The per-step logs a checkpoint carries (``trainer_state.json``'s ``log_history``)."""
    state = json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8"))
    return [entry for entry in state.get("log_history", []) if isinstance(entry, dict) and "step" in entry]


def train_from(trainer: Any, recorder: Any, resume_from: Path | None) -> None:
    """``trainer.train()``, resuming from ``resume_from`` (model, optimizer, scheduler, RNG states and
    the data position) with the curves recorded before it put back first."""
    if resume_from is None:
        trainer.train()
        return
    for entry in logged_history(resume_from):
        recorder.add(int(entry["step"]), entry)
    log.info("resuming training from %s", resume_from)
    trainer.train(resume_from_checkpoint=str(resume_from))
