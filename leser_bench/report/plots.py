"""The report's figures as embedded PNG data URIs (matplotlib, Agg canvas, no pyplot state).

Intervals come from the stats table; recall at many depths is computed with ir-measures on the
run's own TREC files (the same library and semantics as the leaderboard).
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from leser_bench.report.inputs import ReportInputs
from leser_bench.report.tables import per_query_table, primary_measure

RECALL_DEPTHS = (1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 1000)
#: training CSV columns drawn together in one panel (prefix -> panel title).
TRAINING_GROUPS = (("rewards/", "reward components"), ("reward_", "reward components"))


@dataclass
class Plot:
    key: str
    title: str
    caption: str
    data_uri: str


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _colors(n: int) -> list[Any]:
    from matplotlib import colormaps  # noqa: PLC0415

    cmap = colormaps["tab10"]
    return [cmap(i % 10) for i in range(n)]


def measure_bars(inputs: ReportInputs) -> Plot:
    """Grouped bars: measures on x, one bar per method, whiskers = the stats table's mean CIs."""
    board, methods, measures = inputs.leaderboard, inputs.methods, inputs.measures
    ci = _mean_cis(inputs)
    fig = _figure(max(6.0, 1.2 * len(measures) * max(1, len(methods)) / 2 + 2), 3.6)
    ax = fig.add_subplot()
    width = 0.8 / len(methods)
    x = np.arange(len(measures))
    for i, (method, color) in enumerate(zip(methods, _colors(len(methods)))):
        means = board.loc[method, measures].to_numpy(dtype=float)
        err = None
        if ci:
            lo = np.array([ci.get((method, m), (v, v))[0] for m, v in zip(measures, means)])
            hi = np.array([ci.get((method, m), (v, v))[1] for m, v in zip(measures, means)])
            err = np.vstack([np.clip(means - lo, 0, None), np.clip(hi - means, 0, None)])
        ax.bar(x + (i - (len(methods) - 1) / 2) * width, means, width, yerr=err, capsize=3, label=method,
               color=color)
    ax.set_xticks(x, measures)
    ax.set_ylabel("mean over queries")
    ax.legend(fontsize=8, ncols=min(len(methods), 4))
    ax.grid(axis="y", alpha=0.3)
    caption = ("Whiskers: bootstrap confidence intervals of each mean from the stats table."
               if ci else "No stats table in this run directory: bars without intervals.")
    return Plot("measures", "Measures by method", caption, _png(fig))


def _mean_cis(inputs: ReportInputs) -> dict[tuple[str, str], tuple[float, float]]:
    table = inputs.stats_vs_baseline()
    if table is None:
        return {}
    out = {}
    for _, r in table.iterrows():
        out[(str(r["method"]), str(r["measure"]))] = (float(r["mean_ci_low"]), float(r["mean_ci_high"]))
        out[(str(r["baseline"]), str(r["measure"]))] = (float(r["baseline_ci_low"]), float(r["baseline_ci_high"]))
    return out


def relevant_grade(inputs: ReportInputs) -> int:
    if inputs.info.relevant_grade is not None:
        return int(inputs.info.relevant_grade)
    return max((g for docs in inputs.qrels.values() for g in docs.values()), default=1)


def recall_at_depths(inputs: ReportInputs) -> pd.DataFrame:
    """methods x depths: mean R(rel=g)@k over the judged queries (missing queries count 0)."""
    import ir_measures  # noqa: PLC0415

    if not inputs.qrels or not inputs.runs:
        return pd.DataFrame()
    depth = max((len(docs) for run in inputs.runs.values() for docs in run.values()), default=0)
    ks = [k for k in RECALL_DEPTHS if k <= max(depth, 1)]
    grade = relevant_grade(inputs)
    measures = {ir_measures.R(rel=grade) @ k: k for k in ks}
    rows = {}
    for method in [m for m in inputs.methods if m in inputs.runs]:
        judged = {q: d for q, d in inputs.runs[method].items() if q in inputs.qrels and d}
        total = dict.fromkeys(ks, 0.0)
        if judged:
            for rec in ir_measures.iter_calc(list(measures), inputs.qrels, judged):
                total[measures[rec.measure]] += float(rec.value)
        rows[method] = {k: v / len(inputs.qrels) for k, v in total.items()}
    return pd.DataFrame.from_dict(rows, orient="index")


