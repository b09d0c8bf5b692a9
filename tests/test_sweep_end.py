"""A multirun ends with the cross-run leaderboard and paired tests across runs (issue 17): a real Hydra
sweep of two BM25 settings on a small world, the leaderboard written by the sweep's own callback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO

SMALL = ["suite=prf", "dataset.n_products=800", "dataset.n_train=0", "dataset.n_test=30",
         "stats.n_permutations=400", "stats.n_bootstrap=100", "abtest.n_users=300",
         "abtest.interleaving_impressions=100"]


@pytest.mark.slow
def test_a_sweep_ends_with_paired_tests_across_its_runs(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    env = {**os.environ, "LESER_BENCH_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "leser_bench", "--multirun", "retriever.k1=0.6,1.2", *SMALL,
                           f"hydra.sweep.dir={sweep}"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    md = (sweep / "leaderboard.md").read_text(encoding="utf-8")
    assert "## Paired tests across runs" in md and (sweep / "leaderboard.html").is_file()
    paired = pd.read_csv(sweep / "cross_stats.csv")
    assert set(paired["run_method"]) == {"identity", "rm3"}
    assert set(paired["method"]) == {"retriever.k1=1.2"} and set(paired["baseline"]) == {"retriever.k1=0.6"}
    assert (paired["n_queries"] == 30).all() and paired["correction"].eq("holm").all()
    first = pd.read_csv(sweep / "0" / "metrics.csv", index_col=0)
    second = pd.read_csv(sweep / "1" / "metrics.csv", index_col=0)
    for row in paired.itertuples():
        expected = second.at[row.run_method, row.measure] - first.at[row.run_method, row.measure]
        assert row.diff == pytest.approx(expected, abs=1e-12), (row.run_method, row.measure)
    # the sweep's runs are not parts: nothing was merged
    assert not (sweep / "merged").exists()


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_seeds_times_methods_on_submitit_local_merge_per_seed_into_the_one_process_runs(tmp_path: Path) -> None:
    """issue 17's acceptance: `--multirun hydra/launcher=local seed=1,2 run_only=...` (four jobs) ends with
    one merged comparison per seed, each equal to that seed's one-process run."""
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="needs the launchers extra (submitit)")
    sweep, env = tmp_path / "sweep", {**os.environ, "LESER_BENCH_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}

    def run(*args: str) -> None:
        done = subprocess.run([sys.executable, "-m", "leser_bench", *args, *SMALL], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=1200)
        assert done.returncode == 0, done.stderr[-3000:]

    run("--multirun", "hydra/launcher=local", "seed=1,2", "run_only=identity,rm3", f"hydra.sweep.dir={sweep}")
    run("seed=2", f"hydra.run.dir={tmp_path / 'single2'}")
    assert sorted(p.name for p in sweep.iterdir() if p.name.startswith("merged")) == ["merged-1", "merged-2"]
    for name in ("metrics.csv", "per_query.csv", "stats.csv"):
        assert (sweep / "merged-2" / name).read_bytes() == (tmp_path / "single2" / name).read_bytes(), name
    md = (sweep / "leaderboard.md").read_text(encoding="utf-8")
    assert "seed=1" in md and "seed=2" in md  # the two comparisons side by side (different worlds: no pairing)
    assert "No two runs share a data set and a query set" in md
