"""Training checkpoints as resumable artefacts: SIGKILL a tiny LESER training after a checkpoint, rerun
(in a new output directory, as a new Hydra run would), and get the same curves and weights as an
uninterrupted training; a finished identical training is reused; damaged checkpoints are not trusted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from leser_bench.training.checkpoints import checkpoint_problem, latest_checkpoint

from conftest import REPO

JOB = Path(__file__).resolve().parent / "training_job.py"


def job(cache_root: Path, model: Path, cache: Path, out: Path, kill_after_step: int | None = None) -> tuple[int, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO))
    cmd = [sys.executable, str(JOB), str(cache_root), str(model), str(cache), str(out)]
    log = out.parent / f"{out.name}.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT)
        marker = out / "checkpoints" / f"checkpoint-{kill_after_step}" / "trainer_state.json"
        while kill_after_step is not None and proc.poll() is None:
            if marker.exists():
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.05)
        proc.wait(timeout=900)
    return proc.returncode, log.read_text()


def weights(model_dir: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(model_dir / "model.safetensors"))


@pytest.mark.slow
def test_killed_training_resumes_to_the_same_curves_and_weights(cache_root: Path, tiny_model: Path,
                                                               tmp_path: Path) -> None:
    code, out = job(cache_root, tiny_model, tmp_path / "cache-ref", tmp_path / "ref")
    assert code == 0, out[-3000:]
    reference = pd.read_csv(tmp_path / "ref" / "curves.csv")
    assert list(reference["step"]) == [1, 2, 3, 4]

    cache = tmp_path / "cache"
    code, out = job(cache_root, tiny_model, cache, tmp_path / "run1", kill_after_step=2)
    assert code == -signal.SIGKILL, f"the training ended before its step-2 checkpoint:\n{out[-2000:]}"
    assert not (tmp_path / "run1" / "final").exists()

    code, out = job(cache_root, tiny_model, cache, tmp_path / "run2")  # a new run directory, same config
    assert code == 0, out[-3000:]
    assert "resuming training from" in out and str(tmp_path / "run1" / "checkpoints") in out
    meta = json.loads((tmp_path / "run2" / "meta.json").read_text())
    assert meta["resumed_from"] and "run1" in meta["resumed_from"]
    resumed = pd.read_csv(tmp_path / "run2" / "curves.csv")
    assert list(resumed["step"]) == [1, 2, 3, 4]  # the steps before the kill come from the checkpoint
    for column in ("reward", "rewards/relevance/mean", "rewards/format/mean", "completions/mean_length", "loss"):
        assert list(resumed[column]) == pytest.approx(list(reference[column]), abs=1e-6), column
    ref_w, res_w = weights(tmp_path / "ref" / "final"), weights(tmp_path / "run2" / "final")
    assert set(ref_w) == set(res_w)
    for name, tensor in ref_w.items():
        assert (tensor - res_w[name]).abs().max().item() < 1e-5, name

    code, out = job(cache_root, tiny_model, cache, tmp_path / "run3")  # finished: reused, not retrained
    assert code == 0, out[-3000:]
    assert "reusing the identical finished training" in out and "resuming" not in out
    assert f"FINAL {tmp_path / 'run2' / 'final'}" in out.replace(str((tmp_path / "run2").resolve()), str(tmp_path / "run2"))
    assert (tmp_path / "run3" / "curves.csv").is_file()  # the run directory still gets the curves


def _fake_checkpoint(directory: Path, step: int) -> Path:
    import torch
    from safetensors.torch import save_file

    path = directory / f"checkpoint-{step}"
    path.mkdir(parents=True)
    (path / "trainer_state.json").write_text(json.dumps({"global_step": step, "log_history": [{"step": step}]}))
    save_file({"w": torch.zeros(64, 64)}, str(path / "adapter_model.safetensors"))
    torch.save({"state": torch.zeros(64, 64)}, str(path / "optimizer.pt"))
    torch.save({"cpu": torch.random.get_rng_state()}, str(path / "rng_state.pth"))
    return path


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_damaged_checkpoints_are_not_trusted(tmp_path: Path) -> None:
    one, two, three = (_fake_checkpoint(tmp_path / "a", s) for s in (1, 2, 3))
    assert checkpoint_problem(three) is None
    assert latest_checkpoint([tmp_path / "a", tmp_path / "missing"]) == three
    _truncate(three / "adapter_model.safetensors")
    assert "adapter_model.safetensors damaged" in checkpoint_problem(three)
    _truncate(two / "optimizer.pt")
    assert "optimizer.pt damaged" in checkpoint_problem(two)
    assert latest_checkpoint([tmp_path / "a"]) == one
    (one / "trainer_state.json").write_text('{"global_step": 1, "log_hist')  # killed mid-write
    assert "trainer_state.json unreadable" in checkpoint_problem(one)
    assert latest_checkpoint([tmp_path / "a"]) is None
    model_only = _fake_checkpoint(tmp_path / "b", 4)
    (model_only / "rng_state.pth").unlink()
    assert "no optimizer or RNG state" in checkpoint_problem(model_only)
