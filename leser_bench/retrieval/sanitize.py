"""Make any string safe to hand to Lucene.

Queries reach Lucene through Anserini's bag-of-words generator, which analyses text rather than
parsing query syntax; still, LLM output can hold control characters, lone surrogates, 20k-char
blobs, or thousands of distinct words (each a Boolean clause per searched field, and Lucene
refuses more than 1,024 clauses). So every string is normalised, stripped of query-parser
syntax, and bounded in length and in distinct terms before it is sent.
"""

from __future__ import annotations

import re
import unicodedata

#: characters with a meaning in Lucene's classic query parser, and other punctuation.
_SYNTAX = re.compile(r"""[+\-&|!(){}\[\]^"~*?:\\/<>=,;'`@#$%]""")
_SPACE = re.compile(r"\s+")
#: boolean operators that would be parsed as such by a query parser.
_OPERATORS = {"AND", "OR", "NOT", "TO"}


def _visible(ch: str) -> bool:
    category = unicodedata.category(ch)
    return not (category.startswith("C") or category in {"Zl", "Zp"})


def sanitize_query(text: str, max_chars: int = 2000, max_terms: int = 256) -> str:
    """Plain words only: NFKC-normalised, no control or syntax characters, bounded size.

    ``max_terms`` bounds the number of *distinct* words kept (repeats are kept: Anserini's
    bag-of-words generator turns a repeated word into a boost, which weighted concatenation uses).
    """
    if not isinstance(text, str):
        text = str(text)
    text = text[: max_chars * 2]
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch if _visible(ch) else " " for ch in text)
    text = text.encode("utf-8", "ignore").decode("utf-8")  # drops lone surrogates
    text = _SYNTAX.sub(" ", text)
    words = [w for w in _SPACE.split(text[:max_chars]) if w]
    kept: list[str] = []
    distinct: set[str] = set()
    for word in words:
        key = word.lower()
        if key not in distinct:
            if len(distinct) >= max_terms:
                continue
            distinct.add(key)
        kept.append(word.lower() if word in _OPERATORS else word)
    return " ".join(kept)
