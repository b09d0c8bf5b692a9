"""Judgments that would make every binary measure silently 0, refused once the data is loaded (before the
index is built): ``evaluation.relevant_grade`` above the highest grade the evaluated split holds, and
qrels whose grades are all 0 (nothing is relevant: every measure would be 0 for every method)."""

from __future__ import annotations

from collections.abc import Mapping

from leser_bench.errors import ConfigError, UserError


def split_grades(qrels: Mapping[str, Mapping[str, int]]) -> list[int]:
    return sorted({int(g) for docs in qrels.values() for g in docs.values()})


def check_judgments(qrels: Mapping[str, Mapping[str, int]], configured: int | None, split: str) -> None:
    """Raise a UserError naming the key and the data's grades when the judgments cannot rank anything."""
    grades = split_grades(qrels)
    if not grades:
        return  # an empty split is reported by the planning step
    if max(grades) <= 0:
        raise UserError(f"the judgments of split {split!r} hold only grade(s) {grades}: nothing is relevant, "
                        "every measure would be 0 for every method")
    if configured is not None and int(configured) > max(grades):
        raise ConfigError(f"evaluation.relevant_grade={int(configured)} is above every grade the judgments of "
                          f"split {split!r} hold ({grades}): R, P and RR would be 0; use one of {grades[1:] or grades}")
