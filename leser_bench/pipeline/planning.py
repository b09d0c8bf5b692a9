"""What a run will do, decided before the index is built: which methods can run on this data set, and
which queries each table covers (the budget's stratified sample when a query-side LLM method runs)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from omegaconf import DictConfig

from leser_bench.data.records import Dataset
from leser_bench.errors import ConfigError
from leser_bench.evaluation.query_sets import QuerySets, query_sets
from leser_bench.methods import kind_of
from leser_bench.pipeline.validation import method_configs

log = logging.getLogger("leser_bench.pipeline")

#: paired tests, bootstrap CIs and the A/B simulation need at least this many evaluated queries.
MIN_PAIRED_QUERIES = 2


def too_few_for_tests(n_judged: int, n_methods: int = 2) -> str | None:
    """Why the run has no significance tests or A/B simulation (None: it has them): paired tests need
    two methods and at least MIN_PAIRED_QUERIES judged queries."""
    if n_methods < 2:
        return ("No significance tests or A/B simulation: one method ran, and they compare a method with "
                "the baseline (add one, e.g. `+method@methods.rm3=rm3`).")
    if n_judged < MIN_PAIRED_QUERIES:
        return (f"No significance tests or A/B simulation: the main table has {n_judged} judged "
                f"quer{'y' if n_judged == 1 else 'ies'}, and paired tests need at least {MIN_PAIRED_QUERIES}.")
    return None


def runnable_methods(cfg: DictConfig, dataset: Dataset) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The configured methods whose inputs the data set has, and one note per method left out.

    A method that trains, or draws few-shot examples, needs its split: when the data set lacks it
    (ESCI's micro sample has no train queries), the method is left out with a warning naming the
    split, before any index is built; the baseline can never be left out.
    """
    methods, skipped = {}, []
    for name, method_cfg in method_configs(cfg).items():
        extra_split = kind_of(method_cfg, name).extra_split
        needed = extra_split(method_cfg) if extra_split is not None else None
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
    if not any(kind_of(m, name).per_query_llm for name, m in methods.items()):
        size = None
    seed = budget.get("sample_seed")
    return query_sets(split, None if size is None else int(size), int(cfg.seed if seed is None else seed))
