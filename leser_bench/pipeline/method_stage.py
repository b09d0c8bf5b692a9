"""One method's stages: expand (or reuse the cached expansions), then search (or reuse the cached run),
streamed chunk by chunk into ``runs/<name>.trec``."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from leser_bench.io.artefacts import expansions_key, load_expansions, run_key, save_expansions
from leser_bench.io.cache import atomic_write_text
from leser_bench.expansion import Expansion
from leser_bench.methods import MethodContext, MethodSystem, build_method, kind_of
from leser_bench.methods.context import stage_reuse
from leser_bench.pipeline.stages import StageTimer
from leser_bench.retrieval import Run
from leser_bench.io.runs import RunFileWriter, external_run_chunks, stream_method_run

log = logging.getLogger("leser_bench.pipeline")


def expansion_record(e: Expansion) -> dict[str, Any]:
    top_terms = dict(sorted(e.term_weights.items(), key=lambda kv: -kv[1])[:20])
    return {
        "query_id": e.query_id, "query": e.query.text, "texts": e.texts, "term_weights": top_terms,
        "prf": e.prf, "raw_output": e.raw_output, "violations": e.violations, "fell_back": e.fell_back,
        "generated_tokens": e.generated_tokens, "seconds": round(e.seconds, 6),
    }


def run_method(name: str, method_cfg: dict[str, Any], context: MethodContext, split: Any,
                k: int, out_dir: Path, timer: StageTimer,
                main_ids: set[str] | None = None) -> tuple[Iterator[tuple[list[str], Run]], list[Expansion],
                                                           MethodSystem | None]:
    """Expand, then search; each stage is reused from the cache when its inputs are unchanged.
    Returns the run as an iterator of (query ids, Run) chunks (searched, or read from the cached
    TREC run, as it is consumed; the run file is complete once it is exhausted), the expansions
    and the built method (None when the expansions came from the cache). The run file is
    ``runs/<name>.trec``, or with ``main_ids`` (a sampled main table, a method run on the whole
    split) ``runs_full/<name>.trec``, from which :func:`write_main_run` then keeps the main queries."""
    out_path = out_dir / ("runs" if main_ids is None else "runs_full") / f"{name}.trec"
    if kind_of(method_cfg, name).external_run:  # an existing TREC run, scored in place of a search
        system = build_method(method_cfg, context)
        expansions = system.expander.expand(split.queries)
        chunks = external_run_chunks(system.run_file, expansions, k, out_path, name,  # type: ignore[arg-type]
                                     context.retriever.config.chunk_size)
        _write_expansions(out_dir, name, expansions)
        return chunks, expansions, system
    reuse = stage_reuse(context)
    stage_dir = context.cache_dir / "stages"
    exp_key = expansions_key(method_cfg, context.config, context.retriever.index_dir, split.queries)
    expansions = load_expansions(stage_dir / f"expansions-{exp_key}.jsonl", split.queries) if reuse else None
    # a document-side method (e.g. doc2query) searches its own index: it is built even when its expansions are cached
    system = build_method(method_cfg, context) if kind_of(method_cfg, name).document_side else None
    if expansions is None:
        with timer(f"{name}: expand"):
            system = system or build_method(method_cfg, context)
            expansions = system.expander.expand(split.queries)
        if [e.query_id for e in expansions] != [q.id for q in split.queries]:
            raise RuntimeError(f"method {name!r} returned expansions for other queries than it was given")
        save_expansions(stage_dir / f"expansions-{exp_key}.jsonl", expansions)
    else:
        log.info("%s: expansions reused from cache (%s)", name, exp_key)
    retriever = system.own_retriever() if system is not None and system.own_retriever else context.retriever
    run_path = stage_dir / f"run-{run_key(exp_key, retriever.config, retriever.index_dir, k)}.trec"
    chunks = stream_method_run(retriever, expansions, k, run_path, out_path, tag=name,
                               reuse=reuse, searching=lambda: timer(f"{name}: retrieve"))
    _write_expansions(out_dir, name, expansions)
    return chunks, expansions, system


def _write_expansions(out_dir: Path, name: str, expansions: list[Expansion]) -> None:
    lines = [json.dumps(expansion_record(e), ensure_ascii=False) for e in expansions]
    atomic_write_text(out_dir / "expansions" / f"{name}.jsonl", "\n".join(lines) + "\n")


def write_main_run(out_dir: Path, name: str, main_ids: set[str]) -> None:
    """``runs/<name>.trec``: the main table's queries of ``runs_full/<name>.trec``, line for line (streamed)."""
    with RunFileWriter(out_dir / "runs" / f"{name}.trec", name, with_meta=False) as out, \
            (out_dir / "runs_full" / f"{name}.trec").open(encoding="utf-8") as whole:
        for qid, lines in itertools.groupby(whole, key=lambda line: line.split(" ", 1)[0]):
            if qid in main_ids:
                out.append_text("".join(lines), [qid])
