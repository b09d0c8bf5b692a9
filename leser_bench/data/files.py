"""Generic files loader: queries (TSV, JSONL or TREC topics), a catalogue (JSONL, CSV, parquet or
TREC documents) and TREC qrels, as one split or one query/qrels pair per split.

Integer grades map to gains through ``FilesConfig.gains``; the :class:`GainMapping` built from it
uses the string of each grade as its label (e.g. ``{"0": 0.0, "1": 1.0}``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from leser_bench.data.files_catalogue import read_catalogue
from leser_bench.data.records import DataError, Dataset, GainMapping, Qrels, Query, Split, check_id, check_qrels
from leser_bench.data.source import DataSource
from leser_bench.data.textio import first_char, jsonl_objects, plain_text, read_lines, tag_value, tagged_blocks

log = logging.getLogger(__name__)

QUERY_FORMATS = ("tsv", "jsonl", "trec")
_QUERY_SUFFIXES = {".tsv": "tsv", ".txt": "tsv", ".jsonl": "jsonl", ".json": "jsonl", ".trec": "trec", ".xml": "trec"}


@dataclass
class SplitFiles:
    queries: str
    qrels: str


@dataclass
class FilesConfig:
    """Where the files are and how to read them. Relative paths are taken from ``root``."""

    name: str = "files"
    root: str = "."
    catalogue: str = "catalogue.jsonl"
    #: auto (from the suffix, else sniffed), jsonl, csv, parquet or trec.
    catalogue_format: str = "auto"
    id_field: str = "id"
    #: Product field (title, description, bullets, brand, color, product_type) -> source column.
    fields: Mapping[str, str] = field(default_factory=lambda: {"title": "title"})
    #: Product field that receives the text of a TREC <DOC>. "description" keeps the title field
    #: empty, so a title-boosted index scores such collections like plain BM25 on the text.
    trec_text_field: str = "description"
    #: one split: these two files and this name ...
    queries: str | None = None
    qrels: str | None = None
    split: str = "test"
    #: ... or one query/qrels pair per split name (then ``queries``/``qrels`` must be unset).
    splits: Mapping[str, SplitFiles | Mapping[str, str]] | None = None
    #: auto (from the suffix, else sniffed), tsv (``id<TAB>text``), jsonl or trec (``<top>`` topics).
    queries_format: str = "auto"
    query_id_field: str = "id"
    query_text_field: str = "text"
    #: TREC topics: the tag whose text is the query (title, desc …).
    topic_field: str = "title"
    #: integer grade -> gain (grades absent from the mapping are errors).
    gains: Mapping[int, float] = field(default_factory=lambda: {0: 0.0, 1: 1.0})
    #: drop (and count, with a warning) judgments naming unknown queries or products.
    drop_unknown_qrels: bool = False
    description: str = ""


def load_files(config: FilesConfig) -> Dataset:
    """Load a :class:`Dataset` from the files named in ``config``."""
    gains = gain_mapping(config.gains)
    root = Path(config.root).expanduser()
    catalogue_path = root / config.catalogue
    products = read_catalogue(
        catalogue_path, config.catalogue_format, config.id_field, config.fields, config.trec_text_field
    )
    product_ids = {p.id for p in products}
    splits: dict[str, Split] = {}
    for name, pair in _split_files(config).items():
        queries_path, qrels_path = root / pair.queries, root / pair.qrels
        queries = read_queries(queries_path, config)
        qrels = read_qrels(qrels_path, {int(g) for g in config.gains})
        splits[name] = split_from(name, queries, qrels, str(qrels_path), product_ids, config.drop_unknown_qrels)
    return Dataset(
        name=config.name,
        products=products,
        splits=splits,
        gains=gains,
        generated=False,
        description=config.description or f"files under {root} (catalogue {config.catalogue})",
    )


def split_from(name: str, queries: list[Query], qrels: Qrels, qrels_source: str, product_ids: set[str],
               drop_unknown: bool) -> Split:
    """A split of checked queries and qrels: judgments naming unknown queries or products are an error
    naming them (or, with ``drop_unknown``, dropped and counted); unjudged queries are counted in the log."""
    qrels = _check_known(qrels, qrels_source, {q.id for q in queries}, product_ids, drop_unknown)
    check_qrels(qrels, queries, product_ids, qrels_source)
    unjudged = sum(1 for q in queries if q.id not in qrels)
    if unjudged:
        log.info("%s: %d of %d queries have no judgments", qrels_source, unjudged, len(queries))
    return Split(name=name, queries=queries, qrels=qrels)


def gain_mapping(gains: Mapping[int, float]) -> GainMapping:
    """GainMapping for integer grades: label = str(grade)."""
    if not gains:
        raise DataError("gains: the grade -> gain mapping is empty")
    try:
        grades = {str(int(g)): int(g) for g in gains}
    except (TypeError, ValueError):
        raise DataError(f"gains: grades must be integers, got {sorted(map(str, gains))}") from None
    return GainMapping(grades=grades, gains={str(int(g)): float(v) for g, v in gains.items()})


def _split_files(config: FilesConfig) -> dict[str, SplitFiles]:
    if config.splits:
        if config.queries or config.qrels:
            raise DataError("files config: set either queries/qrels (one split) or splits, not both")
        out = {}
        for name, pair in config.splits.items():
            if isinstance(pair, SplitFiles):
                out[str(name)] = pair
            elif isinstance(pair, Mapping) and {"queries", "qrels"} <= set(pair):
                out[str(name)] = SplitFiles(queries=str(pair["queries"]), qrels=str(pair["qrels"]))
            else:
                raise DataError(f"files config: split {name!r} needs 'queries' and 'qrels' paths, got {pair!r}")
        return out
    if not config.queries or not config.qrels:
        raise DataError("files config: set queries and qrels (or splits: {name: {queries, qrels}})")
    return {config.split: SplitFiles(queries=config.queries, qrels=config.qrels)}


def read_queries(path: Path, config: FilesConfig) -> list[Query]:
    """Queries from a TSV, JSONL or TREC topics file; ids unique, texts non-empty."""
    fmt = config.queries_format
    if fmt == "auto":
        fmt = _QUERY_SUFFIXES.get(path.suffix.lower()) or {"<": "trec", "{": "jsonl"}.get(first_char(path), "tsv")
    if fmt not in QUERY_FORMATS:
        raise DataError(f"{path}: unknown queries format {fmt!r}; use one of {QUERY_FORMATS} or 'auto'")
    reader = {"tsv": _tsv_queries, "jsonl": _jsonl_queries, "trec": _trec_queries}[fmt]
    return queries_from(reader(path, config), str(path))


def queries_from(rows: Iterable[tuple[str, str, str]], source: str) -> list[Query]:
    """Queries of (where, id, text) rows (any reader's): ids non-empty, unique and writable to TREC files,
    texts with their whitespace collapsed and non-empty."""
    queries: list[Query] = []
    seen: dict[str, str] = {}
    for where, qid, text in rows:
        if not qid.strip():
            raise DataError(f"{where}: empty query id")
        check_id(qid, where, "query")
        if qid in seen:
            raise DataError(f"{where}: duplicate query id {qid!r} (first at {seen[qid]})")
        seen[qid] = where
        text = " ".join(text.split())
        if not text:
            raise DataError(f"{where}: query {qid!r} has an empty text")
        queries.append(Query(id=qid, text=text))
    if not queries:
        raise DataError(f"{source}: no queries")
    return queries


def _tsv_queries(path: Path, config: FilesConfig):  # noqa: ANN202, ARG001
    for number, line in read_lines(path):
        if not line.strip():
            continue
        if "\t" not in line:
            raise DataError(f"{path}:{number}: expected 'id<TAB>text', found no tab")
        qid, text = line.split("\t", 1)
        yield f"{path}:{number}", qid, text


def _jsonl_queries(path: Path, config: FilesConfig):  # noqa: ANN202
    id_key, text_key = config.query_id_field, config.query_text_field
    for where, row in jsonl_objects(path, (id_key, text_key)):
        qid, text = row[id_key], row[text_key]
        if isinstance(qid, bool) or not isinstance(qid, str | int):
            raise DataError(f"{where}: field {id_key!r} must be a string or an integer, not {qid!r}")
        if text is not None and not isinstance(text, str):
            raise DataError(f"{where}: query {qid!r}: field {text_key!r} is not a string")
        yield where, str(qid), text or ""


_NUMBER_PREFIX = re.compile(r"^\s*Number:\s*", re.IGNORECASE)


def _trec_queries(path: Path, config: FilesConfig):  # noqa: ANN202
    for block in tagged_blocks(path, "top"):
        where = f"{path}:{block.line}"
        num = tag_value(block.body, "num")
        if num is None:
            raise DataError(f"{where}: <top> without <num>")
        # the id exactly as written, less the format's layout: surrounding whitespace and "Number:"
        qid = _NUMBER_PREFIX.sub("", num).strip()
        text = tag_value(block.body, config.topic_field)
        if text is None:
            raise DataError(f"{where}: topic {qid!r} has no <{config.topic_field}>")
        yield where, qid, plain_text(text)


def read_qrels(path: Path, grades: set[int]) -> Qrels:
    """TREC qrels (``qid iter docid grade``); every grade must be one of ``grades``."""

    def rows() -> Iterator[tuple[str, str, str, object]]:
        for number, line in read_lines(path):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 4:
                raise DataError(f"{path}:{number}: expected 4 columns 'qid iter docid grade', found {len(parts)}")
            yield f"{path}:{number}", parts[0], parts[2], parts[3]

    return qrels_from(rows(), grades, str(path))


def qrels_from(rows: Iterable[tuple[str, str, str, object]], grades: set[int], source: str) -> Qrels:
    """Qrels of (where, query id, product id, grade) rows (any reader's): every grade an integer (or the
    text of one) among ``grades``; a pair judged twice must have one grade."""
    qrels: Qrels = {}
    for where, qid, pid, raw_grade in rows:
        if isinstance(raw_grade, bool) or not isinstance(raw_grade, int | str):
            raise DataError(f"{where}: grade {raw_grade!r} is not an integer")
        try:
            grade = int(raw_grade)
        except ValueError:
            raise DataError(f"{where}: grade {raw_grade!r} is not an integer") from None
        if grade not in grades:
            raise DataError(f"{where}: grade {grade} is not in the gains mapping (grades {sorted(grades)})")
        docs = qrels.setdefault(qid, {})
        if docs.get(pid, grade) != grade:
            raise DataError(f"{where}: query {qid!r} judges {pid!r} again with another grade ({docs[pid]} then {grade})")
        docs[pid] = grade
    if not qrels:
        raise DataError(f"{source}: no judgments")
    return qrels


def _check_known(qrels: Qrels, path: str, query_ids: set[str], product_ids: set[str], drop: bool) -> Qrels:
    """Judgments naming unknown queries/products: an error naming them, or dropped and counted."""
    bad_queries = sorted(q for q in qrels if q not in query_ids)
    bad_pairs = [(q, p) for q, docs in qrels.items() if q in query_ids for p in docs if p not in product_ids]
    if not bad_queries and not bad_pairs:
        return qrels
    n_query_judgments = sum(len(qrels[q]) for q in bad_queries)
    if not drop:
        parts = []
        if bad_queries:
            parts.append(f"{n_query_judgments} judgments name {len(bad_queries)} unknown query ids {bad_queries[:10]}")
        if bad_pairs:
            products = sorted({p for _, p in bad_pairs})
            parts.append(f"{len(bad_pairs)} judgments name {len(products)} unknown product ids {products[:10]}")
        raise DataError(f"{path}: {'; '.join(parts)} (set drop_unknown_qrels=true to drop them)")
    kept: Qrels = {}
    for qid, docs in qrels.items():
        if qid in query_ids:
            known = {p: g for p, g in docs.items() if p in product_ids}
            if known:
                kept[qid] = known
    n_dropped = n_query_judgments + len(bad_pairs)
    if not kept:
        raise DataError(f"{path}: all {n_dropped} judgments name unknown query or product ids; none is left")
    log.warning(
        "%s: dropped %d judgments naming unknown ids (%d for %d unknown queries, %d for unknown products)",
        path, n_dropped, n_query_judgments, len(bad_queries), len(bad_pairs),
    )  # fmt: skip
    return kept


#: ``dataset.source: files``.
FILES = DataSource("files", FilesConfig, load_files)
