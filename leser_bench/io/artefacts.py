"""Stage artefacts of a run, content-addressed so that an interrupted run resumes where it stopped.

A method's expansions are keyed by everything that can change them (the method, model, rules and
prompt configs, the seed, the catalogue's index key, the evaluated queries, and this schema's
version); its run additionally by the retriever config, the index searched and the depth. Both are
written atomically and checked when read: a damaged or foreign file is rebuilt, never trusted.
Runs are TREC files with a checksummed sidecar (:mod:`leser_bench.io.runs`), streamed chunk by chunk.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from leser_bench.io.cache import atomic_write_text, content_hash
from leser_bench.data.records import Query
from leser_bench.expansion import Expansion
from leser_bench.retrieval.retriever import EXECUTION_ONLY

SCHEMA = "artefacts-v1"
#: config groups that never change a method's expansions.
_IRRELEVANT = {"hydra", "report", "evaluation", "stats", "abtest", "experiment_name", "baseline", "methods",
               "method", "cache_dir", "cache",
               "suite", "budget"}  # the budget reaches methods through their own (resolved) settings


def expansions_key(method_cfg: Mapping[str, Any], config: Mapping[str, Any], index_dir: Path,
                   queries: Sequence[Query]) -> str:
    relevant = {k: v for k, v in config.items() if k not in _IRRELEVANT}
    if isinstance(relevant.get("retriever"), Mapping):  # how a search is executed never changes expansions
        relevant["retriever"] = {k: v for k, v in relevant["retriever"].items() if k not in EXECUTION_ONLY}
    return content_hash(SCHEMA, dict(method_cfg), relevant, Path(index_dir).parent.name,
                        [(q.id, q.text) for q in queries])


def run_key(expansions: str, retriever_config: Any, index_dir: Path, k: int) -> str:
    """Key of a method's run; only settings that can change a ranking count (not chunk sizes)."""
    identity = getattr(retriever_config, "ranking_identity", None)
    config = identity() if callable(identity) else retriever_config
    return content_hash(SCHEMA, "trec-run", expansions, config, Path(index_dir).parent.name, k)


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
    if [r.get("query_id") for r in records] != [q.id for q in queries]:
        return None
    return [
        Expansion(query=q, texts=list(r["texts"]), term_weights=dict(r["term_weights"]), prf=r["prf"],
                  raw_output=r["raw_output"], violations=dict(r["violations"]), fell_back=bool(r["fell_back"]),
                  generated_tokens=int(r["generated_tokens"]), seconds=float(r["seconds"]))
        for q, r in zip(queries, records, strict=True)
    ]