def recall_curves(inputs: ReportInputs) -> Plot | None:
    table = recall_at_depths(inputs)
    if table.empty:
        return None
    fig = _figure(6.5, 3.6)
    ax = fig.add_subplot()
    for (method, row), color in zip(table.iterrows(), _colors(len(table))):
        ax.plot(list(row.index), row.to_numpy(), marker="o", ms=3, label=str(method), color=color)
    ax.set_xscale("log")
    ax.set_xlabel("depth k")
    ax.set_ylabel(f"R@k (grade ≥ {relevant_grade(inputs)})")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    caption = (f"Recall at depths up to {max(table.columns)} (ir-measures on runs/*.trec and qrels.trec; "
               f"relevant = grade ≥ {relevant_grade(inputs)}).")
    return Plot("recall", "Recall at depth k", caption, _png(fig))


def diff_histograms(inputs: ReportInputs) -> Plot | None:
    """Per-query differences vs the baseline on the primary measure, one panel per method."""
    measure = primary_measure(inputs)
    wide = per_query_table(inputs, measure)
    others = [m for m in inputs.methods if m != inputs.baseline]
    if inputs.baseline not in wide or not others:
        return None
    fig = _figure(min(4.0 * len(others), 12.0), 3.2)
    axes = fig.subplots(1, len(others), squeeze=False)[0]
    for ax, method, color in zip(axes, others, _colors(len(others) + 1)[1:]):
        diff = (wide[method] - wide[inputs.baseline]).to_numpy()
        span = max(float(np.abs(diff).max()), 1e-9)
        ax.hist(diff, bins=np.linspace(-span, span, 31), color=color)
        ax.axvline(0, color="black", lw=0.8)
        wins, losses = int((diff > 0).sum()), int((diff < 0).sum())
        ax.set_title(f"{method} − {inputs.baseline}: {wins} up, {losses} down", fontsize=9)
        ax.set_xlabel(f"Δ {measure} per query")
    axes[0].set_ylabel("queries")
    return Plot("diffs", f"Per-query differences vs {inputs.baseline}",
                f"Histogram of {measure}(method) − {measure}({inputs.baseline}) over the judged queries.", _png(fig))


def training_panels(frame: pd.DataFrame) -> list[tuple[str, list[str]]]:
    numeric = [c for c in frame.columns if c != "step" and pd.api.types.is_numeric_dtype(frame[c])
               and frame[c].notna().any()]
    panels: dict[str, list[str]] = {}
    for column in numeric:
        group = next((title for prefix, title in TRAINING_GROUPS if column.startswith(prefix)), column)
        panels.setdefault(group, []).append(column)
    return list(panels.items())


def training_curves(frame: pd.DataFrame | None) -> Plot | None:
    if frame is None or frame.empty:
        return None
    panels = training_panels(frame)[:12]
    if not panels:
        return None
    cols = 3 if len(panels) > 4 else 2
    rows = math.ceil(len(panels) / cols)
    fig = _figure(11.0, 2.6 * rows)
    axes = iter(fig.subplots(rows, cols, squeeze=False).flat)
    for (title, columns), ax in zip(panels, axes):  # panels first: zip must not consume a spare axis
        for column in columns:
            series = frame[["step", column]].dropna()
            ax.plot(series["step"], series[column], lw=1, label=column)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        if len(columns) > 1:
            ax.legend(fontsize=7)
    for ax in axes:  # the spare axes
        ax.axis("off")
    return Plot("training", "Training curves", "Per-step values from the training CSV.", _png(fig))


def all_plots(inputs: ReportInputs) -> list[Plot]:
    plots = [measure_bars(inputs), recall_curves(inputs), diff_histograms(inputs), training_curves(inputs.training)]
    return [p for p in plots if p is not None]
