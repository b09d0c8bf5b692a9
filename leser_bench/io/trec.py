"""TREC run and qrels files: the standard exchange format (trec_eval, ir-measures, ranx)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from leser_bench.io.cache import atomic_write_text
from leser_bench.data.records import Qrels
from leser_bench.retrieval.retriever import Run


def ranked(docs: dict[str, float]) -> list[tuple[str, float]]:
    """Documents by descending score, ties broken by product id (deterministic)."""
    return sorted(docs.items(), key=lambda kv: (-kv[1], kv[0]))


def format_run(run: Run, tag: str) -> str:
    lines = []
    for qid in sorted(run):
        for rank, (docid, score) in enumerate(ranked(run[qid]), start=1):
            lines.append(f"{qid} Q0 {docid} {rank} {float(score)!r} {tag}")
    return "\n".join(lines) + ("\n" if lines else "")


def write_run(run: Run, path: Path, tag: str) -> None:
    atomic_write_text(path, format_run(run, tag))


def write_qrels(qrels: Qrels, path: Path) -> None:
    lines = [f"{qid} 0 {pid} {grade}" for qid in sorted(qrels) for pid, grade in sorted(qrels[qid].items())]
    atomic_write_text(path, "\n".join(lines) + "\n")


def _rows(path: Path, layout: str, field: int, parse: type) -> Iterator[tuple[int, list[str], Any]]:
    """(line number, columns, ``parse(columns[field])``) of every non-blank line with the columns of
    ``layout``; a bad line is a ValueError naming file, line and field."""
    width = len(layout.split())
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != width:
                raise ValueError(f"{path}:{number}: expected {width} columns ({layout}), got {len(parts)}")
            try:
                value = parse(parts[field])
            except ValueError:
                raise ValueError(f"{path}:{number}: field {field + 1} {parts[field]!r} is not "
                                 f"{'a number (the score)' if parse is float else 'an integer grade'}") from None
            yield number, parts, value


def run_entries(path: Path) -> Iterator[tuple[int, str, str, float]]:
    """(line number, query id, doc id, score) of every line of a 6-column TREC run; a bad line is a
    ValueError naming file and line. The one TREC run reader: ir-measures' reader says neither file nor
    line on a bad line, and builds an object per line that a k=1000 run at ESCI size does not need."""
    for number, parts, score in _rows(path, "qid Q0 docid rank score tag", 4, float):
        yield number, parts[0], parts[2], score


def read_run(path: Path) -> Run:
    """Read a TREC run written by :func:`write_run` (or any 6-column TREC run)."""
    run: Run = {}
    for _, qid, docid, score in run_entries(path):
        run.setdefault(qid, {})[docid] = score
    return run


def read_qrels(path: Path) -> Qrels:
    """A 4-column TREC qrels file (``qid iter docid grade``); a bad line is a ValueError naming file and line."""
    qrels: Qrels = {}
    for _, parts, grade in _rows(path, "qid iter docid grade", 3, int):
        qrels.setdefault(parts[0], {})[parts[2]] = grade
    return qrels
