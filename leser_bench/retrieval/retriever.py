"""The one place that talks to Lucene: BM25 over the product index, combining queries and expansions.

How a query and its expansions become a ranking is decided here, by config:

- ``concat`` (weighted concatenation): the original query repeated ``query_repeat`` times, then
  every expansion text, as one bag of words (Anserini turns a repeated word into a boost);
- ``rrf``: one search for the original query and one per expansion, fused by reciprocal rank
  (``score = sum_i w_i / (rrf_k + rank_i)``, the original query weighted ``rrf_query_weight``).

Two optional stages (off by default): ``expansion_prf`` runs the engine's own PRF (RM3 or
Rocchio) on a text expansion's combined query — the rewrite widens the first pass, the engine's
feedback follows, as PyTerrier places RM3 between two retrievals — and ``query_head`` keeps the raw
query's own first ``query_head`` results on top of every expanded ranking (expansion as a recall
channel: the first page is the query's, the expansion fills the rest).

Expansions that ask for pseudo-relevance feedback (``Expansion.prf``) run Pyserini's own RM3 or
Rocchio on a searcher configured for it. All searches of one call go through one
``batch_search`` per searcher and chunk. Every string is sanitised first (:mod:`.sanitize`).

Scale: queries are searched ``chunk_size`` at a time (:meth:`Retriever.search_chunks` yields one
Run per chunk, so a caller never holds 9k x 1000 hits), with a progress bar (queries/s, ETA) once a
call has at least one full chunk. :meth:`search_chunks` sends a call of ``native_threshold`` queries
or more through Anserini's own ``SearchCollection`` (:mod:`.native`: same rankings, twice as fast at
k=1000, scores as the TREC file's 6 decimals); :meth:`search` always uses ``batch_search`` and
returns exactly the float scores it always did.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from leser_bench.expansion import Expansion
from leser_bench.retrieval.java import ensure_java
from leser_bench.retrieval.native import NativeSearcher
from leser_bench.retrieval.sanitize import sanitize_query

Run = dict[str, dict[str, float]]
COMBINE_MODES = ("concat", "rrf")
PRF_METHODS = ("rm3", "rocchio")
#: each PRF method's parameters (Pyserini's set_rm3 / set_rocchio keywords, as _configure_prf reads them).
PRF_PARAMETERS = {"rm3": ("fb_terms", "fb_docs", "original_query_weight"),
                  "rocchio": ("top_fb_terms", "top_fb_docs", "bottom_fb_terms", "bottom_fb_docs", "alpha", "beta",
                              "gamma")}
#: parameter -> (lowest allowed, highest allowed or None)
PRF_RANGES: dict[str, tuple[float, float | None]] = {
    "fb_terms": (1, None), "fb_docs": (1, None), "original_query_weight": (0.0, 1.0),
    "top_fb_terms": (1, None), "top_fb_docs": (1, None), "bottom_fb_terms": (0, None), "bottom_fb_docs": (0, None),
    "alpha": (0.0, None), "beta": (0.0, None), "gamma": (0.0, None),
}
_SEP = "\x1f"


def check_prf_values(values: Mapping[str, object], keys: Sequence[str], where: str) -> None:
    """Each of ``keys`` present in ``values`` is a number in its PRF_RANGES range (ValueError naming
    ``where.key`` if not): Pyserini would only fail in Java, after the index is built."""
    for key in keys:
        if key not in values:
            continue
        value = values[key]
        low, high = PRF_RANGES[key]
        if (isinstance(value, bool) or not isinstance(value, (int, float)) or value < low
                or (high is not None and value > high)):
            allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
            raise ValueError(f"{where}.{key}={value!r} is impossible; allowed: a number {allowed}")
#: RetrieverConfig fields that change how a search is executed, never its result.
EXECUTION_ONLY = ("chunk_size", "native_threshold")


@dataclass(frozen=True)
class RetrieverConfig:
    k1: float = 0.9
    b: float = 0.4
    #: Lucene field -> boost. ``contents`` holds every text field; title/brand/color are separate.
    field_weights: Mapping[str, float] = field(default_factory=lambda: {"contents": 1.0, "title": 1.0})
    threads: int = 2
    combine: str = "concat"
    query_repeat: int = 2
    rrf_k: int = 60
    rrf_query_weight: float = 1.0
    max_query_terms: int = 256
    max_query_chars: int = 2000
    #: queries per search call (and per Run yielded by ``search_chunks``); does not change results.
    chunk_size: int = 1000
    #: ``search_chunks`` of at least this many queries runs Anserini's SearchCollection (0: never).
    native_threshold: int = 1000
    #: PRF run on every text expansion's combined query (concat only), e.g. {"method": "rm3", "fb_terms": 10,
    #: "fb_docs": 10, "original_query_weight": 0.5}; None: the combined query is searched as it is.
    expansion_prf: Mapping[str, object] | None = None
    #: the raw query's own top ``query_head`` results head every expanded ranking (0: off).
    query_head: int = 0

    def __post_init__(self) -> None:
        if self.combine not in COMBINE_MODES:
            raise ValueError(f"retriever.combine={self.combine!r}; allowed: {list(COMBINE_MODES)}")
        if self.threads < 1 or self.query_repeat < 1 or self.rrf_k < 1 or self.chunk_size < 1:
            raise ValueError("retriever.threads, retriever.query_repeat, retriever.rrf_k and retriever.chunk_size "
                             "must be >= 1")
        if self.native_threshold < 0:
            raise ValueError(f"retriever.native_threshold must be >= 0 (0: never), got {self.native_threshold}")
        if not self.field_weights or any(w < 0 for w in self.field_weights.values()):
            raise ValueError(f"retriever.field_weights must be non-empty and >= 0, got {dict(self.field_weights)}")
        if self.query_head < 0:
            raise ValueError(f"retriever.query_head must be >= 0 (0: off), got {self.query_head}")
        if self.expansion_prf is not None:
            prf = dict(self.expansion_prf)
            if prf.get("method") not in PRF_METHODS:
                raise ValueError(f"retriever.expansion_prf.method={prf.get('method')!r}; allowed: {list(PRF_METHODS)}")
            unknown = set(prf) - {"method", *PRF_PARAMETERS[str(prf["method"])]}
            if unknown:
                raise ValueError(f"retriever.expansion_prf: unknown key(s) {sorted(unknown)} for {prf['method']}; "
                                 f"allowed: {list(PRF_PARAMETERS[str(prf['method'])])}")
            check_prf_values(prf, PRF_PARAMETERS[str(prf["method"])], "retriever.expansion_prf")
            if self.combine != "concat":
                raise ValueError("retriever.expansion_prf needs retriever.combine=concat (PRF runs on one combined "
                                 f"query), got combine={self.combine!r}")

    def ranking_identity(self) -> dict[str, Any]:
        """The settings that can change a ranking (cache keys): all but chunk_size and native_threshold."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for name in EXECUTION_ONLY:
            values.pop(name)
        values["field_weights"] = dict(self.field_weights)
        if values["expansion_prf"] is not None:
            values["expansion_prf"] = dict(values["expansion_prf"])
        return values

    def describe(self) -> str:
        weights = ", ".join(f"{k}^{v:g}" for k, v in self.field_weights.items())
        how = (
            f"weighted concatenation (query x{self.query_repeat})"
            if self.combine == "concat"
            else f"RRF (k={self.rrf_k}, query weight {self.rrf_query_weight:g})"
        )
        stages = ""
        if self.expansion_prf is not None:
            prf = dict(self.expansion_prf)
            params = ", ".join(f"{k}={v}" for k, v in prf.items() if k != "method")
            stages += f", then {str(prf['method']).upper()} ({params}) on the combined query"
        if self.query_head:
            stages += f"; the raw query's top {self.query_head} head every expanded ranking"
        return f"BM25 k1={self.k1:g} b={self.b:g} over {weights}; expansions combined by {how}{stages}"


