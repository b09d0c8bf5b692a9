"""Write examples/vaswani_tfidf.trec: a TF-IDF cosine run over Vaswani (not Lucene BM25), top 20 per
query, standing in for "another tool's run" in the README's run_file example. Needs scikit-learn.

    .venv/bin/python examples/make_tfidf_run.py ../shared/data/vaswani examples/vaswani_tfidf.trec
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer

DEPTH = 20


def records(path: Path, tag: str, body: str) -> list[tuple[str, str]]:
    text = path.read_text(encoding="utf-8")
    return [(i.strip(), t.strip()) for i, t in re.findall(rf"<{tag}>(.*?)</{tag}>(.*?)</{body}>", text, re.S)]


def main(data: Path, out: Path) -> None:
    docs = records(data / "doc-text.trec", "DOCNO", "DOC")
    queries = [(i, re.sub(r"</?title>", " ", t)) for i, t in records(data / "query-text.trec", "num", "top")]
    vectorizer = TfidfVectorizer(sublinear_tf=True, stop_words="english")
    doc_matrix = vectorizer.fit_transform([t for _, t in docs])
    scores = (vectorizer.transform([t for _, t in queries]) @ doc_matrix.T).toarray()
    lines = []
    for (qid, _), row in zip(queries, scores):
        top = sorted(range(len(docs)), key=lambda j: (-row[j], docs[j][0]))[:DEPTH]
        lines += [f"{qid} Q0 {docs[j][0]} {rank} {row[j]:.6f} tfidf" for rank, j in enumerate(top, 1)]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
