"""One benchmark run: dataset -> index -> every method's expansions -> runs -> metrics -> report.

Everything a run produces lands in its run directory (``reports/<experiment>/<run-id>/``):
``runs/<method>.trec``, ``qrels.trec``, ``expansions/<method>.jsonl``, ``per_query.csv``,
``metrics.csv``, ``report.md``, ``report.html``, ``run_info.json`` and Hydra's ``.hydra/config.yaml``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
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
from leser_bench.methods import ConfigError, ConfigView, MethodContext, build_expander, check_method_settings
from leser_bench.report.build import write_reports
from leser_bench.report.markdown import ReportData
from leser_bench.stats import stats_config_from
from leser_bench.retrieval import IndexConfig, Retriever, RetrieverConfig, Run, build_index
from leser_bench.runs import stream_method_run
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
    stats_config_from(cfg.get("stats"))
    abtest_config_from(cfg.get("abtest"))
    if cfg.baseline not in method_configs(cfg):
        raise ConfigError(f"baseline={cfg.baseline!r} is not among the methods run: {list(method_configs(cfg))}")


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


class StageTimer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        log.info("stage %s ...", name)
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
            log.info("stage %s done in %.1f s", name, self.seconds[name])


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


def run_experiment(cfg: DictConfig, out_dir: Path) -> RunResult:
    validate(cfg)
    timer = StageTimer()
    out_dir.mkdir(parents=True, exist_ok=True)
    cache_dir = Path(cfg.cache_dir)
    with timer("load dataset"):
        dataset = load_dataset(OmegaConf.to_container(cfg.dataset, resolve=True))
        split = dataset.split(cfg.evaluation.split)
    ret_cfg, k = retriever_config(OmegaConf.to_container(cfg.retriever, resolve=True))
    measures, notes = resolve_all(list(cfg.evaluation.measures), dataset.gains, context_grade(dataset, cfg), k)
    with timer("build index"):
        index_dir = build_index(dataset.products, IndexConfig(threads=ret_cfg.threads), cache_dir)
    retriever = Retriever(index_dir, ret_cfg)
    context = MethodContext(dataset=dataset, retriever=retriever, cache_dir=cache_dir, seed=int(cfg.seed),
                            config=OmegaConf.to_container(cfg, resolve=True))
    write_qrels(split.qrels, out_dir / "qrels.trec")
    cov_cfg = CoverageConfig(k=min(int(cfg.evaluation.coverage.k), k), relevant_grade=context_grade(dataset, cfg),
                             facet=str(cfg.evaluation.coverage.facet))
    with timer("raw query run (coverage reference)"):
        raw_run = retriever.search([Expansion(query=q) for q in split.queries], k=cov_cfg.k)
    facets = {p.id: str(getattr(p, cov_cfg.facet, "") or "") for p in dataset.products}
    frames, expansion_frames, examples = [], [], {}
    evaluator = Evaluator(split.qrels, measures)  # the qrels are converted once for every method
    for name, method_cfg in method_configs(cfg).items():
        chunks, expansions, expander = _run_method(name, method_cfg, context, split, k, out_dir, timer)
        # search chunk -> runs/<name>.trec (and the cache) -> evaluate chunk: one chunk in memory at a time
        measured, covered = evaluate_chunks(chunks, evaluator, raw_run, split.qrels, facets, cov_cfg, name,
                                            scoring=lambda: timer(f"{name}: evaluate"))
        with timer(f"{name}: evaluate"):
            frames.append(measured)
            expansion_frames += [covered, rule_metrics(expansions, _rule_names(expansions), name),
                                 cost_metrics(expansions, name)]
        n_examples = int(cfg.report.examples_per_method)
        if hasattr(expander, "examples"):  # a document-side method shows what it added to products
            examples[name] = expander.examples(n_examples)
        else:
            examples[name] = [(e.query.text, shown_expansion(e)) for e in expansions[:n_examples]]
    per_query = pd.concat(frames, ignore_index=True)
    leaderboard = aggregate(per_query, [m.name for m in measures])
    expansion_per_query = pd.concat(expansion_frames, ignore_index=True)
    expansion_board = aggregate(expansion_per_query)
    atomic_write_text(out_dir / "per_query.csv", per_query.to_csv(index=False))
    atomic_write_text(out_dir / "per_query_expansion.csv", expansion_per_query.to_csv(index=False))
    atomic_write_text(out_dir / "metrics.csv", leaderboard.to_csv())
    atomic_write_text(out_dir / "expansion_metrics.csv", expansion_board.to_csv())
    notes = _measure_notes(dataset, measures, len(split.qrels)) + notes
    with timer("statistics and A/B simulation"):
        # writes stats.csv and abtest.csv, which the reports render
        analyze(out_dir, str(cfg.baseline), stats_config_from(cfg.get("stats")), abtest_config_from(cfg.get("abtest")))
    report = ReportData(
        title=f"leser_bench — {cfg.experiment_name}", dataset_summary=dataset.summary(),
        dataset_description=dataset.description or dataset.name, generated=dataset.generated,
        retriever=ret_cfg.describe() + f"; depth k={k}.", leaderboard=leaderboard, measure_notes=notes,
        examples=examples, stage_seconds=timer.seconds, config_yaml=OmegaConf.to_yaml(cfg, resolve=True),
        baseline=str(cfg.baseline), expansion_board=expansion_board,
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
                k: int, out_dir: Path, timer: StageTimer) -> tuple[Iterator[tuple[list[str], Run]], list[Expansion], Any]:
    """Expand, then search; each stage is reused from the cache when its inputs are unchanged.
    Returns the run as an iterator of (query ids, Run) chunks (searched, or read from the cached
    TREC run, as it is consumed; runs/<name>.trec is complete once it is exhausted), the expansions
    and the expander (None when the expansions came from the cache)."""
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
    chunks = stream_method_run(retriever, expansions, k, run_path, out_dir / "runs" / f"{name}.trec", tag=name,
                               reuse=reuse, searching=lambda: timer(f"{name}: retrieve"))
    lines = [json.dumps(expansion_record(e), ensure_ascii=False) for e in expansions]
    atomic_write_text(out_dir / "expansions" / f"{name}.jsonl", "\n".join(lines) + "\n")
    return chunks, expansions, expander


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
