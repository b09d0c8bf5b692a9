"""Tables both renderers show (HTML and Markdown), as plain data. Formatting only, no statistics.

Significance marks come from the stats table (``stats.csv``); which method is best is the column
maximum of the leaderboard (every ranking measure is higher-is-better).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from leser_bench.report.inputs import ReportInputs
from leser_bench.report.markdown import EXPANSION_SECTIONS
from leser_bench.report.runinfo import NOT_RECORDED, models, seeds

UP, DOWN = "▲", "▼"


@dataclass
class Cell:
    text: str
    best: bool = False
    mark: str = ""
    #: hover text: the comparison behind the mark.
    title: str = ""


@dataclass
class BoardView:
    columns: list[str]
    rows: list[tuple[str, list[Cell]]]
    note: str = ""


@dataclass
class Section:
    title: str
    note: str
    board: BoardView


@dataclass
class WinLoss:
    method: str
    measure: str
    #: (query id, query text, method value, baseline value, difference), best wins first.
    wins: list[tuple[str, str, float, float, float]] = field(default_factory=list)
    losses: list[tuple[str, str, float, float, float]] = field(default_factory=list)


def fmt(value: object, digits: int = 4) -> str:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    return "—" if math.isnan(x) else f"{x:.{digits}f}"


def marks(inputs: ReportInputs) -> dict[tuple[str, str], tuple[str, str]]:
    """(method, measure) -> (mark, hover text) for every comparison with the baseline."""
    return marks_from(inputs.stats_vs_baseline())


def marks_from(table: pd.DataFrame | None) -> dict[tuple[str, str], tuple[str, str]]:
    """Marks from rows of a stats table (``leser_bench.stats.compare``): ▲/▼ when significant."""
    if table is None or table.empty:
        return {}
    out = {}
    for _, r in table.iterrows():
        hover = (f"Δ {float(r['diff']):+.4f} vs {r['baseline']} [{float(r['ci_low']):+.4f}, "
                 f"{float(r['ci_high']):+.4f}], corrected p = {float(r['p_corrected']):.4g}")
        mark = (UP if float(r["diff"]) > 0 else DOWN) if _true(r["significant"]) else ""
        out[(str(r["method"]), str(r["measure"]))] = (mark, hover)
    return out


def _true(value: object) -> bool:
    return str(value).strip().lower() in {"true", "1", "1.0"}


def mark_note(inputs: ReportInputs) -> str:
    table = inputs.stats_vs_baseline()
    if table is None:
        return "No significance tests in this run directory (no stats.csv): no marks."
    from leser_bench.stats.render import CORRECTION_NAMES, TEST_NAMES  # noqa: PLC0415 - only when stats exist

    first = table.iloc[0]
    test = TEST_NAMES.get(str(first["test"]), str(first["test"]))
    correction = CORRECTION_NAMES.get(str(first["correction"]), str(first["correction"]))
    return (f"{UP} / {DOWN}: significantly better / worse than `{inputs.baseline}` (two-sided {test} test, "
            f"p-values corrected with the {correction} correction over {len(inputs.stats)} comparisons, "
            f"α = {first['alpha']}).")


def board_view(frame: pd.DataFrame, bold_best: bool = True,
               cell_marks: dict[tuple[str, str], tuple[str, str]] | None = None, note: str = "") -> BoardView:
    columns = [str(c) for c in frame.columns]
    best = {c: frame[c].max() for c in frame.columns} if bold_best and len(frame) > 1 else {}
    rows = []
    for method, row in frame.iterrows():
        cells = []
        for c in frame.columns:
            mark, hover = (cell_marks or {}).get((str(method), str(c)), ("", ""))
            cells.append(Cell(fmt(row[c]), best=c in best and row[c] == best[c], mark=mark, title=hover))
        rows.append((str(method), cells))
    return BoardView(columns, rows, note)


def leaderboard(inputs: ReportInputs) -> BoardView:
    return board_view(inputs.leaderboard, cell_marks=marks(inputs), note=mark_note(inputs))


def expansion_sections(inputs: ReportInputs) -> list[Section]:
    board = inputs.expansion_board
    if board is None or board.empty:
        return []
    out = []
    for title, prefixes, note in EXPANSION_SECTIONS:
        columns = [c for c in board.columns if str(c).startswith(prefixes)]
        if columns:
            out.append(Section(title, note, board_view(board[columns], bold_best=False)))
    return out


def summary_rows(inputs: ReportInputs) -> list[tuple[str, str]]:
    info = inputs.info
    generated = {True: "GENERATED (synthetic data, not real traffic)", False: "real data",
                 None: NOT_RECORDED}[info.generated]
    rows = [("experiment", info.experiment), ("data", generated)]
    rows += [(str(k), str(v)) for k, v in info.dataset_summary.items() if k != "generated"]
    rows += [("retrieval", info.retriever), ("baseline", info.baseline), ("methods", ", ".join(inputs.methods))]
    rows += [(f"model ({k})", v) for k, v in models(inputs.config).items()]
    found = seeds(inputs.config)
    rows.append(("seeds", ", ".join(f"{k}={v}" for k, v in found.items()) or NOT_RECORDED))
    dirty = {True: " (with uncommitted changes)", False: "", None: ""}[info.git_dirty]
    rows += [("git commit", info.git_commit + dirty), ("created", info.created)]
    rows.append(("versions", ", ".join(f"{k} {v}" for k, v in info.versions.items()) or NOT_RECORDED))
    if inputs.overrides:
        rows.append(("overrides", " ".join(inputs.overrides)))
    if inputs.training_path is not None:
        rows.append(("training curves", str(inputs.training_path)))
    rows.append(("total wall time", f"{sum(info.stage_seconds.values()):.1f} s" if info.stage_seconds else NOT_RECORDED))
    return rows


def primary_measure(inputs: ReportInputs) -> str:
    return inputs.measures[0]


def per_query_table(inputs: ReportInputs, measure: str) -> pd.DataFrame:
    """query id x method values of one measure (missing queries count 0, as in the stats)."""
    frame = inputs.per_query[inputs.per_query["measure"] == measure]
    wide = frame.pivot_table(index="query_id", columns="method", values="value", aggfunc="first")
    return wide.reindex(columns=inputs.methods).fillna(0.0)


def wins_and_losses(inputs: ReportInputs, n: int = 5) -> list[WinLoss]:
    """The queries each method gains and loses most on vs the baseline (primary measure)."""
    measure = primary_measure(inputs)
    wide = per_query_table(inputs, measure)
    if inputs.baseline not in wide:
        return []
    texts = _query_texts(inputs)
    out = []
    for method in inputs.methods:
        if method == inputs.baseline:
            continue
        diff = (wide[method] - wide[inputs.baseline]).sort_values(kind="stable")
        def rows(ids: list[str], method: str = method, diff: pd.Series = diff) -> list:
            return [(q, texts.get(q, ""), float(wide.at[q, method]), float(wide.at[q, inputs.baseline]),
                     float(diff[q])) for q in ids]

        out.append(WinLoss(method, measure, wins=rows([q for q in diff.index[::-1][:n] if diff[q] > 0]),
                           losses=rows([q for q in diff.index[:n] if diff[q] < 0])))
    return out


def _query_texts(inputs: ReportInputs) -> dict[str, str]:
    texts: dict[str, str] = {}
    for records in inputs.expansions.values():
        for qid, record in records.items():
            texts.setdefault(qid, str(record.get("query", "")))
    return texts


def shown_expansion(record: dict | None) -> str:
    """The expansion as one line: LLM texts, or the top PRF terms with weights."""
    if not record:
        return ""
    texts = record.get("texts") or []
    if texts:
        return " | ".join(str(t) for t in texts)
    weights = record.get("term_weights") or {}
    if weights:
        top = sorted(weights.items(), key=lambda kv: -float(kv[1]))[:8]
        return " ".join(f"{t}({float(w):.2f})" for t, w in top)
    prf = record.get("prf") or {}
    return f"{prf.get('method')} feedback (terms not exposed by Pyserini)" if prf else ""


def training_summary(frame: pd.DataFrame | None) -> list[tuple[str, str, str, str, str]]:
    """(column, first, last, min, max) for each logged training quantity."""
    if frame is None or frame.empty:
        return []
    rows = []
    for column in frame.columns:
        if column == "step" or not pd.api.types.is_numeric_dtype(frame[column]):
            continue
        series = frame[column].dropna()
        if series.empty:
            continue
        rows.append((str(column), fmt(series.iloc[0]), fmt(series.iloc[-1]), fmt(series.min()), fmt(series.max())))
    return rows
