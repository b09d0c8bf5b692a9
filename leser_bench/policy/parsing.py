"""Parse what an LLM wrote into a list of expansions; never raises, whatever the text.

Expected format (``format_ok=True``): an optional ``<think>…</think>`` block, then a JSON list of
strings, possibly inside a ```json fence, or a JSON object with an ``"expansions"`` list.

Anything else degrades step by step (``format_ok=False``): a JSON list or object found inside
other text; the complete string literals of a truncated JSON list; a numbered or bulleted list;
newline-, semicolon- or comma-separated items. An unterminated ``<think>`` block is all
reasoning; a JSON list inside it is still used. The parser does not deduplicate or filter: that
is the rule checker's job (so that violations are counted).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

#: at most this many items are returned (protects later quadratic checks from 20k-char blobs).
MAX_ITEMS = 64
#: items longer than this are cut (a runaway generation is not an expansion).
MAX_ITEM_CHARS = 300
#: how many '[' / '{' positions are tried when looking for embedded JSON.
_MAX_JSON_STARTS = 16

_THINK_OPEN = re.compile(r"<think>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</think>", re.IGNORECASE)
_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_-]*)[ \t]*\r?\n?(.*?)(?:```|\Z)", re.DOTALL)
_STRING_LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
_BULLET = re.compile(r"^\s*(?:[-*•·+>]+|\(?\d{1,3}[.):\]]|\(?[a-zA-Z][.)\]](?=\s))\s*")
_HEADER_WORDS = r"(?:here|sure|certainly|okay|ok|the|these|below|expansions?|queries|rewrites?|answer|output)"
_HEADER = re.compile(rf"^{_HEADER_WORDS}\b.*:\s*$", re.IGNORECASE)
_HEADER_PREFIX = re.compile(rf"^\s*{_HEADER_WORDS}\b[^:\n]{{0,80}}:\s*", re.IGNORECASE)
_TRUNCATED_PREFIX = re.compile(r'^(?:```[A-Za-z0-9_-]*\s*)?(?:\{\s*"[^"\n]{1,40}"\s*:\s*)?$')
_WS = re.compile(r"\s+")


@dataclass
class ParsedOutput:
    expansions: list[str] = field(default_factory=list)
    #: the text of the think block ("" when there was none).
    reasoning: str = ""
    #: True only for the expected format (see the module docstring).
    format_ok: bool = False
    raw: str = ""


def parse_expansions(text: Any, max_items: int = MAX_ITEMS) -> ParsedOutput:
    """Parse ``text`` (any object; non-strings are treated as their ``str``)."""
    raw = text if isinstance(text, str) else ("" if text is None else _safe_str(text))
    reasoning, body, think_ok = _split_think(raw)
    items, strict = _parse_body(body)
    if body.strip() == "" and reasoning and not items:
        # unterminated think block: salvage a JSON list the model wrote inside it
        items, _ = _parse_json_inside(reasoning)
        strict = False
    cleaned = [c for c in (_clean(item) for item in items) if c][: max(0, max_items)]
    return ParsedOutput(expansions=cleaned, reasoning=reasoning.strip(), format_ok=strict and think_ok, raw=raw)


def _safe_str(obj: Any) -> str:
    try:
        return str(obj)
    except Exception:  # a broken __str__ must not break parsing
        return ""


def _split_think(raw: str) -> tuple[str, str, bool]:
    """(reasoning, body, well_formed)."""
    opened = _THINK_OPEN.search(raw)
    closed = _THINK_CLOSE.search(raw, opened.end() if opened else 0)
    if opened and closed:
        well_formed = raw[: opened.start()].strip() == ""
        return raw[opened.end() : closed.start()], raw[closed.end() :], well_formed
    if opened:  # unterminated: everything after <think> is reasoning
        return raw[opened.end() :], "", False
    if closed:  # the opening tag was in the prompt (some chat templates do this)
        return raw[: closed.start()], raw[closed.end() :], True
    return "", raw, True


def _parse_body(body: str) -> tuple[list[str], bool]:
    """(items, strictly_well_formed)."""
    stripped = body.strip()
    if not stripped:
        return [], False
    candidates = [stripped]
    fence = _FENCE.fullmatch(stripped)
    if fence and fence.group(1).lower() in {"", "json"}:
        candidates.append(fence.group(2).strip())
    for candidate in candidates:
        value, ok = _strict_json(candidate)
        if ok:
            items, clean = _items_from_json(value)
            if items or clean:
                return items, clean
    items, found = _parse_json_inside(stripped)
    if found:
        return items, False
    truncated = _truncated_list(stripped)
    if truncated:
        return truncated, False
    return _parse_lines(stripped), False


def _strict_json(text: str) -> tuple[Any, bool]:
    try:
        return json.loads(text), True
    except (ValueError, RecursionError):
        return None, False


def _items_from_json(value: Any) -> tuple[list[str], bool]:
    """Strings from a JSON value; ``clean`` when it was exactly a list of strings (or an object
    with an "expansions" list of strings)."""
    if isinstance(value, dict):
        for key in ("expansions", "queries", "rewrites", "expansion"):
            if key in value:
                items, clean = _items_from_json(value[key])
                return items, clean and key == "expansions"
        return [], False
    if isinstance(value, list):
        items: list[str] = []
        clean = True
        for element in value[: MAX_ITEMS * 4]:
            if isinstance(element, str):
                items.append(element)
            elif isinstance(element, (int, float)) and not isinstance(element, bool):
                items.append(str(element))
                clean = False
            elif isinstance(element, dict):
                texts = [v for v in element.values() if isinstance(v, str)]
                items.extend(texts[:1])
                clean = False
            else:
                clean = False
        return items, clean
    if isinstance(value, str):
        return [value], False
    return [], False


def _parse_json_inside(text: str) -> tuple[list[str], bool]:
    """The first JSON list/object embedded in ``text`` that yields items: (items, found)."""
    decoder = json.JSONDecoder()
    starts = [m.start() for m in re.finditer(r"[\[{]", text)][:_MAX_JSON_STARTS]
    for start in starts:
        try:
            value, _ = decoder.raw_decode(text, start)
        except (ValueError, RecursionError):
            continue
        items, _ = _items_from_json(value)
        if items:
            return items, True
    return [], False


def _truncated_list(text: str) -> list[str]:
    """The complete string literals after the first '[' (a JSON list cut off mid-way)."""
    start = text.find("[")
    if start < 0 or not _TRUNCATED_PREFIX.match(text[:start]):
        return []
    items = []
    for match in _STRING_LITERAL.finditer(text, start):
        try:
            items.append(json.loads(f'"{match.group(1)}"'))
        except (ValueError, RecursionError):
            items.append(match.group(1))
        if len(items) >= MAX_ITEMS:
            break
    return items


def _parse_lines(text: str) -> list[str]:
    text = re.sub(r"```[A-Za-z0-9_-]*", "\n", text)
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) <= 1:
        single = _HEADER_PREFIX.sub("", lines[0], count=1) if lines else ""
        separator = ";" if ";" in single else ","
        parts = single.split(separator) if separator in single else [single]
        return [_BULLET.sub("", p, count=1) for p in parts]
    items = []
    for line in lines:
        if _HEADER.match(line.strip()):
            continue
        items.append(_BULLET.sub("", _HEADER_PREFIX.sub("", line, count=1), count=1))
        if len(items) >= MAX_ITEMS * 2:
            break
    return items


def _clean(item: str) -> str:
    text = _WS.sub(" ", item).strip()
    text = text.strip("\"'`“”‘’[]{}*").rstrip(",;").strip()  # quotes, brackets, **bold**
    return text[:MAX_ITEM_CHARS].strip()
