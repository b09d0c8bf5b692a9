"""The Markdown report of one run: what data, which methods, what scores, with what config.

Renderers only format: every number arrives computed (see :mod:`leser_bench.pipeline`).
"""

from __future__ import annotations

import re
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
    lines = ["| method | " + " | ".join(escape_cell(str(c)) for c in columns) + " |", "|---|" + "---:|" * len(columns)]
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


#: characters that start Markdown inline syntax anywhere: backslash escapes, code spans, emphasis, link and
#: image brackets, strikethrough, table pipes. ``_`` only where it can open or close emphasis (not inside words:
#: ``context_aware`` stays as written).
_INLINE = re.compile(r"[\\`*\[\]~|]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_INLINE_NO_CODE = re.compile(r"[\\*\[\]~|]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
#: what makes a block at the start of a line: heading, list item, setext underline, numbered list.
_BLOCK_START = re.compile(r"^(\s*)([#+=-]|\d+(?=[.)]))")
#: bare URLs that linkifiers (GitHub's autolinks) turn into links: ``://`` and ``www.`` are broken by an escape.
_BARE_URL = re.compile(r"(?<=[A-Za-z0-9]):(?=//)|(?<![A-Za-z0-9])(www)\.", re.IGNORECASE)
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape_cell(text: str, code_spans: bool = False, line_start: bool = False) -> str:
    """``text`` (data, model output, names) as literal Markdown text on one line: every metacharacter
    escaped, so a query or title holding ``![x](http://…)``, ``[click](…)``, ``**``, a backtick or a pipe
    renders as written (also inside a table cell). ``code_spans=True`` keeps backticks, for notes the
    harness writes with code spans around names it has validated; ``line_start=True`` also escapes what
    would start a block (heading, list) for text that begins a line."""
    text = str(text).replace("\r", " ").replace("\n", " ")
    text = re.sub(r"[&<>]", lambda m: _ENTITIES[m.group()], text)
    text = (_INLINE_NO_CODE if code_spans else _INLINE).sub(lambda m: "\\" + m.group(), text)
    text = _BARE_URL.sub(lambda m: "\\:" if m.group() == ":" else m.group(1) + "\\.", text)
    if not line_start:
        return text
    return _BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2) if not m.group(2)[0].isdigit()
                            else m.group(1) + m.group(2) + "\\", text, count=1)


def code_span(text: str) -> str:
    """``text`` as one Markdown code span, whatever backticks it holds: fenced by one backtick more than its
    longest run, padded by a space when it starts or ends with a backtick. Inside a code span nothing
    else is interpreted (backslashes and entities are literal), so nothing else is escaped."""
    text = str(text).replace("\r", " ").replace("\n", " ")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ")) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


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
        # the query as escaped text in quotes, not a code span: inside a code span nothing can be escaped (an
        # entity shows as itself), so markup such as ``<script>`` would stay raw in the Markdown
        out += [f"- “{escape_cell(q)}” → {escape_cell(e) or '_(no expansion)_'}" for q, e in rows]
        out.append("")
    return out


def render(data: ReportData) -> str:
    parts = [f"# {escape_cell(data.title)}", ""]
    if data.generated:
        parts += [GENERATED_NOTE, ""]
    parts += ["## Data", "", escape_cell(data.dataset_description, line_start=True), "", _summary_table(data.dataset_summary), ""]
    if data.run_summary:
        parts += ["## Run", "", _summary_table(dict(data.run_summary)), ""]
    parts += ["## Retrieval", "", escape_cell(data.retriever, line_start=True), ""]
    parts += ["## Results", "", f"Mean over the evaluated queries; best per measure in bold; baseline: {code_span(data.baseline)}.", ""]
    if data.main_set_note:
        parts += [escape_cell(data.main_set_note, code_spans=True, line_start=True), ""]
    parts += [table(data.leaderboard, marks=data.marks), ""]
    if data.marks_note:
        parts += [data.marks_note, ""]
    parts += [f"- {escape_cell(note, code_spans=True)}" for note in data.measure_notes]
    parts.append("")
    if data.full_board is not None and not data.full_board.empty:
        parts += ["## Results on the whole split", "", escape_cell(data.full_set_note, code_spans=True, line_start=True), "",
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
