"""Cross-run leaderboard: several run directories (e.g. a Hydra multirun sweep) in one comparison.

    python -m leser_bench.report.leaderboard <dir> [<dir> ...] [--out DIR]

A directory with ``metrics.csv`` is a run; any other directory contributes its sub-directories that
are runs (``reports/<exp>/multirun-<time>/`` holds ``0/``, ``1/`` …). Each run is labelled by its
Hydra overrides (``.hydra/overrides.yaml``), keeping only those that differ between runs.
Runs are grouped by their data set (name and size, from run_info.json), which every table shows: the
best value of a measure is marked within one data set, never across data sets.
Runs of one data set and query set are also compared per query, method by method, with the runs' own
paired tests and correction (:mod:`leser_bench.report.cross_tests`, ``cross_stats.csv``).
Writes ``leaderboard.html``, ``leaderboard.md`` and ``cross_stats.csv`` (default: into the single directory given).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from leser_bench.io.cache import atomic_write_text
from leser_bench.report.cross_tests import cross_run_tests, cross_tests_markdown
from leser_bench.report.inputs import read_board, read_config, read_csv, read_overrides
from leser_bench.report.markdown import escape_cell
from leser_bench.report.runinfo import ReportInputError, RunInfo, load_run_info
from leser_bench.report.tables import Cell, fmt, marks_from


@dataclass
class RunEntry:
    run_dir: Path
    label: str
    info: RunInfo
    overrides: list[str]
    metrics: pd.DataFrame  # index method, columns measures
    stats: pd.DataFrame | None
    #: the data set the run evaluated on (name and size): runs are compared within one data set only.
    dataset: str = ""


@dataclass
class CrossBoard:
    columns: list[str]
    #: (run label, method, cells), grouped by data set
    rows: list[tuple[str, str, list[Cell]]]
    #: the data set of each row (parallel to ``rows``)
    datasets: list[str] = field(default_factory=list)

    def n_datasets(self) -> int:
        return len(set(self.datasets))


def _natural(path: Path) -> tuple[int, str]:
    return (int(path.name), "") if path.name.isdigit() else (1 << 30, path.name)


def find_runs(paths: Sequence[Path]) -> list[Path]:
    runs: list[Path] = []
    for path in paths:
        if not path.is_dir():
            raise ReportInputError(f"{path}: not a directory")
        if (path / "metrics.csv").is_file():
            runs.append(path)
            continue
        children = sorted((c for c in path.iterdir() if (c / "metrics.csv").is_file()), key=_natural)
        if not children:
            raise ReportInputError(f"{path}: neither a run directory (no metrics.csv) nor a folder of runs")
        runs += children
    return list(dict.fromkeys(runs))


def load_entries(run_dirs: Sequence[Path]) -> list[RunEntry]:
    entries = []
    for run_dir in run_dirs:
        hydra = run_dir / ".hydra" / "config.yaml"
        config = read_config(hydra) if hydra.is_file() else {}
        info = load_run_info(run_dir, config, hydra.read_text(encoding="utf-8") if hydra.is_file() else "")
        metrics = read_board(run_dir / "metrics.csv", required=True)
        assert metrics is not None
        stats = read_csv(run_dir / "stats.csv", required=False)
        if stats is not None and not stats.empty:
            stats = stats[stats["baseline"].astype(str) == info.baseline]
        entries.append(RunEntry(run_dir, "", info, read_overrides(run_dir), metrics, stats, dataset_label(info)))
    _label(entries)
    order = list(dict.fromkeys(e.dataset for e in entries))
    return sorted(entries, key=lambda e: order.index(e.dataset))  # stable: runs keep their order per data set


def dataset_label(info: RunInfo) -> str:
    """The data set of a run as its name and size, e.g. ``world (products 6000, test_queries 250, …)``:
    runs of one data set, and only they, share it."""
    summary = dict(info.dataset_summary or {})
    name = str(summary.pop("name", None) or summary.pop("source", None) or "not recorded")
    summary.pop("generated", None)
    summary.pop("gains", None)
    sizes = ", ".join(f"{k} {v}" for k, v in summary.items())
    return f"{name} ({sizes})" if sizes else name


def _label(entries: list[RunEntry]) -> None:
    """Label each run by the overrides that are not shared by every run; else by its directory."""
    common = set.intersection(*(set(e.overrides) for e in entries)) if entries else set()
    for e in entries:
        varying = [o for o in e.overrides if o not in common]
        e.label = " ".join(varying) if varying else f"{e.run_dir.parent.name}/{e.run_dir.name}"
    seen: dict[str, int] = {}
    for e in entries:
        seen[e.label] = seen.get(e.label, 0) + 1
    for e in entries:
        if seen[e.label] > 1:
            e.label = f"{e.label} ({e.run_dir.name})"


def cross_board(entries: Sequence[RunEntry]) -> CrossBoard:
    """Every run's methods, grouped by data set; the best value per measure is marked within a data set."""
    columns = list(dict.fromkeys(str(c) for e in entries for c in e.metrics.columns))
    best: dict[tuple[str, str], float] = {}
    rows_per_dataset: dict[str, int] = {}
    for e in entries:
        rows_per_dataset[e.dataset] = rows_per_dataset.get(e.dataset, 0) + len(e.metrics)
        for c in columns:
            if c in e.metrics:
                best[(e.dataset, c)] = max(best.get((e.dataset, c), float("-inf")), float(e.metrics[c].max()))
    rows, datasets = [], []
    for e in entries:
        marks = marks_from(e.stats)
        bold = rows_per_dataset[e.dataset] > 1
        for method in e.metrics.index:
            cells = []
            for c in columns:
                if c not in e.metrics:
                    cells.append(Cell("—"))
                    continue
                value = float(e.metrics.at[method, c])
                mark, hover = marks.get((str(method), c), ("", ""))
                cells.append(Cell(fmt(value), best=bold and value == best[(e.dataset, c)], mark=mark, title=hover))
            rows.append((e.label, str(method), cells))
            datasets.append(e.dataset)
    return CrossBoard(columns, rows, datasets)


