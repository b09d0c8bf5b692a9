"""``python -m leser_bench.analyze <run dir> --run NAME=PATH`` (issue 16): an external TREC run scored beside
a finished run's methods. RM3's own run file given back as an external run gets RM3's metrics and RM3's
paired tests; bad files are refused before any work, in one line."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from conftest import CONF_DIR
from leser_bench.analyze import main

pytestmark = pytest.mark.slow  # one small pipeline run (world, identity + RM3) for the module


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, cache_root: Path) -> Path:
    from leser_bench.pipeline import run_experiment

    out = tmp_path_factory.mktemp("external") / "run"
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[
            "suite=prf", f"cache_dir={cache_root}", "dataset.n_test=30", "retriever.k=100", "retriever.threads=1",
            "abtest.n_users=200", "abtest.interleaving_impressions=200", "stats.n_permutations=2000"])
    run_experiment(cfg, out)
    return out


def test_rm3s_run_given_back_scores_and_tests_as_rm3(run_dir: Path, tmp_path: Path, capsys) -> None:
    lines = (run_dir / "runs" / "rm3.trec").read_text().splitlines()
    external = tmp_path / "external.trec"
    external.write_text("\n".join(reversed(lines)) + "\n")  # any order; the tag column is not read
    assert main([str(run_dir), "--run", f"ext={external}"]) == 0
    out = run_dir / "analysis" / "identity+ext"
    assert capsys.readouterr().out.split() == [str(out / n) for n in
                                               ("stats.csv", "abtest.csv", "analysis.md", "per_query.csv", "metrics.csv")]
    metrics = pd.read_csv(out / "metrics.csv", index_col="method")
    own = pd.read_csv(run_dir / "metrics.csv", index_col="method")
    assert list(metrics.index) == ["identity", "rm3", "ext"]
    assert metrics.loc["ext"].equals(own.loc["rm3"]) and metrics.loc["rm3"].equals(own.loc["rm3"])
    per_query = pd.read_csv(out / "per_query.csv", dtype={"query_id": str})
    ext = per_query[per_query["method"] == "ext"].drop(columns="method").reset_index(drop=True)
    rm3 = per_query[per_query["method"] == "rm3"].drop(columns="method").reset_index(drop=True)
    assert ext.equals(rm3) and len(ext) == 30 * per_query["measure"].nunique()
    stats = pd.read_csv(out / "stats.csv")
    assert set(stats["method"]) == {"rm3", "ext"}
    by_method = {m: frame.drop(columns="method").reset_index(drop=True) for m, frame in stats.groupby("method")}
    assert by_method["ext"].equals(by_method["rm3"])  # same diffs, CIs, p-values and corrected p-values
    run_own = pd.read_csv(run_dir / "stats.csv").drop(columns=["method", "p_corrected", "significant"])
    assert by_method["ext"].drop(columns=["p_corrected", "significant"]).equals(run_own)  # one more test: p_corrected moves
    ab = pd.read_csv(out / "abtest.csv")
    assert set(ab["method"]) == {"rm3", "ext"}
    same_ab = [c for c in ab.columns if c not in ("method",)]
    ab_ext, ab_rm3 = (ab[ab["method"] == m][same_ab].reset_index(drop=True) for m in ("ext", "rm3"))
    assert ab_ext.equals(ab_rm3)  # the same simulated users and impressions see the same rankings
    assert "External runs scored beside the run's methods" in (out / "analysis.md").read_text()
    assert not (run_dir / "analysis" / "identity").exists()  # the plain re-analysis is another directory


def test_an_external_run_can_be_the_baseline(run_dir: Path) -> None:
    external = run_dir / "runs" / "identity.trec"
    assert main([str(run_dir), "--run", f"bm25={external}", "--baseline", "bm25", "--no-abtest"]) == 0
    stats = pd.read_csv(run_dir / "analysis" / "bm25+bm25" / "stats.csv")
    assert set(stats["method"]) == {"identity", "rm3"} and stats["baseline"].eq("bm25").all()
    assert stats[stats["method"] == "identity"]["diff"].eq(0.0).all()


@pytest.mark.parametrize(("content", "message"), [
    ("{q} Q0 p1 1 2.5 x\n{q} Q0 p2 2 oops x\n", r"bad.trec:2: field 5 'oops' is not a number"),
    ("{q} Q0 p1 1 2.5\n", r"bad.trec:1: expected 6 columns"),
    ("{q} Q0 p1 1 2.5 x\n{q} Q0 p2 2 1.5 x\nzz9 Q0 p1 1 1.0 x\n",
     r"bad.trec:3: query id 'zz9' is not a query of this run \(1 unknown query ids, e\.g\. \['zz9'\]\)"),
    ("zz1 Q0 p1 1 1.0 x\n", r"bad.trec: holds none of the 30 evaluated query ids"),
    ("", r"bad.trec: no results"),
])
def test_bad_external_runs_are_refused_before_work(run_dir: Path, tmp_path: Path, capsys, content: str,
                                                   message: str) -> None:
    query = pd.read_csv(run_dir / "per_query.csv", dtype={"query_id": str})["query_id"].iloc[0]
    bad = tmp_path / "bad.trec"
    bad.write_text(content.format(q=query))
    assert main([str(run_dir), "--run", f"bad={bad}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert re.search(message, err), err
    assert not (run_dir / "analysis" / "identity+bad").exists()


@pytest.mark.parametrize(("argument", "message"), [
    ("ext", "expected NAME=PATH"),
    ("rm3={runs}/rm3.trec", "'rm3' is already a method of this run"),
    ("ext={runs}/nowhere.trec", "nowhere.trec: no such run file"),
    ("../x={runs}/rm3.trec", "the name '../x' must be letters, digits"),
])
def test_bad_run_arguments_are_refused(run_dir: Path, capsys, argument: str, message: str) -> None:
    assert main([str(run_dir), "--run", argument.format(runs=run_dir / "runs")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err, err
