"""Few-shot examples for the prompted baseline, built from the TRAIN split only.

An example is a train query with target expansions derived from the data, never from the
evaluated split:

- ``titles`` (default, works on any catalogue, ESCI included): the product-type phrases of the
  query's Exact-labelled train products — the last word and the last two words of each title's
  first segment (before the first comma; the rest is size/colour: the head of an English noun
  phrase comes last), dropping phrases with the query's own words, brands, colours or stop words;
  ranked by how many of those products use them (a two-word phrase counts 1.5 times), a phrase
  overlapping one already chosen skipped.
- ``meta``: the query's ``meta["oracle_terms"]`` (the embedded world knows each query's product-type
  synonyms), without the query's own wording.

The pool of usable examples holds the train queries with at least ``min_exact`` Exact products and
at least two targets. ``selection: similar`` (default) gives each query the ``k`` pool queries most
like it (Jaccard similarity of character trigrams, robust to typos; ties in a seeded order);
``selection: random`` gives every query the same ``k`` examples, drawn seeded.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from leser_bench.data.records import Dataset, Product, Query
from leser_bench.policy.rules import tokens

SOURCES = ("titles", "meta")
SELECTIONS = ("similar", "random")
STOPWORDS = frozenset(
    "a an and the for with of in on to by from at or as is are be this that these those your you our "
    "new set pack pcs piece pieces inch cm mm oz lb kg ml size".split()
)


@dataclass(frozen=True)
class FewShotConfig:
    #: number of examples in each prompt.
    k: int = 2
    source: str = "titles"
    selection: str = "similar"
    #: the split examples are drawn from; must not be the evaluated split.
    split: str = "train"
    #: a candidate query needs at least this many Exact products (grade >= the relevant grade).
    min_exact: int = 3
    #: target expansions per example.
    n_targets: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        if self.k < 1 or self.min_exact < 1 or self.n_targets < 1:
            raise ValueError("few_shot.k, few_shot.min_exact and few_shot.n_targets must be >= 1")
        if self.source not in SOURCES:
            raise ValueError(f"few_shot.source must be one of {SOURCES}, got {self.source!r}")
        if self.selection not in SELECTIONS:
            raise ValueError(f"few_shot.selection must be one of {SELECTIONS}, got {self.selection!r}")


def title_targets(query: Query, products: Sequence[Product], n: int) -> list[str]:
    """Product-type phrases shared by ``products``' titles (see the module docstring)."""
    excluded = set(tokens(query.text)) | STOPWORDS
    for p in products:
        excluded |= set(tokens(p.brand)) | set(tokens(p.color))
    counts: Counter[tuple[str, ...]] = Counter()
    for p in products:
        words = [w for w in tokens(p.title.split(",")[0]) if w.isalpha()]
        # the head of an English noun phrase is its last word: "... Stainless Steel Coffee Maker"
        grams = {tuple(words[-size:]) for size in (1, 2) if len(words) >= size}
        counts.update(g for g in grams if all(len(w) > 2 and w not in excluded for w in g))
    ranked = sorted(counts, key=lambda g: (-counts[g] * (1.5 if len(g) == 2 else 1.0), g))
    chosen: list[tuple[str, ...]] = []
    for gram in ranked:
        if counts[gram] < 2 and chosen:
            break  # a phrase one product uses is noise once something is chosen
        if any(set(gram) <= set(c) or set(c) <= set(gram) for c in chosen):
            continue
        chosen.append(gram)
        if len(chosen) == n:
            break
    return [" ".join(g) for g in chosen]


def meta_targets(query: Query, n: int) -> list[str]:
    terms = query.meta.get("oracle_terms") or []
    query_words = set(tokens(query.text))
    out = [str(t) for t in terms if set(tokens(str(t))) - query_words]
    return out[:n]


Example = tuple[Query, list[str]]


def example_pool(dataset: Dataset, config: FewShotConfig, relevant_grade: int) -> list[Example]:
    """Every usable (query, targets) pair of ``config.split``, in a seeded order; reads no other split."""
    split = dataset.split(config.split)
    products = dataset.product_index()
    pool: list[Example] = []
    for query in split.queries:
        exact = [products[pid] for pid, grade in sorted(split.qrels.get(query.id, {}).items())
                 if grade >= relevant_grade and pid in products]
        if len(exact) < config.min_exact:
            continue
        targets = (title_targets(query, exact, config.n_targets) if config.source == "titles"
                   else meta_targets(query, config.n_targets))
        if len(targets) >= 2:
            pool.append((query, targets))
    if len(pool) < config.k:
        raise ValueError(f"few_shot: split {config.split!r} has {len(pool)} usable example queries "
                         f"(>= {config.min_exact} Exact products, >= 2 targets from {config.source!r}); "
                         f"{config.k} are needed")
    random.Random(config.seed).shuffle(pool)
    return pool


def trigrams(text: str) -> set[str]:
    padded = f"  {' '.join(tokens(text))} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def choose_examples(query: Query, pool: Sequence[Example], config: FewShotConfig) -> list[Example]:
    """The examples shown with ``query`` (see the module docstring)."""
    if config.selection == "random":
        return list(pool[: config.k])
    grams = trigrams(query.text)

    def similarity(example: Example) -> float:
        other = trigrams(example[0].text)
        return len(grams & other) / len(grams | other) if grams or other else 0.0

    # ties keep the seeded order; a train query worded exactly like this one is not shown
    ranked = sorted(range(len(pool)), key=lambda i: (-similarity(pool[i]), i))
    return [pool[i] for i in ranked if pool[i][0].text != query.text][: config.k]
