"""Runs on disk, streamed: TREC run files written chunk by chunk and read back chunk by chunk.

A run of 9k queries x k=1000 is 9M (query, product) pairs: gigabytes as Python dicts. So a method's
run goes to disk as it is searched, in :mod:`leser_bench.io.trec`'s format (``qid Q0 docid rank score
tag``, queries in the order appended, products ranked by score then id), and everything downstream
reads it back a chunk of queries at a time.

A cached run file is trusted only with its sidecar ``<file>.meta.json``, written after the file is
renamed into place: it records the schema, the number of queries (with and without results), a
hash of their ids and the file's size and SHA-256. A damaged, truncated or foreign file -- or one
without its sidecar, e.g. after a kill between the two renames -- fails :func:`run_file_valid` and
is rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from leser_bench.io.cache import (
    atomic_write_json,
    content_hash,
    file_sha256,
    read_json,
    remove_stale_temporaries,
    temporary_prefix,
)
from leser_bench.errors import UserError
from leser_bench.expansion import Expansion
from leser_bench.retrieval.retriever import Retriever, Run
from leser_bench.io.trec import ranked, run_entries

log = logging.getLogger(__name__)

RUN_SCHEMA = "trec-run-v1"


def meta_path(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


def format_chunk(run: Run, tag: str, order: Iterable[str] | None = None) -> str:
    """TREC lines of ``run`` (queries in ``order``, default sorted; as :func:`leser_bench.io.trec.format_run`)."""
    lines = []
    for qid in (order if order is not None else sorted(run)):
        for rank, (docid, score) in enumerate(ranked(run.get(qid, {})), start=1):
            lines.append(f"{qid} Q0 {docid} {rank} {float(score)!r} {tag}\n")
    return "".join(lines)


class RunFileWriter:
    """Append chunks of a run to a temporary file; :meth:`commit` renames it to ``path`` and writes
    the sidecar. Used as a context manager, a writer that is not committed leaves nothing behind."""

    def __init__(self, path: Path, tag: str, with_meta: bool = True) -> None:
        self.path, self.tag, self.with_meta = Path(path), tag, with_meta
        self.path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(self.path)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=temporary_prefix(self.path), suffix=".tmp")
        self._tmp = Path(tmp)
        self._handle = os.fdopen(fd, "wb")
        self._digest = hashlib.sha256()
        self._bytes = 0
        self._query_ids: list[str] = []

    def append(self, run: Run, order: Sequence[str] | None = None) -> None:
        """Write ``run``'s queries (all of ``order`` if given, those without results count too)."""
        order = list(order) if order is not None else sorted(run)
        self.append_text(format_chunk(run, self.tag, order), order)

    def append_text(self, text: str, query_ids: Sequence[str]) -> None:
        data = text.encode("utf-8")
        self._handle.write(data)
        self._digest.update(data)
        self._bytes += len(data)
        self._query_ids.extend(query_ids)

    def commit(self) -> None:
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        os.chmod(self._tmp, 0o644)
        meta = meta_path(self.path)
        meta.unlink(missing_ok=True)  # the old sidecar must not vouch for the new file
        os.replace(self._tmp, self.path)
        if self.with_meta:
            atomic_write_json(meta, {"schema": RUN_SCHEMA, "queries": len(self._query_ids),
                                     "query_ids": content_hash(self._query_ids), "bytes": self._bytes,
                                     "sha256": self._digest.hexdigest(), "tag": self.tag})

    def abort(self) -> None:
        if not self._handle.closed:
            self._handle.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> RunFileWriter:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None and not self._handle.closed:
            self.commit()
        else:
            self.abort()


def run_file_valid(path: Path, query_ids: Sequence[str]) -> bool:
    """True if ``path`` was committed by :class:`RunFileWriter` for exactly ``query_ids`` (in that
    order) and is unchanged since: size and SHA-256 match its sidecar."""
    meta = read_json(meta_path(path))
    if not isinstance(meta, dict) or meta.get("schema") != RUN_SCHEMA:
        return False
    if meta.get("queries") != len(query_ids) or meta.get("query_ids") != content_hash(list(query_ids)):
        return False
    try:
        if path.stat().st_size != meta.get("bytes"):
            return False
        return file_sha256(path) == meta.get("sha256")
    except OSError:
        return False


def _query_groups(path: Path) -> Iterator[tuple[str, dict[str, float]]]:
    """(query id, {docid: score}) per query, in file order; a query's lines must be contiguous."""
    seen: set[str] = set()
    current: str | None = None
    docs: dict[str, float] = {}
    for number, qid, docid, score in run_entries(path):
        if qid != current:
            if current is not None:
                yield current, docs
            if qid in seen:
                raise ValueError(f"{path}:{number}: query {qid!r} appears again after other queries; "
                                 "a streamed run needs each query's lines together")
            seen.add(qid)
            current, docs = qid, {}
        docs[docid] = score
    if current is not None:
        yield current, docs


