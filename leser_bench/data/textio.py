"""Strict text reading for the generic loader: every error names the file and the line.

No silent replacement of bad bytes: a line that is not UTF-8 is an error. TREC-style tagged
files (``<DOC>…</DOC>``, ``<top>…</top>``) are split into blocks that remember their line.
"""

from __future__ import annotations

import bisect
import json
import html
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from leser_bench.data.records import DataError


def read_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text without the line end) for every line of a UTF-8 file."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    out: list[tuple[int, str]] = []
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DataError(
                    f"{path}:{number}: not valid UTF-8 (byte {raw[exc.start:exc.start + 1]!r} at column {exc.start + 1})"
                ) from None
            if number == 1:
                line = line.removeprefix("\ufeff")
            out.append((number, line.rstrip("\r\n")))
    return out


def jsonl_objects(path: Path, required: Sequence[str]) -> Iterator[tuple[str, dict]]:
    """(``file:line``, object) for each non-blank line of a JSONL file; a line that is not a JSON
    object holding every ``required`` field is a DataError naming the file and line."""
    for number, line in read_lines(path):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(row, dict):
            raise DataError(f"{where}: expected a JSON object, got {type(row).__name__}")
        missing = [c for c in required if c not in row]
        if missing:
            raise DataError(f"{where}: missing fields {missing} (it has {sorted(row)})")
        yield where, row


def first_char(path: Path) -> str:
    """The first non-blank character of a file ("" if none), for format sniffing."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    with path.open("rb") as fh:
        head = fh.read(4096).decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
    return head[:1]


@dataclass(frozen=True)
class Block:
    """The inside of one ``<TAG>…</TAG>`` block and the line it starts on."""

    line: int
    body: str


def tagged_blocks(path: Path, tag: str) -> Iterator[Block]:
    """Yield every ``<tag>…</tag>`` block of a file, failing on text outside blocks or unclosed tags."""
    lines = read_lines(path)
    text = "\n".join(line for _, line in lines)
    starts = [0]
    for _, line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)

    def line_at(offset: int) -> int:
        return bisect.bisect_right(starts, offset)

    block = re.compile(rf"<{tag}>(.*?)</{tag}>", re.IGNORECASE | re.DOTALL)
    opening = re.compile(rf"<{tag}>", re.IGNORECASE)
    position = 0
    for match in block.finditer(text):
        _check_gap(path, text, position, match.start(), tag, line_at)
        body = match.group(1)
        nested = opening.search(body)
        if nested:
            start = match.start(1) + nested.start()
            raise DataError(
                f"{path}:{line_at(match.start())}: <{tag}> is not closed before the next <{tag}> (line {line_at(start)})"
            )
        yield Block(line=line_at(match.start()), body=body)
        position = match.end()
    _check_gap(path, text, position, len(text), tag, line_at)


def _check_gap(path: Path, text: str, start: int, end: int, tag: str, line_at) -> None:  # noqa: ANN001
    gap = text[start:end]
    if not gap.strip():
        return
    offset = start + (len(gap) - len(gap.lstrip()))
    if re.match(rf"<{tag}>", text[offset:end], re.IGNORECASE):
        raise DataError(f"{path}:{line_at(offset)}: <{tag}> is never closed (no </{tag}>)")
    raise DataError(f"{path}:{line_at(offset)}: text outside a <{tag}>…</{tag}> block: {text[offset:offset + 40]!r}")


def tag_value(body: str, tag: str) -> str | None:
    """The text of ``<tag>`` inside a block: up to ``</tag>`` or the next opening tag (TREC topics
    often leave ``<title>`` unclosed). None when the tag is absent."""
    match = re.search(rf"<{tag}>(.*?)(?:</{tag}>|(?=<[A-Za-z]+>)|$)", body, re.IGNORECASE | re.DOTALL)
    return None if match is None else match.group(1)


_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][^<>]*>", re.DOTALL)


def plain_text(text: str) -> str:
    """Tags removed, entities decoded, whitespace collapsed."""
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return " ".join(text.split())
