"""Catalogue readers for the generic files loader: JSONL, CSV, parquet and TREC ``<DOC>`` files.

Each reader maps source columns onto :class:`Product` fields (``fields``: Product field -> source
column) and reports errors with the file and the line (or row) at fault.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from leser_bench.data.parquetio import read_parquet
from leser_bench.data.records import DataError, Product, check_id
from leser_bench.data.textio import first_char, jsonl_objects, plain_text, read_lines, tagged_blocks

#: Product fields a catalogue column may fill.
PRODUCT_FIELDS = ("title", "description", "bullets", "brand", "color", "product_type")
CATALOGUE_FORMATS = ("jsonl", "csv", "parquet", "trec")
_SUFFIX_FORMATS = {
    ".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv",
    ".parquet": "parquet", ".pq": "parquet", ".trec": "trec", ".sgml": "trec", ".xml": "trec",
}  # fmt: skip

#: one raw record: (where, e.g. "file:12" or "file row 3", id value, Product field -> raw value).
RawRecord = tuple[str, object, dict[str, object]]


def catalogue_format(path: Path, declared: str) -> str:
    if declared != "auto":
        if declared not in CATALOGUE_FORMATS:
            raise DataError(f"{path}: unknown catalogue format {declared!r}; use one of {CATALOGUE_FORMATS} or 'auto'")
        return declared
    if path.suffix.lower() in _SUFFIX_FORMATS:
        return _SUFFIX_FORMATS[path.suffix.lower()]
    sniff = {"<": "trec", "{": "jsonl"}.get(first_char(path))
    if sniff is None:
        raise DataError(f"{path}: cannot tell the catalogue format from the name; set catalogue_format")
    return sniff


def check_fields(fields: Mapping[str, str]) -> None:
    """The keys of a ``fields`` mapping are Product fields."""
    unknown = [name for name in fields if name not in PRODUCT_FIELDS]
    if unknown:
        raise DataError(f"catalogue fields {unknown} are not Product fields; use some of {PRODUCT_FIELDS}")


def read_catalogue(
    path: Path, fmt: str, id_field: str, fields: Mapping[str, str], trec_text_field: str
) -> list[Product]:
    """Read every product of a catalogue file, failing on bad rows, missing fields and duplicate ids."""
    check_fields(fields)
    if trec_text_field not in PRODUCT_FIELDS:
        raise DataError(f"trec_text_field {trec_text_field!r} is not a Product field; use one of {PRODUCT_FIELDS}")
    fmt = catalogue_format(path, fmt)
    if fmt == "trec":
        records: Iterator[RawRecord] = _trec_records(path, trec_text_field)
    elif fmt == "jsonl":
        records = _jsonl_records(path, id_field, fields)
    elif fmt == "csv":
        records = _csv_records(path, id_field, fields)
    else:
        records = _parquet_records(path, id_field, fields)
    return products_from(records, id_field, str(path))


def products_from(records: Iterable[RawRecord], id_field: str, source: str) -> list[Product]:
    """Products of raw records (any reader's): ids kept exactly as written and checked (non-empty, unique,
    writable to TREC files), field values made plain text (tags stripped, lists joined by newlines)."""
    products: list[Product] = []
    seen: dict[str, str] = {}
    for where, raw_id, values in records:
        if isinstance(raw_id, bool | list | tuple | dict):
            raise DataError(f"{where}: product id (field {id_field!r}) must be text or a number, not {raw_id!r}")
        pid = _id_text(raw_id)
        if not pid.strip():
            raise DataError(f"{where}: empty product id (field {id_field!r})")
        check_id(pid, where, "product")
        if pid in seen:
            raise DataError(f"{where}: duplicate product id {pid!r} (first at {seen[pid]})")
        seen[pid] = where
        text = {name: _text(value, where, name) for name, value in values.items()}
        products.append(Product(id=pid, **{"title": "", **text}))
    if not products:
        raise DataError(f"{source}: the catalogue has no products")
    return products


def _id_text(value: object) -> str:
    """An id exactly as written (no tag stripping, no entity decoding, no whitespace change): None/NaN -> ""."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _text(value: object, where: str, name: str) -> str:
    """A field value as plain text: None/NaN -> "", lists joined by newlines, tags stripped."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, list | tuple):
        return "\n".join(_text(v, where, name) for v in value)
    if isinstance(value, dict):
        raise DataError(f"{where}: field {name!r} is an object, expected text")
    return plain_text(str(value))


def _jsonl_records(path: Path, id_field: str, fields: Mapping[str, str]) -> Iterator[RawRecord]:
    for where, row in jsonl_objects(path, (id_field, *fields.values())):
        yield where, row[id_field], {name: row[column] for name, column in fields.items()}


def _csv_records(path: Path, id_field: str, fields: Mapping[str, str]) -> Iterator[RawRecord]:
    lines = [line + "\n" for _, line in read_lines(path)]
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(f"{path}: empty CSV file (no header line)") from None
    except csv.Error as exc:
        raise DataError(f"{path}:1: bad CSV header ({exc})") from None
    missing = [c for c in (id_field, *fields.values()) if c not in header]
    if missing:
        raise DataError(f"{path}:1: CSV header lacks columns {missing} (it has {header})")
    index = {column: header.index(column) for column in (id_field, *fields.values())}
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DataError(f"{path}:{reader.line_num}: bad CSV ({exc})") from None
        where = f"{path}:{reader.line_num}"
        if not row:
            continue
        if len(row) != len(header):
            raise DataError(f"{where}: {len(row)} CSV fields, the header has {len(header)}")
        yield where, row[index[id_field]], {name: row[index[column]] for name, column in fields.items()}


def _parquet_records(path: Path, id_field: str, fields: Mapping[str, str]) -> Iterator[RawRecord]:
    columns = list(dict.fromkeys((id_field, *fields.values())))
    df = read_parquet(path, columns, id_field).astype(object)
    for number, row in enumerate(df.itertuples(index=False, name=None)):
        values = dict(zip(columns, row, strict=True))
        yield f"{path} row {number}", values[id_field], {name: values[c] for name, c in fields.items()}


_DOCNO = re.compile(r"<DOCNO>(.*?)</DOCNO>", re.IGNORECASE | re.DOTALL)


def _trec_records(path: Path, text_field: str) -> Iterator[RawRecord]:
    for block in tagged_blocks(path, "DOC"):
        where = f"{path}:{block.line}"
        match = _DOCNO.search(block.body)
        if match is None:
            raise DataError(f"{where}: <DOC> without <DOCNO>…</DOCNO>")
        body = block.body[: match.start()] + " " + block.body[match.end() :]
        # the whitespace around a DOCNO is the format's layout (``<DOCNO> FT911-1 </DOCNO>``), not the id
        yield where, match.group(1).strip(), {text_field: body}
