"""Measures named as ir-measures names them, resolved against a data set's grades and gains.

A config lists plain names (``nDCG@10``, ``R@100``). For graded data the plain names are made
precise here, once, and the same objects serve evaluation and LESER's reward:

- ``nDCG`` gets the data set's gains (ESCI: E=1.0, S=0.1, C=0.01, I=0). pytrec_eval only takes
  integer gains, and nDCG is invariant to scaling all gains by one constant, so the gains are
  scaled by the smallest power of ten that makes them integers;
- binary measures (R, P, RR, AP, Success, …) count a product as relevant when its grade is at
  least ``relevant_grade`` (ESCI default 3: only Exact matches are "the right products").

A name that already carries these parameters is left as written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ir_measures

from leser_bench.errors import UserError
from leser_bench.data.records import GainMapping

_MAX_SCALE_DIGITS = 6


class MeasureError(UserError, ValueError):
    pass


@dataclass(frozen=True)
class Measure:
    #: the name as configured and shown in reports, e.g. "nDCG@10".
    name: str
    #: the ir-measures measure object actually computed.
    measure: Any

    @property
    def cutoff(self) -> int | None:
        return self.measure.params.get("cutoff")


def integer_gains(gains: dict[int, float]) -> dict[int, int]:
    """Scale gains by the smallest power of ten (<= 10^6) that makes all of them integers."""
    for digits in range(_MAX_SCALE_DIGITS + 1):
        scale = 10**digits
        scaled = {g: v * scale for g, v in gains.items()}
        if all(abs(v - round(v)) < 1e-6 for v in scaled.values()):
            return {g: int(round(v)) for g, v in scaled.items()}
    raise MeasureError(f"gains {gains} cannot be scaled to integers with up to {_MAX_SCALE_DIGITS} decimals")


def parse(name: str) -> Any:
    try:
        return ir_measures.parse_measure(name)
    except (ValueError, NameError, SyntaxError, KeyError, TypeError) as exc:
        known = sorted(ir_measures.measures.registry)
        raise MeasureError(f"unknown measure {name!r} ({exc}); known measure families: {', '.join(known)}") from None


def resolve(name: str, gains: GainMapping, relevant_grade: int) -> Measure:
    measure = parse(name)
    supported = measure.SUPPORTED_PARAMS
    extra: dict[str, Any] = {}
    gain_of_grade = gains.gain_of_grade()
    identity_gains = all(float(g) == v for g, v in gain_of_grade.items())
    if "gains" in supported and measure.params.get("gains") is None and not identity_gains:
        extra["gains"] = integer_gains(gain_of_grade)
    if "rel" in supported and "rel" not in measure.params:
        extra["rel"] = relevant_grade
    return Measure(name=name, measure=measure(**extra) if extra else measure)


def resolve_all(names: Sequence[str], gains: GainMapping, relevant_grade: int, k: int) -> tuple[list[Measure], list[str]]:
    """The measures to compute, and notes on any dropped because their cutoff exceeds ``k``."""
    if not names:
        raise MeasureError("evaluation.measures is empty")
    measures, notes = [], []
    for name in names:
        m = resolve(name, gains, relevant_grade)
        if m.cutoff is not None and m.cutoff > k:
            notes.append(f"{name} skipped: its cutoff exceeds the retrieval depth k={k}")
            continue
        measures.append(m)
    if not measures:
        raise MeasureError(f"evaluation.measures: every measure's cutoff exceeds the retrieval depth "
                           f"retriever.k={k} ({', '.join(names)}); raise retriever.k or add a shallower measure")
    return measures, notes
