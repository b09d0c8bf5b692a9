"""Cross-run leaderboard: several run directories (e.g. a Hydra multirun sweep) in one comparison.

    python -m leser_bench.report.leaderboard <dir> [<dir> ...] [--out DIR]

A directory with ``metrics.csv`` is a run; any other directory contributes its sub-directories that
are runs (``reports/<exp>/multirun-<time>/`` holds ``0/``, ``1/`` …). Each run is labelled by its
Hydra overrides (``.hydra/overrides.yaml``), keeping only those that differ between runs.
Writes ``leaderboard.html`` and ``leaderboard.md`` (default: into the single directory given).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from leser_bench.io.cache import atomic_write_text
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


@dataclass
class CrossBoard:
    columns: list[str]
    #: (run label, method, cells)
    rows: list[tuple[str, str, list[Cell]]]


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
        entries.append(RunEntry(run_dir, "", info, read_overrides(run_dir), metrics, stats))
    _label(entries)
    return entries


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
    columns = list(dict.fromkeys(str(c) for e in entries for c in e.metrics.columns))
    bold = sum(len(e.metrics) for e in entries) > 1
    best = {c: max(float(e.metrics[c].max()) for e in entries if c in e.metrics) for c in columns}
    rows = []
    for e in entries:
        marks = marks_from(e.stats)
        for method in e.metrics.index:
            cells = []
            for c in columns:
                if c not in e.metrics:
                    cells.append(Cell("—"))
                    continue
                value = float(e.metrics.at[method, c])
                mark, hover = marks.get((str(method), c), ("", ""))
                cells.append(Cell(fmt(value), best=bold and value == best[c], mark=mark, title=hover))
            rows.append((e.label, str(method), cells))
    return CrossBoard(columns, rows)


def markdown(entries: Sequence[RunEntry], board: CrossBoard) -> str:
    lines = ["# leser_bench — cross-run leaderboard", ""]
    if any(e.info.generated for e in entries):
        lines += ["**Some of these runs use generated data** (the embedded world); their numbers are not real traffic.", ""]
    lines += ["| run | experiment | git commit | directory |", "|---|---|---|---|"]
    lines += [f"| {escape_cell(e.label)} | {escape_cell(e.info.experiment)} | {escape_cell(e.info.git_commit[:12])} "
              f"| {escape_cell(str(e.run_dir))} |" for e in entries]
    lines += ["", "Best value per measure over all runs in bold; ▲/▼: significantly better/worse than the run's "
              "own baseline (its stats.csv, corrected as that run's report says).", ""]
    lines += ["| run | method | " + " | ".join(escape_cell(c) for c in board.columns) + " |",
              "|---|---|" + "---:|" * len(board.columns)]
    for label, method, cells in board.rows:
        texts = [(f"**{c.text}**" if c.best else c.text) + (f" {c.mark}" if c.mark else "") for c in cells]
        lines.append(f"| {escape_cell(label)} | {escape_cell(method)} | " + " | ".join(texts) + " |")
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
    html = render_template("leaderboard.html.j2", entries=entries, board=board, plot=primary_plot(entries, board),
                           generated=any(e.info.generated for e in entries),
                           created=datetime.now().strftime("%Y-%m-%d %H:%M"))
    html_path, md_path = out_dir / "leaderboard.html", out_dir / "leaderboard.md"
    atomic_write_text(html_path, html)
    atomic_write_text(md_path, markdown(entries, board))
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
