"""One benchmark run: dataset -> index -> every method's expansions -> runs -> metrics -> report.

Everything a run produces lands in its run directory (``reports/<experiment>/<run-id>/``):
``runs/<method>.trec``, ``qrels.trec``, ``expansions/<method>.jsonl``, ``per_query.csv``,
``metrics.csv``, ``report.md``, ``report.html``, ``run_info.json`` and Hydra's ``.hydra/config.yaml``.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from leser_bench.abtest import abtest_config_from
from leser_bench.analyze import analyze
from leser_bench.artefacts import expansions_key, load_expansions, run_key, save_expansions
from leser_bench.cache import atomic_write_text
from leser_bench.data.loading import dataset_config, load_dataset
from leser_bench.data.records import Dataset
from leser_bench.evaluation import Evaluator, MeasureError, aggregate, resolve_all
from leser_bench.evaluation.chunked import evaluate_chunks
from leser_bench.evaluation.expansion_metrics import CoverageConfig, cost_metrics, rule_metrics
from leser_bench.evaluation.measures import Measure
from leser_bench.evaluation.measures import parse as parse_measure
from leser_bench.expansion import Expansion
from leser_bench.evaluation.query_sets import FILE as QUERY_SETS_FILE
from leser_bench.evaluation.query_sets import QuerySets, query_sets, restrict
from leser_bench.methods import (
    QUERY_LLM_KINDS,
    ConfigError,
    ConfigView,
    MethodContext,
    build_expander,
    check_method_settings,
    required_split,
)
from leser_bench.report.build import write_reports
from leser_bench.report.markdown import ReportData
from leser_bench.stats import stats_config_from
from leser_bench.retrieval import IndexConfig, Retriever, RetrieverConfig, Run, build_index
from leser_bench.runs import RunFileWriter, stream_method_run
from leser_bench.stages import StageTimer, release_memory
from leser_bench.trec import write_qrels

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    out_dir: Path
    leaderboard: pd.DataFrame
    per_query: pd.DataFrame
    #: coverage, rule and cost measures (methods x measures).
    expansion_board: pd.DataFrame
    stage_seconds: dict[str, float] = field(default_factory=dict)


def method_configs(cfg: DictConfig) -> dict[str, dict[str, Any]]:
    """The methods to run, in order: ``methods.*`` then the single ``method`` override, if any."""
    methods: dict[str, dict[str, Any]] = {}
    for key, value in (cfg.get("methods") or {}).items():
        if value is not None:
            methods[str(key)] = OmegaConf.to_container(value, resolve=True)
    single = cfg.get("method")
    if single is not None:
        single = OmegaConf.to_container(single, resolve=True)
        methods[str(single.get("name"))] = single
    if not methods:
        raise ConfigError("no methods configured: set `methods` or `method=<name>`")
    return methods


def retriever_config(cfg: Mapping[str, Any]) -> tuple[RetrieverConfig, int]:
    values = dict(cfg)
    k = int(values.pop("k", 1000))
    if k <= 0:
        raise ConfigError(f"retriever.k must be > 0, got {k}")
    allowed = set(RetrieverConfig.__dataclass_fields__)
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise ConfigError(f"retriever: unknown keys {unknown}; allowed: {sorted(allowed | {'k'})}")
    try:
        return RetrieverConfig(**values), k
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc)) from None


def relevant_grade(dataset: Dataset, configured: int | None) -> int:
    if configured is not None:
        return int(configured)
    grades = dataset.gains.grades
    return grades["E"] if "E" in grades else max(grades.values())


def validate(cfg: DictConfig) -> None:
    """Check every config group before any work is done."""
    dataset_config(OmegaConf.to_container(cfg.dataset, resolve=True))
    retriever_config(OmegaConf.to_container(cfg.retriever, resolve=True))
    view = ConfigView(config=OmegaConf.to_container(cfg, resolve=True), seed=int(cfg.seed))
    for key, method_cfg in method_configs(cfg).items():
        check_method_settings(key, method_cfg, view)
    check_evaluation_config(cfg.evaluation)
    check_budget(cfg.get("budget") or {})
    stats_config_from(cfg.get("stats"))
    abtest_config_from(cfg.get("abtest"))
    if cfg.baseline not in method_configs(cfg):
        raise ConfigError(f"baseline={cfg.baseline!r} is not among the methods run: {list(method_configs(cfg))}")


def check_budget(budget: Mapping[str, Any]) -> None:
    """The evaluation sample size is a positive integer or null (the whole split)."""
    size = budget.get("llm_queries")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise ConfigError(f"budget.llm_queries={size!r}; allowed: a number >= 1 or null (the whole split)")


def check_evaluation_config(evaluation: DictConfig) -> None:
    """Measure names ir-measures knows and positive cutoffs, before any data is loaded."""
    for name in evaluation.measures or []:
        try:
            cutoff = parse_measure(str(name)).params.get("cutoff")
        except MeasureError as exc:
            raise ConfigError(f"evaluation.measures: {exc}") from None
        if cutoff is not None and int(cutoff) <= 0:
            raise ConfigError(f"evaluation.measures: {name!r} has cutoff {cutoff}; a cutoff must be > 0")
    coverage_k = int(evaluation.coverage.k)
    if coverage_k <= 0:
        raise ConfigError(f"evaluation.coverage.k must be > 0, got {coverage_k}")


def expansion_record(e: Expansion) -> dict[str, Any]:
    top_terms = dict(sorted(e.term_weights.items(), key=lambda kv: -kv[1])[:20])
    return {
        "query_id": e.query_id, "query": e.query.text, "texts": e.texts, "term_weights": top_terms,
        "prf": e.prf, "raw_output": e.raw_output, "violations": e.violations, "fell_back": e.fell_back,
        "generated_tokens": e.generated_tokens, "seconds": round(e.seconds, 6),
    }


def shown_expansion(e: Expansion) -> str:
    if e.texts:
        return " | ".join(e.texts)
    if e.term_weights:
        top = sorted(e.term_weights.items(), key=lambda kv: -kv[1])[:8]
        return " ".join(f"{t}({w:.2f})" for t, w in top)
    if e.prf:
        return f"{e.prf.get('method')} feedback (terms not exposed by Pyserini)"
    return ""


#: paired tests, bootstrap CIs and the A/B simulation need at least this many evaluated queries.
MIN_PAIRED_QUERIES = 2


def too_few_for_tests(n: int) -> str:
    return (f"No significance tests or A/B simulation: the main table has {n} judged quer{'y' if n == 1 else 'ies'}, "
            f"and paired tests need at least {MIN_PAIRED_QUERIES}.")


def runnable_methods(cfg: DictConfig, dataset: Dataset) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The configured methods whose inputs the data set has, and one note per method left out.

    A method that trains, or draws few-shot examples, needs its split: when the data set lacks it
    (ESCI's micro sample has no train queries), the method is left out with a warning naming the
    split, before any index is built; the baseline can never be left out.
    """
    methods, skipped = {}, []
    for name, method_cfg in method_configs(cfg).items():
        needed = required_split(method_cfg)
        available = dataset.splits.get(needed) if needed is not None else None
        if needed is not None and (available is None or not available.queries):
            state = "has no queries in" if available is not None else "is not a split of"
            skipped.append(f"`{name}` not run: it needs split `{needed}` (training or few-shot examples), which "
                           f"{state} data set {dataset.name!r}.")
            continue
        methods[name] = method_cfg
    if skipped and str(cfg.baseline) not in methods:
        raise ConfigError(f"baseline={cfg.baseline!r} cannot run: {skipped[0]}")
    for note in skipped:
        log.warning("%s", note.replace("`", ""))
    return methods, skipped


