"""Judged pools drawn from a search engine's results, as ESCI's were (the ``search`` pool).

ESCI's annotators judged products that Amazon's search returned for each query, so its judged
products mostly share the query's words: Substitutes and Irrelevants are hard negatives, and most
Exact products are ones a lexical engine already finds. Unjudged products count as not relevant,
so an expansion that brings in other Exact products scores nothing for them. That, more than the
text, is why pseudo-relevance feedback gains little on real catalogues.

:class:`SearchEngine` is that engine: idf-weighted matches of the query's words in titles (and,
less, bullets and descriptions), with noise standing for the signals text does not show (sales,
clicks). It corrects misspellings and reads model numbers typed without their dash, as shop
search does. A share of the judged Exact products (``semantic_p``) comes from outside its lexical
results: the engine's semantic matches, which share no word with the query. Label counts per query
follow the target shares through a running :class:`~leser_bench.data.world.shares.LabelBalancer`.
"""

from __future__ import annotations

import math
import random
import re
from collections import defaultdict
from dataclasses import dataclass

from leser_bench.data.records import ESCI_GRADES, Product
from leser_bench.data.world.products import Item
from leser_bench.data.world.qrels import Relations, tokens
from leser_bench.data.world.queries import QuerySpec
from leser_bench.data.world.shares import ESCI_MAX_DEPTH, LABELS, LabelBalancer

#: log-normal noise on engine scores (standing for behavioural ranking signals).
ENGINE_NOISE = 0.25
#: weight of a word found in bullets or description only, against 1 for the title.
BODY_WEIGHT = 0.3
_LETTER = {grade: letter for letter, grade in ESCI_GRADES.items()}


@dataclass(frozen=True)
class SearchPoolConfig:
    #: target label shares (E, S, C, I).
    label_shares: tuple[float, ...]
    #: mean judged products per query (drawn uniformly from half to 1.5 times it, at most 40).
    depth: int
    #: how many of the engine's results are candidates for judging.
    engine_depth: int
    #: share of judged Exact products taken from outside the engine's lexical results.
    semantic_p: float

    def depth_range(self) -> tuple[int, int]:
        return max(1, round(0.5 * self.depth)), min(ESCI_MAX_DEPTH, max(1, round(1.5 * self.depth)))


class SearchEngine:
    """A small lexical product search over the world's catalogue (see the module docstring)."""

    def __init__(self, items: list[Item], products: list[Product]) -> None:
        self.items = items
        postings: dict[str, dict[int, float]] = defaultdict(dict)
        for n, product in enumerate(products):
            for word in tokens(f"{product.description} {product.bullets}"):
                postings[word][n] = BODY_WEIGHT
            for word in tokens(product.title):
                postings[word][n] = 1.0
        self.postings = dict(postings)
        self.idf = {w: math.log(1 + len(products) / len(p)) for w, p in self.postings.items()}

    def search(self, text: str, depth: int, rng: random.Random) -> list[Item]:
        scores: dict[int, float] = defaultdict(float)
        for word in dict.fromkeys(tokens(text)):
            for n, weight in self.postings.get(word, {}).items():
                scores[n] += self.idf[word] * weight
        noisy = sorted((-score * math.exp(ENGINE_NOISE * rng.gauss(0.0, 1.0)), n) for n, score in scores.items())
        return [self.items[n] for _, n in noisy[:depth]]


def engine_text(spec: QuerySpec) -> str:
    """What the engine understands: the query with its typo corrected and its model number whole."""
    text = spec.text
    if "typo" in spec.extra:
        text = re.sub(rf"\b{re.escape(str(spec.extra['typo']))}\b", str(spec.extra["correct"]), text)
    for intent in spec.intents:
        model = intent.constraint_dict().get("model")
        if model:
            text = f"{text} {model}"
    return text


def _exact_candidates(ranked_exact: list[Item], semantic: list[Item], p: float, rng: random.Random) -> list[Item]:
    """The engine's Exact results in rank order, with a semantic match slipped in before each with
    odds ``p / (1 - p)`` (so about a share ``p`` of them); at least one Exact when any exists."""
    odds = min(1.0, p / (1.0 - p)) if p < 1.0 else 1.0
    out: list[Item] = []
    extra = iter(semantic)
    for item in ranked_exact:
        if odds and rng.random() < odds:
            match = next(extra, None)
            if match is not None:
                out.append(match)
        out.append(item)
    if not out and semantic:
        out.append(semantic[0])
    return out


def judge_search(spec: QuerySpec, rel: Relations, engine: SearchEngine, rng: random.Random,
                 config: SearchPoolConfig, balancer: LabelBalancer) -> dict[str, int]:
    """The judged pool (product id -> grade) of one query with at least one Exact product."""
    ranked = engine.search(engine_text(spec), config.engine_depth, rng)
    by_label: dict[str, list[Item]] = {label: [] for label in LABELS}
    for item in ranked:
        by_label[_LETTER[rel.grade(item)]].append(item)
    found = {i.pid for i in ranked}
    semantic = [i for i in rel.exact if i.pid not in found]
    rng.shuffle(semantic)
    by_label["E"] = _exact_candidates(by_label["E"], semantic, config.semantic_p, rng)
    depth = rng.randint(*config.depth_range())
    counts = balancer.counts(depth, {label: len(items) for label, items in by_label.items()}, reserved={"E": 1})
    return {item.pid: ESCI_GRADES[label] for label in LABELS for item in by_label[label][: counts[label]]}
