"""Kill the CLI with SIGKILL at several stages, rerun the same command, get the same metrics."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO

SMALL = ["suite=prf", "dataset.n_products=1200", "dataset.n_train=400", "dataset.n_test=40", "experiment_name=resume",
         "abtest.n_users=2000", "abtest.interleaving_impressions=1000", "stats.n_permutations=500",
         "stats.n_bootstrap=200", "retriever.k=200", "evaluation.measures=[nDCG@10,R@100,RR@10]"]


def cli(cache: Path, run_dir: Path, kill_at: str | None = None) -> tuple[int, str]:
    """Run the CLI; with ``kill_at``, SIGKILL it as soon as a log line matches that pattern."""
    cmd = [sys.executable, "-m", "leser_bench", *SMALL, f"cache_dir={cache}", f"hydra.run.dir={run_dir}"]
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if kill_at and re.search(kill_at, line):
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=600)
    return proc.returncode, "".join(lines)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    base = tmp_path_factory.mktemp("reference")
    code, out = cli(base / "cache", base / "run")
    assert code == 0, out[-3000:]
    return pd.read_csv(base / "run" / "metrics.csv", index_col="method")


@pytest.mark.slow
@pytest.mark.parametrize(
    "kill_at",
    ["indexing products", r"stage identity: retrieve \.\.\.", r"stage rm3: expand done", r"stage statistics"],
)
def test_killed_run_resumes_to_the_same_metrics(tmp_path: Path, reference: pd.DataFrame, kill_at: str) -> None:
    cache, run_dir = tmp_path / "cache", tmp_path / "run"
    code, out = cli(cache, run_dir, kill_at=kill_at)
    assert code == -signal.SIGKILL, f"the run ended before the kill point {kill_at!r}:\n{out[-2000:]}"
    assert not (run_dir / "report.md").exists()
    code, out = cli(cache, run_dir)
    assert code == 0, out[-3000:]
    resumed = pd.read_csv(run_dir / "metrics.csv", index_col="method")
    pd.testing.assert_frame_equal(resumed, reference)
    # nothing half-written stays behind under a real name
    assert not list(cache.rglob("*.tmp"))


@pytest.mark.slow
def test_same_config_and_seed_give_identical_metrics(tmp_path: Path, reference: pd.DataFrame) -> None:
    code, out = cli(tmp_path / "cache", tmp_path / "run")
    assert code == 0, out[-3000:]
    again = pd.read_csv(tmp_path / "run" / "metrics.csv", index_col="method")
    pd.testing.assert_frame_equal(again, reference, check_exact=True)
    report = (tmp_path / "run" / "report.md").read_text()
    assert "seed: 13" in report