def evaluation_sets(cfg: DictConfig, split: Any, methods: Mapping[str, Mapping[str, Any]]) -> QuerySets:
    """The main table's queries: the budget's sample when a query-side LLM method runs, else the split."""
    budget = cfg.get("budget") or {}
    size = budget.get("llm_queries")
    if not any(m.get("kind") in QUERY_LLM_KINDS for m in methods.values()):
        size = None
    seed = budget.get("sample_seed")
    return query_sets(split, None if size is None else int(size), int(cfg.seed if seed is None else seed))


@dataclass
class _Tables:
    """Per-query frames of the main table (every method, the main queries) and the whole-split table."""

    main: list[pd.DataFrame] = field(default_factory=list)
    full: list[pd.DataFrame] = field(default_factory=list)
    expansion: list[pd.DataFrame] = field(default_factory=list)


def run_experiment(cfg: DictConfig, out_dir: Path) -> RunResult:
    validate(cfg)
    timer = StageTimer()
    out_dir.mkdir(parents=True, exist_ok=True)
    cache_dir = Path(cfg.cache_dir)
    with timer("load dataset"):
        dataset = load_dataset(OmegaConf.to_container(cfg.dataset, resolve=True))
        split = dataset.split(cfg.evaluation.split)
    methods, skipped = runnable_methods(cfg, dataset)
    sets = evaluation_sets(cfg, split, methods)
    if len(sets.main_ids) < MIN_PAIRED_QUERIES:
        log.warning("%s", too_few_for_tests(len(sets.main_ids)))
    main_split = restrict(split, sets.main_ids)
    ret_cfg, k = retriever_config(OmegaConf.to_container(cfg.retriever, resolve=True))
    measures, notes = resolve_all(list(cfg.evaluation.measures), dataset.gains, context_grade(dataset, cfg), k)
    with timer("build index"):
        index_dir = build_index(dataset.products, IndexConfig(threads=ret_cfg.threads), cache_dir)
    retriever = Retriever(index_dir, ret_cfg)
    context = MethodContext(dataset=dataset, retriever=retriever, cache_dir=cache_dir, seed=int(cfg.seed),
                            config=OmegaConf.to_container(cfg, resolve=True), run_dir=out_dir)
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
    for name, method_cfg in methods.items():
        on_sample = sets.sampled and method_cfg.get("kind") in QUERY_LLM_KINDS
        whole_split = sets.sampled and not on_sample  # a second table over the whole split
        method_split = main_split if on_sample else split
        chunks, expansions, expander = _run_method(name, method_cfg, context, method_split, k, out_dir, timer,
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
        if hasattr(expander, "examples"):  # a document-side method shows what it added to products
            examples[name] = expander.examples(n_examples)
        else:
            examples[name] = [(e.query.text, shown_expansion(e)) for e in main_expansions[:n_examples]]
        del chunks, expansions, expander  # the model of a trained method must go before the next one trains
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
    notes = _measure_notes(dataset, measures, len(main_split.qrels)) + notes + skipped
    if len(sets.main_ids) >= MIN_PAIRED_QUERIES:
        with timer("statistics and A/B simulation"):
            # writes stats.csv and abtest.csv, which the reports render
            analyze(out_dir, str(cfg.baseline), stats_config_from(cfg.get("stats")),
                    abtest_config_from(cfg.get("abtest")))
    else:
        notes.append(too_few_for_tests(len(sets.main_ids)))
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
    return relevant_grade(dataset, cfg.evaluation.relevant_grade)


def _rule_names(expansions: list[Expansion]) -> list[str]:
    return sorted({rule for e in expansions for rule in e.violations})


def _run_method(name: str, method_cfg: dict[str, Any], context: MethodContext, split: Any,
                k: int, out_dir: Path, timer: StageTimer,
                main_ids: set[str] | None = None) -> tuple[Iterator[tuple[list[str], Run]], list[Expansion], Any]:
    """Expand, then search; each stage is reused from the cache when its inputs are unchanged.
    Returns the run as an iterator of (query ids, Run) chunks (searched, or read from the cached
    TREC run, as it is consumed; the run file is complete once it is exhausted), the expansions
    and the expander (None when the expansions came from the cache). The run file is
    ``runs/<name>.trec``, or with ``main_ids`` (a sampled main table, a method run on the whole
    split) ``runs_full/<name>.trec``, from which :func:`write_main_run` then keeps the main queries."""
    reuse = bool(context.config.get("cache", {}).get("reuse", True))
    stage_dir = context.cache_dir / "stages"
    exp_key = expansions_key(method_cfg, context.config, context.retriever.index_dir, split.queries)
    expansions = load_expansions(stage_dir / f"expansions-{exp_key}.jsonl", split.queries) if reuse else None
    # a document-side method (own_index: true, e.g. doc2query) searches its own index: build it always
    expander = build_expander(method_cfg, context) if method_cfg.get("own_index") else None
    if expansions is None:
        with timer(f"{name}: expand"):
            expander = expander or build_expander(method_cfg, context)
            expansions = expander.expand(split.queries)
        if [e.query_id for e in expansions] != [q.id for q in split.queries]:
            raise RuntimeError(f"method {name!r} returned expansions for other queries than it was given")
        save_expansions(stage_dir / f"expansions-{exp_key}.jsonl", expansions)
    else:
        log.info("%s: expansions reused from cache (%s)", name, exp_key)
    retriever = getattr(expander, "retriever", None) or context.retriever
    run_path = stage_dir / f"run-{run_key(exp_key, retriever.config, retriever.index_dir, k)}.trec"
    out_path = out_dir / ("runs" if main_ids is None else "runs_full") / f"{name}.trec"
    chunks = stream_method_run(retriever, expansions, k, run_path, out_path, tag=name,
                               reuse=reuse, searching=lambda: timer(f"{name}: retrieve"))
    lines = [json.dumps(expansion_record(e), ensure_ascii=False) for e in expansions]
    atomic_write_text(out_dir / "expansions" / f"{name}.jsonl", "\n".join(lines) + "\n")
    return chunks, expansions, expander


def write_main_run(out_dir: Path, name: str, main_ids: set[str]) -> None:
    """``runs/<name>.trec``: the main table's queries of ``runs_full/<name>.trec``, line for line (streamed)."""
    with RunFileWriter(out_dir / "runs" / f"{name}.trec", name, with_meta=False) as out, \
            (out_dir / "runs_full" / f"{name}.trec").open(encoding="utf-8") as whole:
        for qid, lines in itertools.groupby(whole, key=lambda line: line.split(" ", 1)[0]):
            if qid in main_ids:
                out.append_text("".join(lines), [qid])


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