def read_run_chunks(path: Path, chunk_size: int = 1000, query_ids: Sequence[str] | None = None) -> Iterator[Run]:
    """A TREC run read back ``chunk_size`` queries at a time.

    Without ``query_ids``: chunks of up to ``chunk_size`` queries as they appear in the file. With
    them (the file's query order, e.g. the order the run was written in): one Run per slice of
    ``chunk_size`` ids holding every id of the slice (``{}`` for a query without results); a
    query in the file that is not where ``query_ids`` says raises ValueError.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    groups = _query_groups(Path(path))
    if query_ids is None:
        chunk: Run = {}
        for qid, docs in groups:
            chunk[qid] = docs
            if len(chunk) >= chunk_size:
                yield chunk
                chunk = {}
        if chunk:
            yield chunk
        return
    pending = next(groups, None)
    for start in range(0, len(query_ids), chunk_size):
        ids = query_ids[start : start + chunk_size]
        chunk = {}
        for qid in ids:
            if pending is not None and pending[0] == qid:
                chunk[qid] = pending[1]
                pending = next(groups, None)
            else:
                chunk[qid] = {}
        yield chunk
    if pending is not None:
        raise ValueError(f"{path}: query {pending[0]!r} is not among the expected queries (or out of order)")


def stream_method_run(retriever: Retriever, expansions: Sequence[Expansion], k: int, cache_path: Path,
                      out_path: Path, tag: str, reuse: bool = True,
                      searching: Callable[[], AbstractContextManager[object]] = nullcontext,
                      ) -> Iterator[tuple[list[str], Run]]:
    """(query ids, Run) per chunk of a method's run, queries in sorted id order.

    The run comes from ``cache_path`` when that file is valid for these queries (and ``reuse``),
    else it is searched chunk by chunk (each search inside ``searching()``, e.g. a stage timer)
    and appended to a new cache file. Either way it is written to ``out_path`` with ``tag``; both
    files are complete only once the iterator is exhausted (a run stopped half-way leaves neither).
    Sorted order makes the file byte-identical to :func:`leser_bench.io.trec.write_run` of the whole run.
    """
    ordered = sorted(expansions, key=lambda e: e.query_id)
    ids = [e.query_id for e in ordered]
    size = retriever.config.chunk_size
    with RunFileWriter(out_path, tag, with_meta=False) as out:
        valid = reuse and run_file_valid(cache_path, ids)
        if reuse and not valid and cache_path.is_file():
            log.warning("cached run %s does not match its checksum or queries: searching again", cache_path)
        if valid:
            for start, chunk in zip(range(0, len(ids), size), read_run_chunks(cache_path, size, ids), strict=True):
                chunk_ids = ids[start : start + size]
                out.append(chunk, chunk_ids)
                yield chunk_ids, chunk
            return
        with RunFileWriter(cache_path, tag) as cache:
            chunks = retriever.search_chunks(ordered, k)
            for start in range(0, len(ids), size):
                with searching():
                    chunk = next(chunks)
                chunk_ids = ids[start : start + size]
                text = format_chunk(chunk, tag, chunk_ids)
                cache.append_text(text, chunk_ids)
                out.append_text(text, chunk_ids)
                yield chunk_ids, chunk


def external_run_chunks(path: Path, expansions: Sequence[Expansion], k: int, out_path: Path, tag: str,
                        chunk_size: int) -> Iterator[tuple[list[str], Run]]:
    """(query ids, Run) per chunk of an existing TREC run, for the queries of ``expansions`` in sorted id
    order, each cut to its top ``k``; written to ``out_path`` with ``tag`` as it is consumed. The whole
    file is read once (its queries may be in any order, and hold other splits' queries, which are left out)."""
    from leser_bench.io.trec import read_run  # noqa: PLC0415

    run = read_run(path)
    ids = sorted(e.query_id for e in expansions)
    check_covers(path, run, ids, tag)
    with RunFileWriter(out_path, tag, with_meta=False) as out:
        for start in range(0, len(ids), chunk_size):
            chunk_ids = ids[start : start + chunk_size]
            chunk = {qid: top_k(run.get(qid, {}), k) for qid in chunk_ids}
            out.append(chunk, chunk_ids)
            yield chunk_ids, chunk


def top_k(docs: dict[str, float], k: int) -> dict[str, float]:
    """A query's ``k`` best results (ties broken by product id, as every run file of ours ranks them)."""
    return dict(ranked(docs)[:k])


def check_covers(path: Path, run: Collection[str], ids: Sequence[str], tag: str) -> None:
    """An external run must answer some of the evaluated queries ``ids`` (a UserError if none: a run of
    another data set or split); each one it does not answer scores 0, with a warning."""
    absent = [qid for qid in ids if qid not in run]
    if len(absent) == len(ids):
        raise UserError(f"{path}: holds none of the {len(ids)} evaluated query ids (e.g. {list(ids[:3])}); "
                        "is it a run of this data set and split?")
    if absent:
        log.warning("%s: %d of %d evaluated queries have no results in %s (they score 0)", tag, len(absent),
                    len(ids), path)


def read_external_run(path: Path, evaluated: Sequence[str], known: Collection[str], k: int, tag: str) -> Run:
    """An external TREC run scored beside a finished run (``analyze --run``), each query cut to its top ``k``.
    Read whole, before any work: every line checked (:func:`leser_bench.io.trec.run_entries`, naming
    file:line), some ``evaluated`` query answered (:func:`check_covers`), and every query id one of the
    run's (``known``): another split's query here is a mistake, named with the line it first appears on."""
    run: Run = {}
    first_line: dict[str, int] = {}
    try:
        for number, qid, docid, score in run_entries(path):
            run.setdefault(qid, {})[docid] = score
            first_line.setdefault(qid, number)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if not run:
        raise UserError(f"{path}: no results (an empty run file)")
    check_covers(path, run, evaluated, tag)
    unknown = sorted((qid for qid in run if qid not in known), key=first_line.__getitem__)
    if unknown:
        raise UserError(f"{path}:{first_line[unknown[0]]}: query id {unknown[0]!r} is not a query of this run "
                        f"({len(unknown)} unknown query ids, e.g. {unknown[:5]}); is it a run of this data set and "
                        "split?")
    return {qid: top_k(docs, k) for qid, docs in run.items()}
