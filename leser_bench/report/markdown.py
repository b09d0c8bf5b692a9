"""The Markdown report of one run: what data, which methods, what scores, with what config.

Renderers only format: every number arrives computed (see :mod:`leser_bench.pipeline`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

GENERATED_NOTE = (
    "**This data is generated**: the embedded e-commerce world is produced by a seeded generator "
    "shipped as code (`leser_bench.data.world`). Its numbers say how methods behave on it, not on real traffic."
)


@dataclass
class ReportData:
    title: str
    dataset_summary: dict[str, object]
    dataset_description: str
    generated: bool
    retriever: str
    leaderboard: pd.DataFrame  # methods x measures
    measure_notes: list[str]
    examples: dict[str, list[tuple[str, str]]]  # method -> [(query, expansion shown)]
    stage_seconds: dict[str, float]
    config_yaml: str
    baseline: str
    expansion_board: pd.DataFrame | None = None
    extra_sections: list[str] = field(default_factory=list)
    #: (key, value) rows of the "Run" section: models, seeds, git commit, wall time …
    run_summary: list[tuple[str, str]] = field(default_factory=list)
    #: (method, measure) -> significance mark shown after the leaderboard value, and its legend.
    marks: dict[tuple[str, str], str] = field(default_factory=dict)
    marks_note: str = ""
    #: which queries the main table covers (a sentence), and the whole-split table with its sentence.
    main_set_note: str = ""
    full_board: pd.DataFrame | None = None
    full_set_note: str = ""
    stage_peak_rss_mb: dict[str, float] = field(default_factory=dict)


def table(frame: pd.DataFrame, bold_best: bool = True, digits: int = 4,
          marks: dict[tuple[str, str], str] | None = None) -> str:
    """A Markdown table of a methods x measures frame, the best value per column in bold."""
    columns = list(frame.columns)
    lines = ["| method | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    best = {c: frame[c].max() for c in columns} if bold_best and len(frame) > 1 else {}
    for method, row in frame.iterrows():
        cells = []
        for c in columns:
            text = "—" if pd.isna(row[c]) else f"{row[c]:.{digits}f}"
            text = f"**{text}**" if c in best and row[c] == best[c] else text
            mark = (marks or {}).get((str(method), str(c)), "")
            cells.append(f"{text} {mark}" if mark else text)
        lines.append(f"| {escape_cell(str(method))} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def escape_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def _summary_table(summary: dict[str, object]) -> str:
    lines = ["| | |", "|---|---|"]
    lines += [f"| {escape_cell(str(k))} | {escape_cell(str(v))} |" for k, v in summary.items()]
    return "\n".join(lines)


def _examples(examples: dict[str, list[tuple[str, str]]]) -> Sequence[str]:
    out = []
    for method, rows in examples.items():
        if not rows:
            continue
        out.append(f"**{escape_cell(method)}**\n")
        out += [f"- `{escape_cell(q)}` → {escape_cell(e) or '_(no expansion)_'}" for q, e in rows]
        out.append("")
    return out


def render(data: ReportData) -> str:
    parts = [f"# {escape_cell(data.title)}", ""]
    if data.generated:
        parts += [GENERATED_NOTE, ""]
    parts += ["## Data", "", escape_cell(data.dataset_description), "", _summary_table(data.dataset_summary), ""]
    if data.run_summary:
        parts += ["## Run", "", _summary_table(dict(data.run_summary)), ""]
    parts += ["## Retrieval", "", escape_cell(data.retriever), ""]
    parts += ["## Results", "", f"Mean over the evaluated queries; best per measure in bold; baseline: `{data.baseline}`.", ""]
    if data.main_set_note:
        parts += [escape_cell(data.main_set_note), ""]
    parts += [table(data.leaderboard, marks=data.marks), ""]
    if data.marks_note:
        parts += [data.marks_note, ""]
    parts += [f"- {escape_cell(note)}" for note in data.measure_notes]
    parts.append("")
    if data.full_board is not None and not data.full_board.empty:
        parts += ["## Results on the whole split", "", escape_cell(data.full_set_note), "",
                  table(data.full_board), "", "No significance marks here: the tests above use the main table's queries.", ""]
    parts += _expansion_sections(data.expansion_board)
    for section in data.extra_sections:
        parts += [section, ""]
    if any(data.examples.values()):
        parts += ["## Example expansions", "", *_examples(data.examples)]
    rss = data.stage_peak_rss_mb
    parts += ["## Time per stage", "", "| stage | seconds | peak RSS (MB) |", "|---|---:|---:|"]
    parts += [f"| {escape_cell(k)} | {v:.1f} | {rss[k]:.0f} |" if k in rss else f"| {escape_cell(k)} | {v:.1f} | — |"
              for k, v in data.stage_seconds.items()]
    parts += ["", "## Config", "", "```yaml", data.config_yaml.rstrip(), "```", ""]
    return "\n".join(parts)


EXPANSION_SECTIONS = (
    ("Coverage", ("NewRel@", "NewRelShare@", "IntentCov@"),
     "NewRel@K: relevant products in the top-K that the raw query's top-K missed; NewRelShare@K: the same as a "
     "share of all relevant products; IntentCov@K: share of the relevant products' product types found "
     "(definitions: `leser_bench/evaluation/expansion_metrics.py`)."),
    ("Rule violations", ("Violated", "Violations:", "FellBack"),
     "Share of queries whose expansion broke a platform rule (overall and per rule), and that fell back to the raw query."),
    ("Cost", ("Tokens", "Seconds"), "Generated tokens and wall seconds per query to produce the expansion."),
)


def _expansion_sections(board: pd.DataFrame | None) -> list[str]:
    if board is None or board.empty:
        return []
    parts: list[str] = []
    for title, prefixes, note in EXPANSION_SECTIONS:
        columns = [c for c in board.columns if c.startswith(prefixes)]
        if not columns:
            continue
        parts += [f"## {title}", "", note, "", table(board[columns], bold_best=False), ""]
    return parts
