"""The errors that mean "the user's input or environment is wrong": reported in one line, no traceback."""

from __future__ import annotations

from leser_bench.data.records import DataError
from leser_bench.evaluation.measures import MeasureError
from leser_bench.methods import ConfigError
from leser_bench.retrieval.java import JavaNotFound

USER_ERRORS: tuple[type[BaseException], ...] = (DataError, MeasureError, ConfigError, JavaNotFound, FileNotFoundError)