MIXED_DATASETS = ("These runs use {n} different data sets: rows are grouped by data set and compared within one "
                  "only; values of different data sets are not comparable.")


def markdown(entries: Sequence[RunEntry], board: CrossBoard) -> str:
    lines = ["# leser_bench — cross-run leaderboard", ""]
    if any(e.info.generated for e in entries):
        lines += ["**Some of these runs use generated data** (the embedded world); their numbers are not real traffic.", ""]
    if board.n_datasets() > 1:
        lines += [f"**{MIXED_DATASETS.format(n=board.n_datasets())}**", ""]
    lines += ["| run | data set | experiment | git commit | directory |", "|---|---|---|---|---|"]
    lines += [f"| {escape_cell(e.label)} | {escape_cell(e.dataset)} | {escape_cell(e.info.experiment)} "
              f"| {escape_cell(e.info.git_commit[:12])} | {escape_cell(str(e.run_dir))} |" for e in entries]
    lines += ["", "Best value per measure within each data set in bold; ▲/▼: significantly better/worse than the "
              "run's own baseline (its stats.csv, corrected as that run's report says).", ""]
    lines += ["| data set | run | method | " + " | ".join(escape_cell(c) for c in board.columns) + " |",
              "|---|---|---|" + "---:|" * len(board.columns)]
    for dataset, (label, method, cells) in zip(board.datasets, board.rows, strict=True):
        texts = [(f"**{c.text}**" if c.best else c.text) + (f" {c.mark}" if c.mark else "") for c in cells]
        lines.append(f"| {escape_cell(dataset)} | {escape_cell(label)} | {escape_cell(method)} | "
                     + " | ".join(texts) + " |")
    return "\n".join(lines) + "\n"


def primary_plot(entries: Sequence[RunEntry], board: CrossBoard) -> str | None:
    """Grouped bars of the first measure: one group per run, one bar per method (PNG data URI)."""
    from leser_bench.report.plots import _colors, _figure, _png  # noqa: PLC0415

    if not board.columns:
        return None
    measure = board.columns[0]
    methods = list(dict.fromkeys(str(m) for e in entries for m in e.metrics.index))
    fig = _figure(min(2.0 + 1.0 * len(entries) * max(1, len(methods)) / 2, 14.0), 3.8)
    ax = fig.add_subplot()
    width = 0.8 / len(methods)
    for i, (method, color) in enumerate(zip(methods, _colors(len(methods)))):
        values = [float(e.metrics.at[method, measure]) if method in e.metrics.index and measure in e.metrics
                  else float("nan") for e in entries]
        ax.bar([j + (i - (len(methods) - 1) / 2) * width for j in range(len(entries))], values, width,
               label=method, color=color)
    ax.set_xticks(range(len(entries)), [e.label[:40] for e in entries], rotation=20, ha="right", fontsize=8)
    ax.set_ylabel(measure)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def write_leaderboard(paths: Sequence[Path], out_dir: Path) -> tuple[Path, Path]:
    from leser_bench.report.html import render_template  # noqa: PLC0415

    entries = load_entries(find_runs(paths))
    board = cross_board(entries)
    paired = cross_run_tests(entries)
    atomic_write_text(out_dir / "cross_stats.csv", paired.to_csv(index=False))
    html = render_template("leaderboard.html.j2", entries=entries, board=board, plot=primary_plot(entries, board),
                           paired=paired.to_dict("records"),
                           generated=any(e.info.generated for e in entries),
                           mixed_datasets=MIXED_DATASETS.format(n=board.n_datasets()),
                           created=datetime.now().strftime("%Y-%m-%d %H:%M"))
    html_path, md_path = out_dir / "leaderboard.html", out_dir / "leaderboard.md"
    atomic_write_text(html_path, html)
    atomic_write_text(md_path, markdown(entries, board) + "\n" + cross_tests_markdown(paired))
    return html_path, md_path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leser_bench.report.leaderboard",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("dirs", nargs="+", type=Path, help="run directories or folders of runs (multirun sweeps)")
    parser.add_argument("--out", type=Path, help="output folder (default: the directory given, when only one)")
    args = parser.parse_args(argv)
    out = args.out or (args.dirs[0] if len(args.dirs) == 1 else Path("reports") / "leaderboard")
    try:
        out.mkdir(parents=True, exist_ok=True)
        for path in write_leaderboard(args.dirs, out):
            print(path)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