class Retriever:
    """``search(expansions, k) -> Run`` over one Lucene index."""

    def __init__(self, index_dir: Path | str, config: RetrieverConfig | None = None) -> None:
        self.index_dir = Path(index_dir)
        self.config = config or RetrieverConfig()
        if not self.index_dir.is_dir():
            raise FileNotFoundError(f"no Lucene index at {self.index_dir}")
        self._searchers: dict[tuple, Any] = {}
        self._native: NativeSearcher | None = None
        self._analyzer: Any = None

    # -- searchers -------------------------------------------------------------------------
    def _searcher(self, prf: Mapping[str, object] | None = None) -> Any:
        key = tuple(sorted((prf or {}).items()))
        if key not in self._searchers:
            ensure_java()
            from pyserini.search.lucene import LuceneSearcher  # noqa: PLC0415 - starts the JVM

            searcher = LuceneSearcher(str(self.index_dir))
            searcher.set_bm25(self.config.k1, self.config.b)
            if prf:
                _configure_prf(searcher, prf)
            self._searchers[key] = searcher
        return self._searchers[key]

    def _native_searcher(self) -> NativeSearcher:
        if self._native is None:
            c = self.config
            self._native = NativeSearcher(self.index_dir, c.k1, c.b, c.field_weights, c.threads)
        return self._native

    def searcher(self) -> Any:
        """The plain BM25 LuceneSearcher (for benchmarks and tests that compare with Pyserini)."""
        return self._searcher(None)

    def _clean(self, text: str) -> str:
        return sanitize_query(text, self.config.max_query_chars, self.config.max_query_terms)

    def _batch(self, prf: Mapping[str, object] | None, texts: Sequence[str], ids: Sequence[str], k: int,
               native: bool) -> Run:
        """One search of ``texts`` on the searcher for ``prf``, by batch_search or natively."""
        if native:
            return self._native_searcher().batch(texts, ids, k, prf)
        return self._pyserini_batch(self._searcher(prf), texts, ids, k)

    def _pyserini_batch(self, searcher: Any, texts: Sequence[str], ids: Sequence[str], k: int) -> Run:
        """One batch_search; empty strings are not sent (they rank nothing)."""
        pairs = [(t, i) for t, i in zip(texts, ids, strict=True) if t.strip()]
        run: Run = {i: {} for i in ids}
        if not pairs:
            return run
        hits = searcher.batch_search(
            [t for t, _ in pairs], [i for _, i in pairs], k=k, threads=self.config.threads,
            fields=dict(self.config.field_weights),
        )
        for qid, docs in hits.items():
            run[qid] = {h.docid: float(h.score) for h in docs}
        return run

    # -- public ----------------------------------------------------------------------------
    def search(self, expansions: Sequence[Expansion], k: int = 1000) -> Run:
        """Every query's ranking, through batch_search (exact float scores), chunk by chunk."""
        run: Run = {}
        for chunk in self.search_chunks(expansions, k, native=False):
            run.update(chunk)
        return run

    def search_chunks(self, expansions: Sequence[Expansion], k: int = 1000,
                      native: bool | None = None) -> Iterator[Run]:
        """One Run per ``chunk_size`` expansions, in their order (each Run in its chunk's order).

        ``native``: None decides by ``native_threshold`` (the whole call's size); True/False forces.
        """
        if k <= 0:
            raise ValueError(f"k must be > 0, got {k}")
        ids = [e.query_id for e in expansions]
        if len(ids) != len(set(ids)):
            raise ValueError("search: duplicate query ids in one call")
        self._check_combinable(expansions)
        size, total = self.config.chunk_size, len(expansions)
        if native is None:
            native = 0 < self.config.native_threshold <= total
        how = "SearchCollection" if native else "batch_search"
        with tqdm(total=total, desc=f"searching ({how}, k={k})", unit="q", disable=total < size) as bar:
            for start in range(0, total, size):
                chunk = expansions[start : start + size]
                run = self._search_chunk(chunk, k, native)
                bar.update(len(chunk))
                yield run

    def _search_chunk(self, expansions: Sequence[Expansion], k: int, native: bool) -> Run:
        run: Run = {}
        by_prf: dict[tuple, list[Expansion]] = defaultdict(list)
        text_expansions: list[Expansion] = []
        for e in expansions:
            prf = self._prf_of(e)
            if prf:
                by_prf[tuple(sorted(prf.items()))].append(e)
            else:
                text_expansions.append(e)
        for key, group in by_prf.items():
            texts = [self._combined_text(e) for e in group]
            run.update(self._batch(dict(key), texts, [e.query_id for e in group], k, native))
        if self.config.combine == "concat" or all(not e.texts for e in text_expansions):
            run.update(self._search_concat(text_expansions, k, native))
        else:
            run.update(self._search_rrf(text_expansions, k, native))
        if self.config.query_head:
            run = self._with_query_head(run, [e for e in expansions if not e.is_identity], k, native)
        return {e.query_id: run.get(e.query_id, {}) for e in expansions}

    def _check_combinable(self, expansions: Sequence[Expansion]) -> None:
        """Refuse, before the first chunk is searched, an expansion with both PRF and texts under rrf."""
        if self.config.combine == "concat":
            return
        for e in expansions:
            if e.prf and e.texts:
                raise ValueError(f"query {e.query_id!r}: an expansion with both PRF and texts is searched as one "
                                 f"combined query, which needs retriever.combine=concat (got {self.config.combine!r})")

    def _prf_of(self, e: Expansion) -> Mapping[str, object] | None:
        """The PRF an expansion is searched with: its own (PRF methods), else ``expansion_prf`` for one with texts."""
        if e.prf:
            return e.prf
        return self.config.expansion_prf if e.texts else None

    def _combined_text(self, e: Expansion) -> str:
        """The concat mode's one query: the original ``query_repeat`` times, then every expansion text."""
        query = self._clean(e.query.text)
        if not e.texts:
            return query
        parts = [query] * self.config.query_repeat + [self._clean(t) for t in e.texts]
        return self._clean(" ".join(p for p in parts if p))

    def _search_concat(self, expansions: Sequence[Expansion], k: int, native: bool) -> Run:
        texts = [self._combined_text(e) for e in expansions]
        return self._batch(None, texts, [e.query_id for e in expansions], k, native)

    def _with_query_head(self, run: Run, expanded: Sequence[Expansion], k: int, native: bool) -> Run:
        """Each expanded ranking headed by the raw query's own top ``query_head`` (kept in their order, scored
        above the rest); the expanded ranking follows without repeats, cut to ``k``."""
        if not expanded:
            return run
        head_n = min(self.config.query_head, k)
        raw = self._batch(None, [self._clean(e.query.text) for e in expanded], [e.query_id for e in expanded],
                          head_n, native)
        out = dict(run)
        for e in expanded:
            head = [d for d, _ in sorted(raw.get(e.query_id, {}).items(), key=lambda kv: (-kv[1], kv[0]))]
            tail = sorted(run.get(e.query_id, {}).items(), key=lambda kv: (-kv[1], kv[0]))
            in_head = set(head)
            tail = [(d, s) for d, s in tail if d not in in_head][: k - len(head)]
            top = max((s for _, s in tail), default=0.0)
            out[e.query_id] = {**{d: top + len(head) - i for i, d in enumerate(head)}, **dict(tail)}
        return out

    def _search_rrf(self, expansions: Sequence[Expansion], k: int, native: bool) -> Run:
        texts: list[str] = []
        ids: list[str] = []
        weights: dict[str, float] = {}
        for e in expansions:
            variants = [(self._clean(e.query.text), self.config.rrf_query_weight)]
            variants += [(self._clean(t), 1.0) for t in e.texts]
            for n, (text, weight) in enumerate(variants):
                sub_id = f"{e.query_id}{_SEP}{n}"
                texts.append(text)
                ids.append(sub_id)
                weights[sub_id] = weight
        sub_runs = self._batch(None, texts, ids, k, native)
        fused: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for sub_id, docs in sub_runs.items():
            qid = sub_id.split(_SEP, 1)[0]
            ranked = sorted(docs.items(), key=lambda kv: (-kv[1], kv[0]))
            for rank, (docid, _) in enumerate(ranked, start=1):
                fused[qid][docid] += weights[sub_id] / (self.config.rrf_k + rank)
        run: Run = {}
        for e in expansions:
            top = sorted(fused.get(e.query_id, {}).items(), key=lambda kv: (-kv[1], kv[0]))[:k]
            run[e.query_id] = dict(top)
        return run

    def feedback_terms(self, query_text: str, prf: Mapping[str, object]) -> dict[str, float]:
        """RM3's expanded query model for ``query_text`` (term -> weight), as Pyserini computes it."""
        terms = self._searcher(prf).get_feedback_terms(self._clean(query_text)) if prf.get("method") == "rm3" else None
        return {str(t): float(w) for t, w in (terms or {}).items()}

    def analyze(self, text: str) -> list[str]:
        """``text`` as the index reads it (Pyserini's default Lucene English analyzer: lower case, stop words
        out, Porter stems): the form RM3's feedback terms come in ("pawsom" for the brand Pawsome)."""
        if self._analyzer is None:
            ensure_java()
            from pyserini.analysis import Analyzer, get_lucene_analyzer  # noqa: PLC0415 - starts the JVM

            self._analyzer = Analyzer(get_lucene_analyzer())
        return [str(t) for t in self._analyzer.analyze(text)]

    def close(self) -> None:
        for searcher in self._searchers.values():
            searcher.close()
        self._searchers.clear()


def _configure_prf(searcher: Any, prf: Mapping[str, object]) -> None:
    params = dict(prf)
    method = params.pop("method", None)
    if method == "rm3":
        searcher.set_rm3(
            fb_terms=int(params.get("fb_terms", 10)),
            fb_docs=int(params.get("fb_docs", 10)),
            original_query_weight=float(params.get("original_query_weight", 0.5)),
        )
    elif method == "rocchio":
        searcher.set_rocchio(
            top_fb_terms=int(params.get("top_fb_terms", 10)),
            top_fb_docs=int(params.get("top_fb_docs", 10)),
            bottom_fb_terms=int(params.get("bottom_fb_terms", 10)),
            bottom_fb_docs=int(params.get("bottom_fb_docs", 10)),
            alpha=float(params.get("alpha", 1.0)),
            beta=float(params.get("beta", 0.75)),
            gamma=float(params.get("gamma", 0.0)),
        )
    else:
        raise ValueError(f"prf.method={method!r}; allowed: {list(PRF_METHODS)}")
