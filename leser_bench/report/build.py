"""Build ``report.html`` and ``report.md`` from a run directory — at the end of a run, or later.

The pipeline calls :func:`write_reports` (it records ``run_info.json`` and the shown products
first, and marks ``run_info.json`` complete last); ``python -m leser_bench.report <run_dir>`` calls :func:`build_reports` on any finished
run, so both paths produce the same pages from the same files.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from leser_bench.io.cache import atomic_write_text
from leser_bench.data.records import Dataset
from leser_bench.report import tables
from leser_bench.report.inputs import ReportInputs, load_inputs, save_shown_products
from leser_bench.report.markdown import ReportData, escape_cell, render
from leser_bench.report.runinfo import RunInfo, git_state, now_iso, package_versions, save_run_info
from leser_bench.io.trec import read_run


PAIRS_NOTE = ("The comparisons `stats.pairs` names, tested as their own family (the correction spans these "
              "tests only; `stats_pairs.csv`).")


def markdown_report(inputs: ReportInputs) -> str:
    """The Markdown twin: the HTML report's tables without plots or scripts."""
    from leser_bench.stats.render import abtest_markdown, significance_markdown  # noqa: PLC0415

    info = inputs.info
    sections = ["_The HTML twin of this report (`report.html`) adds plots and a per-query explorer._"]
    if inputs.stats_vs_baseline() is not None:
        sections.append("## Significance vs the baseline\n\n" + significance_markdown(inputs.stats))
    if inputs.pairs is not None and not inputs.pairs.empty:
        sections.append("## Chosen pairs\n\n" + PAIRS_NOTE + "\n\n" + significance_markdown(inputs.pairs))
    if inputs.abtest is not None and not inputs.abtest.empty:
        ab_section = "## Simulated online A/B test and interleaving\n\n" + abtest_markdown(inputs.abtest)
        if "click_probabilities" in inputs.abtest.columns:
            used = sorted(set(inputs.abtest["click_probabilities"].dropna().astype(str)))
            ab_section += "\n" + "".join(f"Click probabilities: {escape_cell(u)}.\n" for u in used)
        sections.append(ab_section)
    reanalyses = sorted(p.parent.relative_to(inputs.run_dir).as_posix()
                        for p in (inputs.run_dir / "analysis").glob("*/analysis.md"))
    if reanalyses:
        sections.append("Re-analyses (`python -m leser_bench.analyze`; the tables above are the run's own): "
                        + ", ".join(f"`{escape_cell(r)}/analysis.md`" for r in reanalyses))
    sections += [_wins_markdown(w, inputs.baseline) for w in tables.wins_and_losses(inputs)]
    training = tables.training_summary(inputs.training)
    if training:
        rows = "\n".join(f"| {escape_cell(n)} | {a} | {b} | {c} | {d} |" for n, a, b, c, d in training)
        sections.append(f"## Training\n\nFrom `{inputs.training_path}`.\n\n| logged value | first | last | min | max |\n"
                        f"|---|---:|---:|---:|---:|\n{rows}\n")
    n_examples = int((inputs.config.get("report") or {}).get("examples_per_method", 3))
    examples = {m: [(str(r.get("query", "")), tables.shown_expansion(r)) for r in list(recs.values())[:n_examples]]
                for m, recs in inputs.expansions.items()}
    marks = tables.marks(inputs)
    data = ReportData(
        title=info.title, dataset_summary=info.dataset_summary, dataset_description=info.dataset_description,
        generated=bool(info.generated), retriever=info.retriever, leaderboard=inputs.leaderboard,
        measure_notes=info.measure_notes, examples=examples, stage_seconds=info.stage_seconds,
        config_yaml=info.config_yaml, baseline=info.baseline, expansion_board=inputs.expansion_board,
        extra_sections=sections, run_summary=tables.summary_rows(inputs),
        marks={k: v[0] for k, v in marks.items() if v[0]}, marks_note=tables.mark_note(inputs),
        main_set_note=inputs.main_set_note(), full_board=inputs.full_board, full_set_note=inputs.full_set_note(),
        stage_peak_rss_mb=info.stage_peak_rss_mb,
    )
    text = render(data)
    if info.generated is None:
        text = text.replace("\n## Data", "\n_Whether this data is generated or real was not recorded._\n\n## Data", 1)
    return text


def _wins_markdown(item: tables.WinLoss, baseline: str) -> str:
    out = [f"## Where `{escape_cell(item.method)}` wins and loses vs `{escape_cell(baseline)}` ({item.measure})", ""]
    for title, rows in (("Largest gains", item.wins), ("Largest losses", item.losses)):
        out += [f"**{title}**", "", f"| query id | query | {escape_cell(item.method)} | {escape_cell(baseline)} | Δ |",
                "|---|---|---:|---:|---:|"]
        out += [f"| {escape_cell(q)} | {escape_cell(t)} | {v:.4f} | {b:.4f} | {d:+.4f} |" for q, t, v, b, d in rows]
        out += ["| — | none | | | |"] if not rows else []
        out.append("")
    return "\n".join(out)


def build_reports(run_dir: Path, training_csv: Path | None = None) -> tuple[Path, Path]:
    """Write ``report.html`` and ``report.md`` into ``run_dir``; returns their paths."""
    from leser_bench.report.html import render_html  # noqa: PLC0415 - jinja2/matplotlib only when used

    inputs = load_inputs(run_dir, training_csv)
    html_path, md_path = run_dir / "report.html", run_dir / "report.md"
    atomic_write_text(md_path, markdown_report(inputs))
    atomic_write_text(html_path, render_html(inputs))
    return html_path, md_path


def run_info_from(data: ReportData, dataset: Dataset, relevant_grade: int, config: Mapping[str, Any]) -> RunInfo:
    commit, dirty = git_state()
    return RunInfo(
        title=data.title, experiment=str(config.get("experiment_name", "")),
        dataset_description=data.dataset_description, dataset_summary=dict(data.dataset_summary),
        generated=bool(data.generated), retriever=data.retriever, baseline=data.baseline,
        measure_notes=list(data.measure_notes), stage_seconds=dict(data.stage_seconds),
        stage_peak_rss_mb=dict(data.stage_peak_rss_mb),
        labels={str(grade): label for label, grade in dataset.gains.grades.items()},
        gains={str(grade): float(gain) for grade, gain in dataset.gains.gain_of_grade().items()},
        relevant_grade=int(relevant_grade), git_commit=commit, git_dirty=dirty, created=now_iso(),
        config_yaml=data.config_yaml, versions=package_versions(),
    )


def write_reports(out_dir: Path, data: ReportData, dataset: Dataset, relevant_grade: int,
                  config: Mapping[str, Any]) -> tuple[Path, Path]:
    """Pipeline hook: record run_info.json and the products the explorer shows, then build both reports."""
    info = run_info_from(data, dataset, relevant_grade, config)
    save_run_info(out_dir, info)
    report_cfg = config.get("report") or {}
    runs = {p.stem: read_run(p) for p in sorted((out_dir / "runs").glob("*.trec"))}
    save_shown_products(out_dir, dataset.products, runs, int(report_cfg.get("explorer_top_results", 5)))
    training = report_cfg.get("training_csv")
    pages = build_reports(out_dir, Path(training) if training else None)
    info.complete = True  # written last: a run directory without it did not finish (regress refuses it)
    save_run_info(out_dir, info)
    return pages

