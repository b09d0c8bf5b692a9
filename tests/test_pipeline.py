"""End to end: the CLI and the pipeline on real data (Vaswani) and the embedded world."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import ir_measures
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from conftest import CONF_DIR, REPO, shared_data
from leser_bench.pipeline import run_experiment


def compose_config(*overrides: str):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


@pytest.fixture(scope="module")
def vaswani_run(tmp_path_factory: pytest.TempPathFactory, cache_root: Path):
    data = shared_data("vaswani")
    out = tmp_path_factory.mktemp("vaswani_run")
    cfg = compose_config(
        "+experiment=vaswani", f"cache_dir={cache_root}",
        f"dataset.queries={data}/query-text.trec", f"dataset.catalogue={data}/doc-text.trec",
        f"dataset.qrels={data}/qrels", "evaluation.measures=[AP,nDCG@10,R@100,R@1000,P@10]",
    )
    return run_experiment(cfg, out)


@pytest.mark.slow
def test_vaswani_bm25_map_is_plausible_and_rm3_changes_the_run(vaswani_run) -> None:
    board = vaswani_run.leaderboard
    assert 0.25 <= board.loc["identity", "AP"] <= 0.35  # published BM25 MAP on Vaswani is about 0.30
    runs = vaswani_run.out_dir / "runs"
    assert (runs / "identity.trec").read_text() != (runs / "rm3.trec").read_text()
    assert board.loc["rm3", "AP"] != board.loc["identity", "AP"]


def test_report_numbers_match_ir_measures_on_exported_files(vaswani_run) -> None:
    out = vaswani_run.out_dir
    qrels = list(ir_measures.read_trec_qrels(str(out / "qrels.trec")))
    metrics = pd.read_csv(out / "metrics.csv", index_col="method")
    for method in ("identity", "rm3"):
        run = list(ir_measures.read_trec_run(str(out / "runs" / f"{method}.trec")))
        direct = ir_measures.calc_aggregate([ir_measures.parse_measure(m) for m in metrics.columns], qrels, run)
        for name in metrics.columns:
            assert metrics.loc[method, name] == pytest.approx(direct[ir_measures.parse_measure(name)], abs=1e-9)
    report = (out / "report.md").read_text()
    assert "| identity |" in report and "| rm3 |" in report
    assert f"{metrics.loc['identity', 'AP']:.4f}" in report


def test_per_query_file_is_tidy_and_complete(vaswani_run) -> None:
    frame = pd.read_csv(vaswani_run.out_dir / "per_query.csv")
    assert list(frame.columns) == ["method", "query_id", "measure", "value"]
    assert frame.groupby(["method", "measure"]).size().eq(93).all()


def _cli(*args: str, env_extra: dict[str, str] | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "leser_bench", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600)


def test_esci_without_files_or_network_fails_clearly(tmp_path: Path) -> None:
    # a closed loopback port stands in for "no network": the download is refused at once
    result = _cli("+experiment=amazon_esci", f"dataset.cache_dir={tmp_path / 'esci'}",
                  "dataset.base_url=http://127.0.0.1:9/esci", f"hydra.run.dir={tmp_path / 'run'}",
                  f"cache_dir={tmp_path / 'cache'}")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert str(tmp_path / "esci") in result.stderr
    assert "shopping_queries_dataset_examples.parquet" in result.stderr
    assert "shopping_queries_dataset_products.parquet" in result.stderr
    assert not list((tmp_path / "esci").glob("*.parquet"))


def test_bad_config_fails_before_work_without_traceback(tmp_path: Path) -> None:
    result = _cli("retriever.k=0", f"hydra.run.dir={tmp_path / 'run'}", f"cache_dir={tmp_path / 'cache'}")
    assert result.returncode != 0
    assert "retriever.k must be > 0" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "cache").exists()
