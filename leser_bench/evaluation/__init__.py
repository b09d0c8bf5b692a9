"""Evaluation: ir-measures over (Run, qrels), plus the harness's own per-query measures."""

from leser_bench.evaluation.evaluator import PER_QUERY_COLUMNS, Evaluator, aggregate, evaluate, evaluate_many
from leser_bench.evaluation.measures import Measure, MeasureError, resolve, resolve_all

__all__ = ["PER_QUERY_COLUMNS", "Evaluator", "Measure", "MeasureError", "aggregate", "evaluate", "evaluate_many", "resolve", "resolve_all"]
