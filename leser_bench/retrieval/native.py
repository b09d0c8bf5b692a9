"""Anserini's own ``SearchCollection``, run inside the JVM Pyserini started, for large batches.

Why: at k=1000 most of ``batch_search``'s time is the hits crossing from Java to Python one
attribute at a time through pyjnius (measured 13 vs 26 q/s, DESIGN.md section 5).
``SearchCollection`` searches the same index with the same Lucene code and writes a TREC run file,
which is read back here in one pass.

What makes it the *same* search as ``LuceneSearcher.batch_search(..., fields=...)`` (checked by
tests/test_native.py on real indexes; bytecode of the Anserini 1.7.1 fatjar read to find them):

- BM25 ``-bm25 -bm25.k1 -bm25.b`` = ``set_bm25(k1, b)`` (Lucene's BM25Similarity in both);
- ``-fields name=boost ...`` (SearchCollection splits each on ``=``) = ``fields={name: boost}``:
  both build the query with the bag-of-words generator over those fields;
- ties: both sort by score then docid (``BREAK_SCORE_TIES_BY_DOCID``) and both end with
  ``ScoreTiesAdjusterReranker`` (scores rounded to 4 decimals, ties perturbed by 1e-6);
- RM3: SimpleSearcher takes its feedback documents from an initial search of depth
  ``rerankCutoff`` (Args default 50) when RM3 is on, else of depth k -- so Rocchio needs
  ``-rerankCutoff k``, RM3 keeps the default;
- the topic file is ``-topicReader TsvString`` (``id<TAB>text``, trimmed). Texts are sanitised
  (:mod:`.sanitize`: single spaces, no control characters), and ids are replaced by ``q<n>`` so any
  query id -- spaces, tabs, unicode -- survives the TSV and the TREC file.

Scores come back as the TREC file's ``%.6f`` text: the same text :func:`leser_bench.io.trec.write_run`
writes for a ``batch_search`` run, i.e. they equal batch_search's float scores to 5e-7 (float32
keeps about 7 significant digits). Rankings (docids and order) are identical.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from leser_bench.retrieval.java import ensure_java

Run = dict[str, dict[str, float]]
_WHITESPACE = re.compile(r"\s+")


def _number(value: object) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def prf_args(prf: Mapping[str, object] | None, k: int) -> list[str]:
    """SearchCollection flags for Pyserini's ``set_rm3``/``set_rocchio`` with the same values
    (defaults as in :func:`leser_bench.retrieval.retriever._configure_prf`)."""
    if not prf:
        return []
    method = prf.get("method")
    if method == "rm3":
        return ["-rm3", "-rm3.fbTerms", str(int(prf.get("fb_terms", 10))),
                "-rm3.fbDocs", str(int(prf.get("fb_docs", 10))),
                "-rm3.originalQueryWeight", _number(float(prf.get("original_query_weight", 0.5)))]
    if method == "rocchio":
        # SimpleSearcher's initial ranking for Rocchio is k deep (its rerankCutoff applies to RM3 only)
        return ["-rocchio", "-rocchio.topFbTerms", str(int(prf.get("top_fb_terms", 10))),
                "-rocchio.topFbDocs", str(int(prf.get("top_fb_docs", 10))),
                "-rocchio.bottomFbTerms", str(int(prf.get("bottom_fb_terms", 10))),
                "-rocchio.bottomFbDocs", str(int(prf.get("bottom_fb_docs", 10))),
                "-rocchio.alpha", _number(float(prf.get("alpha", 1.0))),
                "-rocchio.beta", _number(float(prf.get("beta", 0.75))),
                "-rocchio.gamma", _number(float(prf.get("gamma", 0.0))),
                "-rerankCutoff", str(int(k))]
    raise ValueError(f"prf.method={method!r}; allowed: ['rm3', 'rocchio']")


class NativeSearcher:
    """``batch(texts, ids, k, prf) -> Run`` through Anserini's SearchCollection on one index."""

    def __init__(self, index_dir: Path | str, k1: float, b: float, field_weights: Mapping[str, float],
                 threads: int) -> None:
        self.index_dir = Path(index_dir)
        self.k1, self.b, self.threads = float(k1), float(b), int(threads)
        self.field_weights = dict(field_weights)

    def args(self, topics: Path, output: Path, k: int, prf: Mapping[str, object] | None = None) -> list[str]:
        argv = ["-index", str(self.index_dir), "-topics", str(topics), "-topicReader", "TsvString",
                "-output", str(output), "-hits", str(int(k)), "-threads", str(self.threads),
                "-bm25", "-bm25.k1", _number(self.k1), "-bm25.b", _number(self.b), "-runtag", "native"]
        if self.field_weights:
            argv += ["-fields", *(f"{name}={_number(float(w))}" for name, w in self.field_weights.items())]
        return argv + prf_args(prf, k)

    def batch(self, texts: Sequence[str], ids: Sequence[str], k: int,
              prf: Mapping[str, object] | None = None) -> Run:
        """One SearchCollection run; empty texts are not sent (they rank nothing), as in batch_search."""
        run: Run = {i: {} for i in ids}
        sent = [(t, i) for t, i in zip(texts, ids, strict=True) if t.strip()]
        if not sent:
            return run
        with tempfile.TemporaryDirectory(prefix="leser-native-") as tmp:
            topics, output = Path(tmp) / "topics.tsv", Path(tmp) / "run.trec"
            lines = [f"q{n}\t{_WHITESPACE.sub(' ', t).strip()}\n" for n, (t, _) in enumerate(sent)]
            topics.write_text("".join(lines), encoding="utf-8")
            _run_search_collection(self.args(topics, output, k, prf))
            with open(output, encoding="utf-8") as handle:
                for line in handle:
                    qid, _, docid, _, score, _ = line.split()
                    run[sent[int(qid[1:])][1]][docid] = float(score)
        return run


def _run_search_collection(argv: list[str]) -> None:
    ensure_java()
    import pyserini.search.lucene  # noqa: F401,PLC0415 - starts the JVM with Pyserini's options and jar
    from jnius import autoclass  # noqa: PLC0415

    args = autoclass("io.anserini.search.SearchCollection$Args")()
    jlist: Any = autoclass("java.util.ArrayList")()
    for a in argv + ["-quiet"]:
        jlist.add(a)
    autoclass("org.kohsuke.args4j.CmdLineParser")(args).parseArgument(jlist)
    search = autoclass("io.anserini.search.SearchCollection")(args)
    try:
        search.run()
    finally:
        search.close()
