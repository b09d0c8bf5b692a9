"""Evaluation: ir-measures over (Run, qrels), plus the harness's own per-query measures."""

from leser_bench.evaluation.evaluator import PER_QUERY_COLUMNS, aggregate, evaluate
from leser_bench.evaluation.measures import Measure, MeasureError, resolve, resolve_all

__all__ = ["PER_QUERY_COLUMNS", "Measure", "MeasureError", "aggregate", "evaluate", "resolve", "resolve_all"]
