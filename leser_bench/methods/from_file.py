"""``kind: from_file``: expansions written elsewhere (a production rewriter, GPT-4, another paper's code),
scored like any method: the platform rules, the one retriever, the metrics, the statistics and both
reports. The file is JSON Lines, one object per query::

    {"query_id": "535", "expansions": ["usb c charger", "type c wall charger"]}

Every line is checked before any work (valid JSON, a string ``query_id`` seen once, ``expansions`` a list
of strings, no other keys), naming ``file:line``. A query of the evaluated split without a line is an
error unless ``missing: raw`` (then it is searched unexpanded, and the count is logged). The stage
cache's key hashes the file's content, so an edited file is never served from the cache.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from leser_bench.data.records import DataError, Query
from leser_bench.data.textio import jsonl_objects
from leser_bench.errors import ConfigError
from leser_bench.expansion import Expansion
from leser_bench.methods.context import ConfigView, MethodContext
from leser_bench.methods.registry import MethodKind
from leser_bench.policy import llm as common
from leser_bench.policy.rules import RuleChecker

log = logging.getLogger(__name__)
KEYS = {"path", "missing", "rules", "apply_rules"}
RECORD_KEYS = {"query_id", "expansions"}
MISSING = ("error", "raw")


def read_expansions(path: Path) -> dict[str, list[str]]:
    """query id -> expansions; a bad line is a ConfigError naming ``file:line`` (lines read by the data
    loaders' JSONL reader, which names bad UTF-8 and JSON the same way)."""
    if not path.is_file():
        raise ConfigError(f"{path}: no such expansions file")
    out: dict[str, list[str]] = {}
    try:
        for where, record in jsonl_objects(path, ()):
            unknown = sorted(set(record) - RECORD_KEYS)
            if unknown:
                raise ConfigError(f"{where}: unknown keys {unknown}; allowed: {sorted(RECORD_KEYS)}")
            qid, texts = record.get("query_id"), record.get("expansions")
            if not isinstance(qid, str) or not qid:
                raise ConfigError(f"{where}: query_id must be a non-empty string, got {qid!r}")
            if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                raise ConfigError(f"{where}: expansions of {qid!r} must be a list of strings, got {texts!r}")
            if qid in out:
                raise ConfigError(f"{where}: query_id {qid!r} appears a second time")
            out[qid] = texts
    except DataError as exc:
        raise ConfigError(str(exc)) from None
    return out


def _settings(method_cfg: Mapping[str, Any]) -> tuple[Path, str]:
    common.check_keys(method_cfg, set(KEYS))
    name = method_cfg.get("name")
    if not method_cfg.get("path"):
        raise ConfigError(f"methods.{name}.path is missing (a JSONL file of query_id and expansions)")
    missing = str(method_cfg.get("missing", "error"))
    if missing not in MISSING:
        raise ConfigError(f"methods.{name}.missing={missing!r}; allowed: {list(MISSING)}")
    return Path(str(method_cfg["path"])).expanduser(), missing


def check_from_file(method_cfg: Mapping[str, Any], view: ConfigView) -> None:  # noqa: ARG001
    path, _ = _settings(method_cfg)
    read_expansions(path)


class FileExpander:
    """The file's expansions for each query, checked against the platform rules like an LLM's."""

    def __init__(self, name: str, expansions: dict[str, list[str]], missing: str, checker: RuleChecker | None,
                 context: MethodContext) -> None:
        self.name, self.expansions, self.missing, self.checker = name, expansions, missing, checker
        self._context = context

    def expand(self, queries: Sequence[Query]) -> list[Expansion]:
        absent = [q.id for q in queries if q.id not in self.expansions]
        if absent and self.missing == "error":
            raise ConfigError(f"methods.{self.name}: {len(absent)} evaluated queries have no line in the expansions "
                              f"file, e.g. {absent[:3]}; add them or set missing: raw")
        if absent:
            log.warning("%s: %d of %d queries have no expansions in the file: searched unexpanded",
                        self.name, len(absent), len(queries))
        brands = common.brand_index(self._context) if self.checker is not None else None
        out = []
        for q in queries:
            texts = self.expansions.get(q.id, [])
            if self.checker is None or not texts:
                out.append(Expansion(query=q, texts=list(texts)))
                continue
            result = self.checker.check(q.text, texts, brands)
            out.append(Expansion(query=q, texts=list(result.kept), violations=dict(result.violations),
                                 fell_back=result.fell_back))
        return out


def build_from_file(method_cfg: Mapping[str, Any], context: MethodContext) -> FileExpander:
    path, missing = _settings(method_cfg)
    checker = RuleChecker(common.rules_config(method_cfg, context)) if method_cfg.get("apply_rules", True) else None
    return FileExpander(str(method_cfg["name"]), read_expansions(path), missing, checker, context)


FROM_FILE = MethodKind("from_file", build=build_from_file, check=check_from_file)
