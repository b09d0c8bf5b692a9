"""Stage artefacts of a run, content-addressed so that an interrupted run resumes where it stopped.

A method's expansions are keyed by everything that can change them (the method, model, rules and
prompt configs, the seed, the catalogue's index key, the evaluated queries, and this schema's
version); its run additionally by the retriever config, the index searched and the depth. Both keys
also hash the code that produces them -- the source of the ``leser_bench`` and ``baselines`` packages
and of a plugin kind's module (:func:`code_hash`) -- and the content of every file a method config
names (:func:`input_files_hash`): editing a prompt template, an expander or an input file changes the
key. The whole packages are hashed, not the modules a kind imports: tracing imports per kind is easy to
get wrong (a shared helper, a lazily imported module), and a stale artefact is worse than a recomputed
one. Both are written atomically and checked when read: a damaged, foreign or schema-invalid file is
rebuilt, never trusted.
Runs are TREC files with a checksummed sidecar (:mod:`leser_bench.io.runs`), streamed chunk by chunk.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from leser_bench.io.cache import atomic_write_text, content_hash
from leser_bench.data.records import Query
from leser_bench.expansion import Expansion
from leser_bench.retrieval.retriever import EXECUTION_ONLY

log = logging.getLogger("leser_bench.io")

SCHEMA = "artefacts-v1"
#: packages whose source produces stage artefacts (found by location: leser_bench never imports baselines).
SOURCE_PACKAGES = ("leser_bench", "baselines")
#: config groups that never change a method's expansions.
_IRRELEVANT = {"hydra", "report", "evaluation", "stats", "abtest", "experiment_name", "baseline", "methods",
               "method", "cache_dir", "cache",
               "suite", "budget"}  # the budget reaches methods through their own (resolved) settings


def source_roots() -> list[Path]:
    """The directories of :data:`SOURCE_PACKAGES` (those importable here)."""
    roots = []
    for name in SOURCE_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            roots.extend(Path(p) for p in spec.submodule_search_locations)
    return roots


#: folders of a hashed package that hold no code: its Hydra configs (``leser_bench/conf``) reach every key
#: resolved, so hashing the files again would let an edit to any experiment file or comment invalidate
#: every cached stage and trained model.
_NOT_CODE = ("conf",)


def _source_files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        if (path.is_file() and "__pycache__" not in parts and path.suffix not in (".pyc", ".pyo")
                and parts[0] not in _NOT_CODE):
            yield path


@functools.lru_cache(maxsize=32)
def source_hash(roots: tuple[Path, ...]) -> str:
    """SHA-256 over the relative path and bytes of every source file under ``roots`` (packages or files)."""
    digest = hashlib.sha256()
    for root in roots:
        for path in _source_files(root):
            digest.update(str(path.relative_to(root.parent)).encode() + b"\x00" + path.read_bytes() + b"\x00")
    return digest.hexdigest()[:16]


def _plugin_module(method_cfg: Mapping[str, Any]) -> list[Path]:
    """The source file of a ``kind: module:ATTRIBUTE`` plugin outside the hashed packages."""
    kind = str(method_cfg.get("kind", ""))
    if ":" not in kind:
        return []
    try:
        spec = importlib.util.find_spec(kind.split(":", 1)[0])
    except (ImportError, ValueError):
        return []
    return [Path(spec.origin)] if spec is not None and spec.origin and Path(spec.origin).is_file() else []


def code_hash(method_cfg: Mapping[str, Any] | None = None) -> str:
    """The code that produces a stage artefact: the packages' sources and a plugin kind's module."""
    return source_hash(tuple(source_roots()) + tuple(_plugin_module(method_cfg or {})))


def _named_files(value: Any) -> Iterator[Path]:
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _named_files(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _named_files(v)
    elif isinstance(value, str) and value and len(value) < 4096 and "\n" not in value:
        try:
            path = Path(value).expanduser()
            if path.is_file():
                yield path
        except (OSError, ValueError):
            return


def input_files_hash(method_cfg: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(path, SHA-256) of every existing file a method config names (e.g. an examples or prompt file)."""
    out = []
    for path in sorted(set(_named_files(dict(method_cfg)))):
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        out.append((str(path), digest.hexdigest()))
    return out


