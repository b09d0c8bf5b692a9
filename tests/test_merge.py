"""One comparison, many jobs (issue 17): the regression experiment split per method under Hydra's
submitit_local launcher, merged, equals the one-process run — real pipeline, real launcher, real merge.

A smaller world than the CI regression check (same methods: identity, RM3, context-aware LLM, LESER
trained from the base model), so the two runs fit in a few minutes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import REPO
from leser_bench.merge import MergeError, find_parts, merge

pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="needs the launchers extra (submitit)")

SMALL = ["+experiment=regression", "dataset.n_products=800", "dataset.n_train=8", "dataset.n_test=12",
         "methods.leser.train.max_steps=2", "stats.n_permutations=400", "stats.n_bootstrap=100",
         "abtest.n_users=400", "abtest.interleaving_impressions=200"]
METHODS = ["identity", "rm3", "context_aware", "leser"]


def leser_bench(args: list[str], cache: Path, module: str = "leser_bench") -> subprocess.CompletedProcess:
    env = {**os.environ, "LESER_BENCH_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=1500)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("merge")
    cache = root / "cache"
    leser_bench([*SMALL, f"hydra.run.dir={root / 'single'}"], cache)
    leser_bench(["--multirun", "hydra/launcher=local", f"run_only={','.join(METHODS)}", *SMALL,
                 f"hydra.sweep.dir={root / 'sweep'}"], cache)
    leser_bench([str(root / "sweep"), "--out", str(root / "merged")], cache, module="leser_bench.merge")
    return {"single": root / "single", "sweep": root / "sweep", "merged": root / "merged", "root": root}


@pytest.mark.slow
@pytest.mark.timeout(2400)  # the module's two runs: about 6 minutes on 2 idle cores, far more when shared
def test_split_per_method_and_merged_equals_the_one_process_run(runs: dict[str, Path]) -> None:
    single, merged = runs["single"], runs["merged"]
    parts = sorted(p.parent.name for p in runs["sweep"].glob("*/run_info.json"))
    assert parts == ["0", "1", "2", "3", "merged"]  # one job and run directory per method; the sweep's merge
    auto = runs["sweep"] / "merged"  # written by the multirun's end callback, as the CLI writes `merged`
    for name in ("metrics.csv", "per_query.csv", "stats.csv"):
        assert (auto / name).read_bytes() == (single / name).read_bytes(), name
    for name in ("metrics.csv", "per_query.csv", "stats.csv", "abtest.csv", "qrels.trec", "query_sets.json",
                 "shown_products.jsonl"):
        assert (merged / name).read_bytes() == (single / name).read_bytes(), name
    for method in METHODS:
        assert (merged / "runs" / f"{method}.trec").read_bytes() == (single / "runs" / f"{method}.trec").read_bytes()
    timing = ["Seconds"]  # wall time per query differs between processes; every other value is equal
    a = pd.read_csv(merged / "expansion_metrics.csv", index_col=0).drop(columns=timing)
    b = pd.read_csv(single / "expansion_metrics.csv", index_col=0).drop(columns=timing)
    pd.testing.assert_frame_equal(a, b)
    info = json.loads((merged / "run_info.json").read_text(encoding="utf-8"))
    assert info["complete"] is True and len(info["merged_from"]) == 4
    assert "Significance" in (merged / "report.md").read_text(encoding="utf-8")
    assert (merged / "training" / "leser" / "curves.csv").is_file()


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_parts_that_do_not_belong_together_are_refused_before_anything_is_written(runs: dict[str, Path],
                                                                                  tmp_path: Path) -> None:
    sweep = runs["sweep"]
    with pytest.raises(MergeError, match="not a part of a split comparison"):
        find_parts([runs["single"]])
    with pytest.raises(MergeError, match=r"no part ran \['context_aware', 'leser'\]"):
        merge(find_parts([sweep / "0", sweep / "1"]), tmp_path / "a")
    with pytest.raises(MergeError, match="'rm3' is in two parts"):
        shutil.copytree(sweep / "1", tmp_path / "rm3_again")
        merge(find_parts([sweep, tmp_path / "rm3_again"]), tmp_path / "b")
    other = tmp_path / "other_seed"
    shutil.copytree(sweep / "3", other)
    info = json.loads((other / "run_info.json").read_text(encoding="utf-8"))
    config = yaml.safe_load(info["config_yaml"])
    config["seed"] = 14
    info["config_yaml"] = yaml.safe_dump(config)
    (other / "run_info.json").write_text(json.dumps(info), encoding="utf-8")
    with pytest.raises(MergeError, match="differ in `seed`"):
        merge(find_parts([sweep / "0", sweep / "1", sweep / "2", other]), tmp_path / "c")
    assert not any((tmp_path / name).exists() for name in "abc")
    with pytest.raises(MergeError, match="not empty"):
        merge(find_parts([sweep]), runs["merged"])
