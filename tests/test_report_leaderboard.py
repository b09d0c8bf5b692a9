"""Cross-run leaderboard over a sweep folder: labels from overrides, best over all runs, escaping."""

from __future__ import annotations

import shutil
from pathlib import Path

import lxml.html
import pandas as pd
import pytest

from leser_bench.report.leaderboard import main
from report_fixture import SCRIPT, build_run_dir


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = build_run_dir(tmp_path_factory.mktemp("one_run"), training=False)
    sweep = tmp_path_factory.mktemp("multirun-x")
    for n, k1 in enumerate(("0.6", "1.2")):
        run = sweep / str(n)
        shutil.copytree(base, run)
        (run / ".hydra").mkdir()
        (run / ".hydra" / "overrides.yaml").write_text(f"- retriever.k1={k1}\n- seed=3\n- +note={SCRIPT}\n")
    metrics = pd.read_csv(sweep / "1" / "metrics.csv", index_col="method")
    (metrics * 1.1).clip(upper=1.0).to_csv(sweep / "1" / "metrics.csv")
    return sweep


def test_sweep_leaderboard(sweep: Path) -> None:
    assert main([str(sweep)]) == 0
    md = (sweep / "leaderboard.md").read_text(encoding="utf-8")
    page = (sweep / "leaderboard.html").read_text(encoding="utf-8")
    # only the varying override labels the runs
    assert "| retriever.k1=0.6 | identity |" in md and "| retriever.k1=1.2 | llm |" in md
    assert "seed=3" not in md.split("| run | method |")[1]
    best = pd.read_csv(sweep / "1" / "metrics.csv", index_col="method")["nDCG@10"].max()
    assert f"**{best:.4f}**" in md
    doc = lxml.html.document_fromstring(page)
    rows = doc.get_element_by_id("leaderboard").find("tbody").findall("tr")
    assert len(rows) == 6
    assert SCRIPT not in page and [s.get("id") for s in doc.iter("script")] == []
    assert doc.find_class("plot")


def test_not_a_run_folder_is_an_error(tmp_path: Path, capsys) -> None:
    assert main([str(tmp_path)]) == 2
    assert "neither a run directory" in capsys.readouterr().err
