"""The whole comparison in one command: every method through the one backend, on one evaluation set.

`python -m leser_bench` with the tiny budget on a small embedded world: all ten methods run (SFT and
LESER trained), the main table compares every method on the same seeded sample, the methods that ran
on the whole split get a second table, and both reports show both. On ESCI's micro sample (no train
split) the methods that need one are left out before any work, naming the split.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO, shared_data
from leser_bench.io.trec import read_run

ALL_TEN = ["identity", "rm3", "rocchio", "zero_shot", "few_shot", "query2doc", "context_aware", "doc2query",
           "sft", "leser"]
FULL_SPLIT = ["identity", "rm3", "rocchio", "doc2query"]
SMALL = ["budget=tiny", "dataset.n_products=600", "dataset.n_train=30", "dataset.n_test=16", "retriever.k=100",
         "evaluation.measures=[nDCG@10,R@100]", "stats.n_permutations=300", "stats.n_bootstrap=100",
         "abtest.n_users=500", "abtest.interleaving_impressions=200", "methods.leser.train.max_steps=1"]


def cli(*args: str, cache: Path, run_dir: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "leser_bench", *args, f"cache_dir={cache}",
                           f"hydra.run.dir={run_dir}"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=1800)


def linked_cache(tmp_path: Path, models: Path) -> Path:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "models").symlink_to(models, target_is_directory=True)
    return cache


@pytest.fixture(scope="module")
def whole_run(tmp_path_factory: pytest.TempPathFactory, smollm2_models: Path) -> Path:
    tmp = tmp_path_factory.mktemp("whole")
    run_dir = tmp / "run"
    result = cli(*SMALL, cache=linked_cache(tmp, smollm2_models), run_dir=run_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir


@pytest.mark.slow
def test_every_method_runs_on_one_main_evaluation_set(whole_run: Path) -> None:
    board = pd.read_csv(whole_run / "metrics.csv", index_col="method")
    assert list(board.index) == ALL_TEN
    sets = json.loads((whole_run / "query_sets.json").read_text())
    main_ids = sets["main"]["query_ids"]
    assert sets["sampled"] and sets["main"]["n"] == len(main_ids) == 6 and sets["full"]["n"] == 16
    assert sets["full"]["methods"] == FULL_SPLIT
    per_query = pd.read_csv(whole_run / "per_query.csv", dtype={"query_id": str})
    for method, rows in per_query.groupby("method"):
        assert sorted(set(rows["query_id"])) == sorted(main_ids), method  # paired: the same queries
    # the runs and qrels the reports and A/B simulation read hold the main queries only
    qrels_ids = {line.split()[0] for line in (whole_run / "qrels.trec").read_text().splitlines()}
    assert qrels_ids == set(main_ids)
    for method in ALL_TEN:
        assert set(read_run(whole_run / "runs" / f"{method}.trec")) <= set(main_ids), method
    for method in FULL_SPLIT:
        assert len(read_run(whole_run / "runs_full" / f"{method}.trec")) == 16, method
    assert sorted(p.stem for p in (whole_run / "runs_full").glob("*.trec")) == sorted(FULL_SPLIT)
    # every comparison with the baseline is paired over the main set
    stats = pd.read_csv(whole_run / "stats.csv")
    assert set(stats["method"]) == set(ALL_TEN) - {"identity"}
    assert (stats["n_queries"] == 6).all()
    # the whole-split table: full-split methods over all 16 queries; identity agrees where they overlap
    full = pd.read_csv(whole_run / "metrics_full.csv", index_col="method")
    assert list(full.index) == FULL_SPLIT
    full_per_query = pd.read_csv(whole_run / "per_query_full.csv", dtype={"query_id": str})
    assert full_per_query.groupby(["method", "measure"]).size().eq(16).all()
    mine = full_per_query[full_per_query["query_id"].isin(main_ids)].groupby(["method", "measure"])["value"].mean()
    assert mine.loc[("identity", "nDCG@10")] == pytest.approx(board.loc["identity", "nDCG@10"], abs=1e-12)
    assert (whole_run / "training" / "leser" / "final").is_dir() and (whole_run / "training" / "sft").is_dir()


@pytest.mark.slow
def test_both_reports_show_every_row_and_which_queries_each_table_covers(whole_run: Path) -> None:
    md = (whole_run / "report.md").read_text()
    html = (whole_run / "report.html").read_text()
    assert "a seeded stratified sample of 6 of the 16 queries of split `test`" in md
    assert "## Results on the whole split" in md and "all 16 queries of split `test`" in md
    assert "a seeded stratified sample of 6 of the 16 queries" in html and 'id="whole-split"' in html
    for method in ALL_TEN:
        assert f"| {method} |" in md, method
        assert f"<td>{method}</td>" in html or f">{method}<" in html, method


@pytest.mark.slow
def test_esci_micro_runs_what_needs_no_training_and_says_what_was_left_out(
        tmp_path: Path, smollm2_models: Path) -> None:
    micro = shared_data("esci_micro")
    run_dir = tmp_path / "run"
    result = cli("+experiment=amazon_esci", "budget=tiny", f"dataset.cache_dir={micro}", "dataset.download=false",
                 cache=linked_cache(tmp_path, smollm2_models), run_dir=run_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    log = result.stderr + result.stdout
    for method in ("few_shot", "sft", "leser"):
        assert f"{method} not run: it needs split train" in log, method
    # said before any work: the warnings come before the index is built
    assert log.index("leser not run") < log.index("stage build index")
    board = pd.read_csv(run_dir / "metrics.csv", index_col="method")
    assert list(board.index) == [m for m in ALL_TEN if m not in ("few_shot", "sft", "leser")]
    md = (run_dir / "report.md").read_text()
    assert "`sft` not run: it needs split `train`" in md
    assert "No significance tests or A/B simulation: the main table has 1 judged query" in md
