"""Strict parquet reading for the loaders: every error names the file, the column and the id of
the row at fault.

Parquet strings are UTF-8 by the format's rules, but a file may hold invalid bytes in a string
column (pyarrow then fails deep inside pandas) or text in a *binary* column (pandas then hands
back ``bytes``, which would turn into ``"b'...'"`` text). Both are checked here, in Arrow, before
the table becomes a DataFrame; empty cells in key columns are errors too.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from leser_bench.data.records import DataError


def read_parquet(
    path: Path, columns: Sequence[str], key: str, filters: list[tuple] | None = None, required: Sequence[str] = ()
) -> pd.DataFrame:
    """Read ``columns`` of a parquet file (rows kept by ``filters``) with text columns as UTF-8
    strings; ``key`` names a row in messages; ``required`` columns may not hold nulls."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        present = pq.read_schema(path).names
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{path}: cannot read it as parquet ({exc})") from None
    missing = [c for c in columns if c not in present]
    if missing:
        raise DataError(f"{path}: missing columns {missing} (it has {sorted(present)})")
    try:
        table = pq.read_table(path, columns=list(columns), filters=filters or None, use_pandas_metadata=True)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{path}: cannot read it as parquet ({exc})") from None
    table = _utf8_text(table, path, key)
    for name in required:
        _no_nulls(table, path, key, name)
    return table.to_pandas()


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _is_bytes(kind: pa.DataType) -> bool:
    return pa.types.is_binary(kind) or pa.types.is_large_binary(kind)


def _utf8_text(table: pa.Table, path: Path, key: str) -> pa.Table:
    """String columns validated, binary columns decoded to strings; bad bytes -> DataError."""
    for index, name in enumerate(table.column_names):
        column = table.column(name)
        try:
            if _is_text(column.type):
                column.validate(full=True)
            elif _is_bytes(column.type):
                table = table.set_column(index, name, column.cast(pa.string()))
        except pa.ArrowInvalid:
            raise DataError(_bad_utf8_message(table, path, key, name)) from None
    return table


def _bad_utf8_message(table: pa.Table, path: Path, key: str, name: str) -> str:
    values = table.column(name).cast(pa.binary()).to_pylist()
    bad: list[tuple[int, bytes, int]] = []
    for row, raw in enumerate(values):
        if raw is None:
            continue
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad.append((row, raw[exc.start : exc.start + 1], exc.start))
    if not bad:
        return f"{path}: column {name!r} is damaged (Arrow could not validate it)"
    row, byte, position = bad[0]
    return (
        f"{path}: {key} {_cell(table, key, row)!r}: column {name!r} is not valid UTF-8 "
        f"(byte {byte!r} at position {position}; {len(bad)} such rows)"
    )


def _no_nulls(table: pa.Table, path: Path, key: str, name: str) -> None:
    column = table.column(name)
    if not column.null_count:
        return
    if name == key:  # no id to name: give the row of the file (all rows, before filtering)
        whole = pq.read_table(path, columns=[key]).column(key)
        row = pc.index(pc.is_null(whole), True).as_py()
        raise DataError(f"{path}: row {row} (counting from 0) has no {key} ({whole.null_count} such rows)")
    row = pc.index(pc.is_null(column), True).as_py()
    raise DataError(f"{path}: {key} {_cell(table, key, row)!r}: column {name!r} is empty ({column.null_count} such rows)")


def _cell(table: pa.Table, key: str, row: int) -> object:
    """The key of one row for a message (text with bad bytes shown escaped)."""
    column = table.column(key)
    if _is_text(column.type) or _is_bytes(column.type):
        raw = column.cast(pa.binary())[row].as_py()
        return None if raw is None else raw.decode("utf-8", errors="backslashreplace")
    return column[row].as_py()
