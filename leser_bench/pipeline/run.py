"""One benchmark run: dataset -> index -> every method's expansions -> runs -> metrics -> report.

Everything a run produces lands in its run directory (``reports/<experiment>/<run-id>/``):
``runs/<method>.trec``, ``qrels.trec``, ``expansions/<method>.jsonl``, ``per_query.csv``,
``metrics.csv``, ``report.md``, ``report.html``, ``run_info.json`` and Hydra's ``.hydra/config.yaml``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from leser_bench.abtest import abtest_config_from
from leser_bench.abtest.serp import max_grade
from leser_bench.analyze import analyze
from leser_bench.io.cache import atomic_write_text
from leser_bench.data.loading import load_dataset
from leser_bench.data.records import Dataset
from leser_bench.evaluation import Evaluator, aggregate, resolve_all
from leser_bench.evaluation.chunked import evaluate_chunks
from leser_bench.evaluation.grades import check_judgments
from leser_bench.evaluation.expansion_metrics import CoverageConfig, cost_metrics, rule_metrics
from leser_bench.evaluation.measures import Measure
from leser_bench.evaluation.query_sets import FILE as QUERY_SETS_FILE
from leser_bench.evaluation.query_sets import restrict
from leser_bench.expansion import Expansion
from leser_bench.methods import MethodContext, kind_of
from leser_bench.pipeline.method_stage import expansion_record, run_method, write_main_run
from leser_bench.pipeline.planning import evaluation_sets, runnable_methods, too_few_for_tests
from leser_bench.pipeline.stages import StageTimer, release_memory
from leser_bench.pipeline.validation import policy_mismatches, retriever_config, run_only, validate
from leser_bench.report.build import write_reports
from leser_bench.report.markdown import ReportData
from leser_bench.report.tables import shown_expansion
from leser_bench.retrieval import IndexConfig, Retriever, build_index
from leser_bench.stats import stats_config_from
from leser_bench.tracking import tracked
from leser_bench.io.trec import write_qrels

log = logging.getLogger("leser_bench.pipeline")

#: the note of a part of a split comparison (``run_only``); the merge removes it.
PART_NOTE = ("No significance tests or A/B simulation: this run is one part of a split comparison (`run_only`); "
             "`python -m leser_bench.merge <part dirs>` joins the parts and computes them.")


@dataclass
class RunResult:
    out_dir: Path
    leaderboard: pd.DataFrame
    per_query: pd.DataFrame
    #: coverage, rule and cost measures (methods x measures).
    expansion_board: pd.DataFrame
    stage_seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class _Tables:
    """Per-query frames of the main table (every method, the main queries) and the whole-split table."""

    main: list[pd.DataFrame] = field(default_factory=list)
    full: list[pd.DataFrame] = field(default_factory=list)
    expansion: list[pd.DataFrame] = field(default_factory=list)


def run_experiment(cfg: DictConfig, out_dir: Path) -> RunResult:
    validate(cfg)
    with tracked(cfg, out_dir):  # tracking=mlflow: the store is checked here, the finished run logged on exit
        return _run(cfg, out_dir)


def _run(cfg: DictConfig, out_dir: Path) -> RunResult:
    timer = StageTimer()
    out_dir.mkdir(parents=True, exist_ok=True)
    with timer("load dataset"):
        dataset = load_dataset(OmegaConf.to_container(cfg.dataset, resolve=True))
        split = dataset.split(cfg.evaluation.split)
    check_judgments(split.qrels, cfg.evaluation.relevant_grade, split.name)
    abtest_config_from(cfg.get("abtest")).check_grades(max_grade(split.qrels))  # A/B click tables fit the grades
    methods, skipped = runnable_methods(cfg, dataset)
    sets = evaluation_sets(cfg, split, methods)
    main_split = restrict(split, sets.main_ids)
    ret_cfg, k = retriever_config(OmegaConf.to_container(cfg.retriever, resolve=True))
    measures, notes = resolve_all(list(cfg.evaluation.measures), dataset.gains, context_grade(dataset, cfg), k)
    context = method_context(cfg, dataset, out_dir, timer)
    retriever = context.retriever
    write_qrels(main_split.qrels, out_dir / "qrels.trec")
    if sets.sampled:
        write_qrels(split.qrels, out_dir / "qrels_full.trec")
    cov_cfg = CoverageConfig(k=min(int(cfg.evaluation.coverage.k), k), relevant_grade=context_grade(dataset, cfg),
                             facet=str(cfg.evaluation.coverage.facet))
    with timer("raw query run (coverage reference)"):
        raw_run = retriever.search([Expansion(query=q) for q in split.queries], k=cov_cfg.k)
    facets = {p.id: str(getattr(p, cov_cfg.facet, "") or "") for p in dataset.products}
    tables, examples = _Tables(), {}
    main_evaluator = Evaluator(main_split.qrels, measures)  # the qrels are converted once for every method
    full_evaluator = Evaluator(split.qrels, measures) if sets.sampled else main_evaluator
    full_methods: list[str] = []
    main_ids = set(sets.main_ids)
    part = run_only(cfg, methods)  # one job of a split comparison: the query sets are still the whole run's
    for name, method_cfg in methods.items():
        if part is not None and name not in part:
            continue
        on_sample = sets.sampled and kind_of(method_cfg, name).per_query_llm
        whole_split = sets.sampled and not on_sample  # a second table over the whole split
        method_split = main_split if on_sample else split
        chunks, expansions, system = run_method(name, method_cfg, context, method_split, k, out_dir, timer,
                                                   main_ids if whole_split else None)
        # search chunk -> runs/<name>.trec (and the cache) -> evaluate chunk: one chunk in memory at a time
        measured, covered = evaluate_chunks(chunks, full_evaluator if whole_split else main_evaluator, raw_run,
                                            method_split.qrels, facets, cov_cfg, name,
                                            scoring=lambda: timer(f"{name}: evaluate"))
        with timer(f"{name}: evaluate"):
            if whole_split:
                write_main_run(out_dir, name, main_ids)
                tables.full.append(measured)
                measured = measured[measured["query_id"].isin(main_ids)].reset_index(drop=True)
                covered = covered[covered["query_id"].isin(main_ids)].reset_index(drop=True)
                full_methods.append(name)
            tables.main.append(measured)
            main_expansions = [e for e in expansions if e.query_id in main_ids]
            tables.expansion += [covered, rule_metrics(main_expansions, _rule_names(main_expansions), name),
                                 cost_metrics(main_expansions, name)]
        n_examples = int(cfg.report.examples_per_method)
        if system is not None and system.examples is not None:  # a document-side method: what it added to products
            examples[name] = system.examples(n_examples)
        else:
            examples[name] = [(e.query.text, shown_expansion(expansion_record(e))) for e in main_expansions[:n_examples]]
        del chunks, expansions, system  # the model of a trained method must go before the next one trains
        release_memory()
    per_query = pd.concat(tables.main, ignore_index=True)
    leaderboard = aggregate(per_query, [m.name for m in measures])
    expansion_per_query = pd.concat(tables.expansion, ignore_index=True)
    expansion_board = aggregate(expansion_per_query)
    atomic_write_text(out_dir / "per_query.csv", per_query.to_csv(index=False))
    atomic_write_text(out_dir / "per_query_expansion.csv", expansion_per_query.to_csv(index=False))
    atomic_write_text(out_dir / "metrics.csv", leaderboard.to_csv())
    atomic_write_text(out_dir / "expansion_metrics.csv", expansion_board.to_csv())
    if tables.full:
        full_per_query = pd.concat(tables.full, ignore_index=True)
        atomic_write_text(out_dir / "per_query_full.csv", full_per_query.to_csv(index=False))
        atomic_write_text(out_dir / "metrics_full.csv", aggregate(full_per_query, [m.name for m in measures]).to_csv())
    atomic_write_text(out_dir / QUERY_SETS_FILE, json.dumps(sets.to_json(list(methods), full_methods), indent=1) + "\n")
    notes = _measure_notes(dataset, measures, len(main_split.qrels)) + notes + skipped + policy_mismatches(methods)
    no_tests = PART_NOTE if part is not None else too_few_for_tests(len(main_split.qrels), len(methods))
    if no_tests is None:
        with timer("statistics and A/B simulation"):
            # writes stats.csv and abtest.csv, which the reports render
            analyze(out_dir, str(cfg.baseline), stats_config_from(cfg.get("stats")),
                    abtest_config_from(cfg.get("abtest")))
    else:
        log.warning("%s", no_tests.replace("`", ""))
        notes.append(no_tests)
    report = ReportData(
        title=f"leser_bench — {cfg.experiment_name}", dataset_summary=dataset.summary(),
        dataset_description=dataset.description or dataset.name, generated=dataset.generated,
        retriever=ret_cfg.describe() + f"; depth k={k}.", leaderboard=leaderboard, measure_notes=notes,
        examples=examples, stage_seconds=timer.seconds, config_yaml=OmegaConf.to_yaml(cfg, resolve=True),
        baseline=str(cfg.baseline), expansion_board=expansion_board, stage_peak_rss_mb=timer.peak_rss_mb,
    )
    # report.md and report.html are built from the run directory (python -m leser_bench.report rebuilds them)
    write_reports(out_dir, report, dataset, context_grade(dataset, cfg), OmegaConf.to_container(cfg, resolve=True))
    retriever.close()
    return RunResult(out_dir=out_dir, leaderboard=leaderboard, per_query=per_query, stage_seconds=timer.seconds,
                     expansion_board=expansion_board)


def context_grade(dataset: Dataset, cfg: DictConfig) -> int:
    return dataset.gains.relevant_grade(cfg.evaluation.relevant_grade)


def _rule_names(expansions: list[Expansion]) -> list[str]:
    return sorted({rule for e in expansions for rule in e.violations})


def _measure_notes(dataset: Dataset, measures: list[Measure], n_queries: int) -> list[str]:
    notes = [f"{n_queries} judged queries; queries with judgments but no results score 0 (trec_eval semantics)."]
    for m in measures:
        params = {k: v for k, v in m.measure.params.items() if k != "cutoff"}
        if params.get("gains"):
            gains = ", ".join(f"{g}:{v}" for g, v in sorted(params["gains"].items(), reverse=True))
            notes.append(f"`{m.name}` passes gains {{{gains}}} (grade:gain, scaled to integers for pytrec_eval; "
                         "nDCG does not change under scaling) to ir-measures.")
        elif params:
            notes.append(f"`{m.name}` is computed as ir-measures `{m.measure}`.")
    notes.append(f"Gain mapping: {dataset.gains.describe()}.")
    return notes


def method_context(cfg: DictConfig, dataset: Dataset, run_dir: Path, timer: StageTimer | None = None) -> MethodContext:
    """The index over the data set's products (built or reused from the cache), its retriever, and what every
    method is built from. The run and the training CLI (``python -m leser_bench.training``) share it."""
    ret_cfg, _ = retriever_config(OmegaConf.to_container(cfg.retriever, resolve=True))
    with (timer or StageTimer())("build index"):
        index_dir = build_index(dataset.products, IndexConfig(threads=ret_cfg.threads), Path(cfg.cache_dir))
    return MethodContext(dataset=dataset, retriever=Retriever(index_dir, ret_cfg), cache_dir=Path(cfg.cache_dir),
                         seed=int(cfg.seed), config=OmegaConf.to_container(cfg, resolve=True), run_dir=run_dir)
