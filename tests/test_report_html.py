"""HTML and Markdown reports from a run directory whose product titles, queries and model output are hostile."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import lxml.html
import pandas as pd
import pytest

from leser_bench.report.build import build_reports
from leser_bench.report.inputs import load_inputs
from leser_bench.report.plots import recall_at_depths
from leser_bench.report.runinfo import ReportInputError
from report_fixture import HOSTILE, IMG, LOOP, SCRIPT, TEMPLATE, build_run_dir


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_run_dir(tmp_path_factory.mktemp("hostile_run"))


@pytest.fixture(scope="module")
def page(run_dir: Path) -> str:
    return (run_dir / "report.html").read_text(encoding="utf-8")


def test_no_hostile_string_reaches_the_html_unescaped(page: str) -> None:
    for text in HOSTILE:
        assert text not in page
    assert "<script>" not in page  # our own script elements all carry attributes
    assert "onerror=alert(1)>" not in page
    assert "{{" not in page and "{%" not in page  # ("}}" closes JSON objects and JS blocks: harmless alone)
    # every <img> is one of our embedded plots
    assert all(tag.startswith('<img src="data:image/png;base64,') for tag in re.findall(r"<img[^>]*>", page))
    # the template syntax was shown as text, never evaluated
    assert not re.search(r">\s*49\s*<", page) and "looploop" not in page
    assert "&#123;&#123; 7*7 &#125;&#125;" in page
    assert "&lt;script&gt;alert(" in page


def test_the_parsed_document_has_only_our_scripts_and_no_event_handlers(page: str) -> None:
    doc = lxml.html.document_fromstring(page)
    assert [s.get("id") for s in doc.iter("script")] == ["explorer-data", "explorer-js"]
    handlers = [(el.tag, name) for el in doc.iter() if isinstance(el.tag, str)
                for name in el.attrib if name.lower().startswith("on")]
    assert handlers == []
    text = doc.text_content()
    # the hostile strings are there as plain text (visible to the reader, inert)
    assert SCRIPT in text and IMG.strip() in text and TEMPLATE in text and LOOP in text


def test_explorer_json_is_escaped_in_the_page_and_round_trips(page: str) -> None:
    doc = lxml.html.document_fromstring(page)
    raw = doc.get_element_by_id("explorer-data").text
    assert "<" not in raw and ">" not in raw and "&" not in raw and "{{" not in raw
    data = json.loads(raw)
    assert data["baseline"] == "identity" and data["methods"] == ["identity", "prf", "llm"]
    titles = {t[1] for row in data["rows"] for tops in row["top"].values() for t in tops}
    assert any(SCRIPT in t for t in titles) and any(TEMPLATE in t for t in titles)
    assert any(IMG in row["expansions"]["llm"] for row in data["rows"])
    labels = {t[2] for row in data["rows"] for tops in row["top"].values() for t in tops}
    assert labels <= {"E", "S", "C", "I", "unjudged"} and "E" in labels


def test_sections_present(page: str) -> None:
    doc = lxml.html.document_fromstring(page)
    for section in ("summary", "leaderboard", "significance", "abtest", "plots", "wins", "training",
                    "explorer-section", "generated-banner"):
        assert doc.get_element_by_id(section) is not None, section
    assert {f.get("id") for f in doc.find_class("plot")} == {"plot-measures", "plot-recall", "plot-diffs",
                                                             "plot-training"}
    headings = [h.text_content() for h in doc.iter("h2")]
    assert {"Coverage", "Rule violations", "Cost"} <= set(headings)
    assert "Holm" in doc.get_element_by_id("significance").text_content()
    assert "GENERATED DATA" in doc.get_element_by_id("generated-banner").text_content()


def test_leaderboard_bolds_the_best_and_marks_significance_from_stats(run_dir: Path, page: str) -> None:
    doc = lxml.html.document_fromstring(page)
    board = pd.read_csv(run_dir / "metrics.csv", index_col="method")
    stats = pd.read_csv(run_dir / "stats.csv")
    rows = {r[0].text_content(): r for r in doc.get_element_by_id("leaderboard").iter("tr") if r[0].tag == "th"
            and r[0].text_content() in board.index}
    for j, measure in enumerate(board.columns, start=1):
        best = board[measure].idxmax()
        assert rows[best][j].find("strong") is not None
        assert rows[best][j].find("strong").text == f"{board.loc[best, measure]:.4f}"
    significant = stats[stats["significant"]]
    assert not significant.empty, "the fixture's llm run is built to be significantly better"
    for _, r in stats.iterrows():
        cell = rows[r["method"]][list(board.columns).index(r["measure"]) + 1]
        marks = [s.text for s in cell.find_class("sig")]
        assert marks == (["▲" if r["diff"] > 0 else "▼"] if r["significant"] else [])


def test_recall_curve_agrees_with_the_leaderboard(run_dir: Path) -> None:
    inputs = load_inputs(run_dir)
    curve = recall_at_depths(inputs)
    board = pd.read_csv(run_dir / "metrics.csv", index_col="method")
    for method in board.index:
        assert curve.loc[method, 20] == pytest.approx(board.loc[method, "R@20"], abs=1e-9)
    assert max(curve.columns) <= 40  # never deeper than the runs


def test_markdown_twin_has_the_tables_and_no_raw_markup(run_dir: Path) -> None:
    md = (run_dir / "report.md").read_text(encoding="utf-8")
    board = pd.read_csv(run_dir / "metrics.csv", index_col="method")
    assert "| identity |" in md and "| llm |" in md and f"{board.loc['prf', 'nDCG@10']:.4f}" in md
    for heading in ("## Run", "## Results", "## Coverage", "## Rule violations", "## Cost",
                    "## Significance vs the baseline", "## Simulated online A/B test", "## Training"):
        assert heading in md, heading
    assert "▲" in md and "Holm" in md
    outside_code = re.sub(r"```.*?```", "", md, flags=re.S)  # fenced blocks (the config) are inert text
    assert "<script>" not in outside_code and "<img" not in outside_code
    assert "This data is generated" in md


def test_rebuild_from_directory_is_stable_and_old_runs_render(run_dir: Path, tmp_path: Path) -> None:
    before = (run_dir / "report.md").read_text(encoding="utf-8")
    build_reports(run_dir)
    assert (run_dir / "report.md").read_text(encoding="utf-8") == before
    old = tmp_path / "old"
    shutil.copytree(run_dir, old)
    for name in ("run_info.json", "shown_products.jsonl", "stats.csv", "abtest.csv"):
        (old / name).unlink()
    shutil.rmtree(old / "training")
    html, md = build_reports(old)
    page = html.read_text(encoding="utf-8")
    assert "not recorded" in page and 'id="leaderboard"' in page and "plot-training" not in page
    assert "significance" not in [s.get("id") for s in lxml.html.document_fromstring(page).iter("section")]
    assert "No significance tests" in md.read_text(encoding="utf-8")


def test_missing_metrics_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ReportInputError, match="metrics.csv"):
        load_inputs(tmp_path)


def test_report_cli(run_dir: Path, tmp_path: Path) -> None:
    from leser_bench.report.__main__ import main

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    (copy / "report.html").unlink()
    assert main([str(copy)]) == 0 and (copy / "report.html").is_file()
    assert main([str(tmp_path / "nothing")]) == 2
