"""Data for the per-query explorer: one row per judged query, embedded in the page as JSON.

The page's script builds the table with ``textContent`` only, so every dataset or model string
stays text; :func:`script_json` makes the JSON safe inside ``<script type="application/json">``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from leser_bench.report.inputs import ReportInputs, top_ids
from leser_bench.report.tables import per_query_table, primary_measure, shown_expansion

#: characters that must not appear raw inside a <script> element (or be read by a client-side
#: template engine): each becomes a JSON \\u escape, which JSON.parse turns back into the character.
_SCRIPT_UNSAFE = re.compile(r"[<>&{}'\u2028\u2029]")
_URL_TEMPLATE = re.compile(r"^https?://[^\s\"'<>]*\{id\}[^\s\"'<>]*$")


@dataclass(frozen=True)
class ExplorerConfig:
    top_results: int = 5
    max_queries: int = 2000
    #: e.g. "https://www.amazon.com/dp/{id}"; None: results are not links.
    product_url: str | None = None


def _escape_string(text: str) -> str:
    return _SCRIPT_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text))


def _encode(value: Any) -> str:
    if isinstance(value, str):
        return _escape_string(value)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return json.dumps(value) if math.isfinite(value) else "null"
    if isinstance(value, dict):
        return "{" + ",".join(f"{_escape_string(str(k))}:{_encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    raise TypeError(f"cannot embed {type(value).__name__} in the report's JSON")


def script_json(value: Any) -> Markup:
    """JSON for a ``<script type="application/json">`` element: every string's ``< > & { } '`` and
    line separators are \\u-escaped, so no data can close the element or look like markup."""
    return Markup(_encode(value))  # noqa: S704 - the text above contains no raw markup characters


def explorer_config(config: dict[str, Any]) -> ExplorerConfig:
    report = config.get("report") or {}
    url = report.get("product_url")
    if url is not None and not _URL_TEMPLATE.match(str(url)):
        raise ValueError(f"report.product_url={url!r}: expected an http(s) URL containing {{id}}")
    return ExplorerConfig(top_results=int(report.get("explorer_top_results", 5)),
                          max_queries=int(report.get("explorer_max_queries", 2000)), product_url=url)


def explorer_data(inputs: ReportInputs, config: ExplorerConfig) -> dict[str, Any]:
    methods, measures, base = inputs.methods, inputs.measures, inputs.baseline
    tables = {m: per_query_table(inputs, m) for m in measures}
    qids = list(tables[measures[0]].index)
    primary = tables[primary_measure(inputs)]
    if base in primary and len(qids) > config.max_queries:
        # keep the queries where methods disagree most with the baseline
        spread = primary.sub(primary[base], axis=0).abs().max(axis=1)
        qids = sorted(spread.sort_values(ascending=False, kind="stable").index[: config.max_queries])
    else:
        qids = qids[: config.max_queries]
    tops = {m: top_ids(run, config.top_results) for m, run in inputs.runs.items()}
    rows = []
    for qid in qids:
        values = {m: [_value(tables[s], qid, m) for s in measures] for m in methods}
        row: dict[str, Any] = {
            "id": qid, "query": _query_text(inputs, qid), "values": values,
            "deltas": {m: [_sub(v, b) for v, b in zip(values[m], values.get(base, values[m]))]
                       for m in methods if m != base},
            "expansions": {m: shown_expansion(inputs.expansions.get(m, {}).get(qid)) for m in methods},
            "violations": {m: sorted((inputs.expansions.get(m, {}).get(qid) or {}).get("violations") or {})
                           for m in methods},
            "top": {m: [_result(inputs, qid, pid) for pid in tops.get(m, {}).get(qid, [])] for m in methods},
        }
        rows.append(row)
    return {"methods": methods, "baseline": base, "measures": measures, "primary": primary_measure(inputs),
            "product_url": config.product_url, "total_queries": len(tables[measures[0]].index),
            "rows": rows}


def _value(table: Any, qid: str, method: str) -> float | None:
    if method not in table:
        return None
    value = float(table.at[qid, method])
    return round(value, 6) if math.isfinite(value) else None


def _sub(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 6)


def _query_text(inputs: ReportInputs, qid: str) -> str:
    for records in inputs.expansions.values():
        if qid in records:
            return str(records[qid].get("query", ""))
    return ""


def _result(inputs: ReportInputs, qid: str, pid: str) -> list[str]:
    product = inputs.products.get(pid, {})
    grade = inputs.qrels.get(qid, {}).get(pid)
    return [pid, product.get("title", ""), inputs.info.label(grade)]