def expansions_key(method_cfg: Mapping[str, Any], config: Mapping[str, Any], index_dir: Path,
                   queries: Sequence[Query]) -> str:
    relevant = {k: v for k, v in config.items() if k not in _IRRELEVANT}
    if isinstance(relevant.get("retriever"), Mapping):  # how a search is executed never changes expansions
        relevant["retriever"] = {k: v for k, v in relevant["retriever"].items() if k not in EXECUTION_ONLY}
    return content_hash(SCHEMA, dict(method_cfg), relevant, Path(index_dir).parent.name,
                        [(q.id, q.text) for q in queries], code_hash(method_cfg), input_files_hash(method_cfg))


def run_key(expansions: str, retriever_config: Any, index_dir: Path, k: int) -> str:
    """Key of a method's run; only settings that can change a ranking count (not chunk sizes), and the code."""
    identity = getattr(retriever_config, "ranking_identity", None)
    config = identity() if callable(identity) else retriever_config
    return content_hash(SCHEMA, "trec-run", expansions, config, Path(index_dir).parent.name, k, code_hash())


def _to_record(e: Expansion) -> dict[str, Any]:
    return {"query_id": e.query_id, "texts": e.texts, "term_weights": e.term_weights, "prf": e.prf,
            "raw_output": e.raw_output, "violations": e.violations, "fell_back": e.fell_back,
            "generated_tokens": e.generated_tokens, "seconds": e.seconds}


def save_expansions(path: Path, expansions: Sequence[Expansion]) -> None:
    lines = [json.dumps(_to_record(e), ensure_ascii=False) for e in expansions]
    atomic_write_text(path, json.dumps({"schema": SCHEMA, "count": len(lines)}) + "\n" + "\n".join(lines) + "\n")


def load_expansions(path: Path, queries: Sequence[Query]) -> list[Expansion] | None:
    """The cached expansions for exactly ``queries``, or None if missing, damaged or for other queries."""
    try:
        header, *lines = path.read_text(encoding="utf-8").splitlines()
        meta = json.loads(header)
        records = [json.loads(line) for line in lines if line.strip()]
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("schema") != SCHEMA or meta.get("count") != len(records):
        return None
    if [r.get("query_id") if isinstance(r, dict) else None for r in records] != [q.id for q in queries]:
        return None
    for number, record in enumerate(records, start=2):
        problem = record_problem(record)
        if problem:
            log.warning("%s:%d: cached expansion is invalid (%s); discarded and recomputed", path, number, problem)
            return None
    return [
        Expansion(query=q, texts=list(r["texts"]), term_weights=dict(r["term_weights"]), prf=r["prf"],
                  raw_output=r["raw_output"], violations=dict(r["violations"]), fell_back=r["fell_back"],
                  generated_tokens=r["generated_tokens"], seconds=float(r["seconds"]))
        for q, r in zip(queries, records, strict=True)
    ]


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


#: field -> (what it must be, the check): the schema of one cached expansion record.
_FIELDS = {
    "query_id": ("a string", lambda v: isinstance(v, str)),
    "texts": ("a list of strings", lambda v: isinstance(v, list) and all(isinstance(t, str) for t in v)),
    "term_weights": ("an object of term: number",
                     lambda v: isinstance(v, dict) and all(isinstance(k, str) and _number(w) for k, w in v.items())),
    "prf": ("null or an object", lambda v: v is None or isinstance(v, dict)),
    "raw_output": ("a string", lambda v: isinstance(v, str)),
    "violations": ("an object of rule: integer", lambda v: isinstance(v, dict) and all(
        isinstance(k, str) and isinstance(n, int) and not isinstance(n, bool) for k, n in v.items())),
    "fell_back": ("true or false", lambda v: isinstance(v, bool)),
    "generated_tokens": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "seconds": ("a number", _number),
}


def record_problem(record: Any) -> str | None:
    """What is wrong with one cached expansion record (None if it matches the schema)."""
    if not isinstance(record, dict):
        return "not an object"
    for name, (what, ok) in _FIELDS.items():
        if name not in record:
            return f"{name!r} is missing"
        if not ok(record[name]):
            return f"{name!r} must be {what}, got {record[name]!r:.60}"
    return None
