"""Typed records shared by every data source: queries, products, graded qrels, named splits.

A :class:`Dataset` is what every loader returns and every later stage consumes. Relevance labels
are kept as small integer *grades* (ESCI: E=3, S=2, C=1, I=0) because TREC qrels and ir-measures
work on integers; the *gain* each grade is worth (ESCI default E=1.0, S=0.1, C=0.01, I=0) lives in
:class:`GainMapping` and is handed to the graded measures.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from leser_bench.errors import UserError

#: ESCI label letter -> integer grade (higher is better).
ESCI_GRADES: dict[str, int] = {"E": 3, "S": 2, "C": 1, "I": 0}


class DataError(UserError, ValueError):
    """A data set is malformed. The message names the file, line or id at fault."""


#: characters an id cannot hold: TREC run and qrels files separate their columns by whitespace (of any
#: kind: readers split on Unicode whitespace such as NBSP too), and control characters end lines or fields.
UNWRITABLE_ID = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


def check_id(value: str, where: str, what: str) -> str:
    """``value`` unchanged when it can be written to a TREC file as one column; else a DataError naming
    ``where`` (file:line), ``what`` (query or product) and the id. Ids are never rewritten."""
    if not isinstance(value, str) or not value:
        raise DataError(f"{where}: empty {what} id")
    bad = UNWRITABLE_ID.search(value)
    if bad is not None:
        char = bad.group()
        raise DataError(f"{where}: {what} id {value!r} contains {unicodedata.name(char, 'a control character')} "
                        f"({char!r}); ids are written to TREC files, whose columns are separated by whitespace")
    return value


@dataclass(frozen=True, slots=True)
class Query:
    id: str
    text: str
    #: optional extras (intent type, product type, frequency …) a generator or loader knows.
    meta: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Product:
    id: str
    title: str
    description: str = ""
    bullets: str = ""
    brand: str = ""
    color: str = ""
    #: facet used by intent coverage (product type in the embedded world; may be empty).
    product_type: str = ""

    #: the text fields that are indexed, in order.
    TEXT_FIELDS = ("title", "description", "bullets", "brand", "color")

    def fields(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in self.TEXT_FIELDS}


@dataclass(frozen=True)
class GainMapping:
    """Maps each label letter to an integer grade and a gain (used by nDCG)."""

    grades: Mapping[str, int]
    gains: Mapping[str, float]

    @classmethod
    def esci(cls, gains: Mapping[str, float] | None = None) -> GainMapping:
        default = {"E": 1.0, "S": 0.1, "C": 0.01, "I": 0.0}
        return cls(grades=dict(ESCI_GRADES), gains=dict(gains or default))

    @classmethod
    def binary(cls) -> GainMapping:
        return cls(grades={"R": 1, "N": 0}, gains={"R": 1.0, "N": 0.0})

    def gain_of_grade(self) -> dict[int, float]:
        """Grade -> gain, the form ir-measures' ``nDCG(gains=…)`` takes."""
        return {self.grades[label]: float(self.gains[label]) for label in self.grades}

    def relevant_grade(self, configured: int | None = None) -> int:
        """The lowest grade that counts as relevant: ``configured`` (``evaluation.relevant_grade``) when
        set, else ESCI's Exact grade, else the highest grade. The one place this default is decided."""
        if configured is not None:
            return int(configured)
        return self.grades["E"] if "E" in self.grades else max(self.grades.values())

    def describe(self) -> str:
        parts = [f"{label}={self.gains[label]:g} (grade {self.grades[label]})" for label in self.grades]
        return ", ".join(parts)

    def __post_init__(self) -> None:
        missing = set(self.grades) ^ set(self.gains)
        if missing:
            raise DataError(f"gain mapping: labels {sorted(missing)} have a grade or a gain but not both")


#: qrels: query id -> product id -> integer grade.
Qrels = dict[str, dict[str, int]]


@dataclass
class Split:
    """A named subset of queries with their judgments."""

    name: str
    queries: list[Query]
    qrels: Qrels
    #: why a loader left this split empty (file and filters), said when the split is used.
    empty_reason: str = ""

    def __post_init__(self) -> None:
        ids = [q.id for q in self.queries]
        for qid in ids:
            if not qid or UNWRITABLE_ID.search(qid):
                check_id(qid, f"split {self.name!r}", "query")
        if len(ids) != len(set(ids)):
            dupes = sorted({i for i in ids if ids.count(i) > 1})[:5]
            raise DataError(f"split {self.name!r}: duplicate query ids {dupes}")


@dataclass
class Dataset:
    """Everything a run needs: a catalogue, named splits, and the label -> gain mapping."""

    name: str
    products: list[Product]
    splits: dict[str, Split]
    gains: GainMapping
    #: True for the embedded generated world; reports must say so.
    generated: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        for p in self.products:
            if not p.id or UNWRITABLE_ID.search(p.id):
                check_id(p.id, f"dataset {self.name!r}", "product")

    def split(self, name: str) -> Split:
        if name not in self.splits:
            raise DataError(f"dataset {self.name!r} has no split {name!r}; it has {sorted(self.splits)}")
        split = self.splits[name]
        if not split.queries:
            raise DataError(split.empty_reason or f"dataset {self.name!r}: split {name!r} is empty")
        return split

    def product_index(self) -> dict[str, Product]:
        return {p.id: p for p in self.products}

    def summary(self) -> dict[str, object]:
        return {
            "name": self.name,
            "generated": self.generated,
            "products": len(self.products),
            **{f"{s.name}_queries": len(s.queries) for s in self.splits.values()},
            **{f"{s.name}_judgments": sum(len(v) for v in s.qrels.values()) for s in self.splits.values()},
            "gains": self.gains.describe(),
        }


def check_unique_products(products: Iterable[Product], source: str) -> list[Product]:
    """Return the products as a list, failing on duplicate or empty ids (naming them)."""
    seen: set[str] = set()
    out: list[Product] = []
    for p in products:
        check_id(p.id, source, "product")
        if p.id in seen:
            raise DataError(f"{source}: duplicate product id {p.id!r}")
        seen.add(p.id)
        out.append(p)
    return out


def check_qrels(qrels: Qrels, queries: Iterable[Query], product_ids: set[str], source: str) -> None:
    """Fail if qrels name queries or products that do not exist."""
    query_ids = {q.id for q in queries}
    for qid, docs in qrels.items():
        if qid not in query_ids:
            raise DataError(f"{source}: qrels name unknown query id {qid!r}")
        for pid in docs:
            if pid not in product_ids:
                raise DataError(f"{source}: qrels for query {qid!r} name unknown product id {pid!r}")
