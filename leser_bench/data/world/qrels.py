"""Judge a pool of products per query with ESCI labels, as Amazon's annotators did.

- Exact (3): a product of an intended type with every attribute the intent states;
- Substitute (2): the right type with a wrong attribute, or a close type of the same category;
- Complement (1): goes with an intended product (an accessory for it, or the device an
  accessory query is for);
- Irrelevant (0): judged and wrong, mostly *hard negatives* that share a word with the query.

Like ESCI, only a pool is judged: every Exact product up to ``max_exact`` (a uniform sample
beyond that), and samples of the other labels. Unjudged products count as not relevant.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass, field

from leser_bench.data.records import ESCI_GRADES
from leser_bench.data.world.products import Item
from leser_bench.data.world.queries import QuerySpec, WorldIndex

_STOP = {"for", "my", "a", "the", "to", "of", "and", "with", "at", "what", "i", "an", "s", "size"}


@dataclass(frozen=True)
class PoolConfig:
    max_exact: int = 30
    n_substitute: int = 8
    n_complement: int = 4
    n_irrelevant: int = 8


def tokens(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP]


class TitleIndex:
    """Item positions by title word, for finding hard negatives."""

    def __init__(self, items: list[Item], titles: list[str]) -> None:
        self.items = items
        self.position = {item.pid: n for n, item in enumerate(items)}
        postings: dict[str, list[int]] = defaultdict(list)
        for n, title in enumerate(titles):
            for word in dict.fromkeys(tokens(title)):
                postings[word].append(n)
        self.postings = dict(postings)

    def sharing_words(self, text: str) -> list[Item]:
        hits = sorted({n for w in dict.fromkeys(tokens(text)) for n in self.postings.get(w, ())})
        return [self.items[n] for n in hits]


def _sample(rng: random.Random, items: list[Item], k: int) -> list[Item]:
    return items if len(items) <= k else rng.sample(items, k)


@dataclass
class Relations:
    """How the catalogue relates to one query (no randomness): the lists ``judge`` samples from."""

    intent_types: list[str]
    exact: list[Item]
    #: the right type with a wrong attribute (Substitute).
    wrong_attribute: list[Item]
    #: products of a type that can stand in for an intended one (Substitute).
    close_type: list[Item]
    complements: list[Item]
    #: intended, substitute and complement types: never judged Irrelevant.
    related: set[str]
    _exact_ids: set[str] = field(init=False, repr=False)
    _close_ids: set[str] = field(init=False, repr=False)
    _complement_ids: set[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._exact_ids = {i.pid for i in self.exact}
        self._close_ids = {i.pid for i in self.close_type}
        self._complement_ids = {i.pid for i in self.complements}

    def grade(self, item: Item) -> int:
        """The ESCI grade of any product for this query (the lists above, else Irrelevant)."""
        if item.pid in self._exact_ids:
            return ESCI_GRADES["E"]
        if item.type_key in self.intent_types or item.pid in self._close_ids:
            return ESCI_GRADES["S"]
        if item.pid in self._complement_ids:
            return ESCI_GRADES["C"]
        return ESCI_GRADES["I"]

    def irrelevant(self, item: Item) -> bool:
        """Unrelated to the query: safe to judge Irrelevant."""
        return item.type_key not in self.related and item.for_type not in self.intent_types


def relations(spec: QuerySpec, world: WorldIndex) -> Relations:
    types = world.types
    intent_types = spec.type_keys
    exact: list[Item] = []
    wrong_attribute: list[Item] = []
    for intent in spec.intents:
        constraints = intent.constraint_dict()
        for item in world.items_by_type[intent.type_key]:
            (exact if item.matches(constraints) else wrong_attribute).append(item)
    exact = list({i.pid: i for i in exact}.values())
    exact_ids = {i.pid for i in exact}
    wrong_attribute = [i for i in dict.fromkeys(wrong_attribute) if i.pid not in exact_ids]

    sub_types = [s for k in intent_types for s in types[k].substitutes if s not in intent_types]
    close_type = [i for s in dict.fromkeys(sub_types) for i in world.items_by_type[s]]
    comp_types = {c for k in intent_types for c in types[k].complements}
    comp_types |= {str(spec.extra["device_type"])} if "device_type" in spec.extra else set()
    comp_types -= set(intent_types)
    complements = [i for k in sorted(comp_types) for i in world.items_by_type[k]]
    for key, spec_type in types.items():  # accessories made for an intended device
        if key not in comp_types and key not in intent_types and set(spec_type.for_types) & set(intent_types):
            complements += [i for i in world.items_by_type[key] if i.for_type in intent_types]
    related = set(intent_types) | set(sub_types) | comp_types
    return Relations(intent_types, exact, wrong_attribute, close_type, complements, related)


def judge(spec: QuerySpec, world: WorldIndex, titles: TitleIndex, rng: random.Random,
          config: PoolConfig) -> tuple[dict[str, int], int]:
    """The judged pool (product id -> grade) and the number of Exact products in the catalogue."""
    rel = relations(spec, world)
    half = config.n_substitute // 2
    subs_a = _sample(rng, rel.wrong_attribute, half if rel.close_type else config.n_substitute)
    subs_b = _sample(rng, rel.close_type, config.n_substitute - len(subs_a))
    pool: dict[str, int] = {}
    for item in _sample(rng, rel.exact, config.max_exact):
        pool[item.pid] = ESCI_GRADES["E"]
    for item in subs_a + subs_b:
        pool[item.pid] = ESCI_GRADES["S"]
    for item in _sample(rng, rel.complements, config.n_complement):
        pool.setdefault(item.pid, ESCI_GRADES["C"])

    hard = [i for i in titles.sharing_words(spec.text) if rel.irrelevant(i)]
    negatives = _sample(rng, hard, config.n_irrelevant)
    for _ in range(20 * config.n_irrelevant):  # too few hard negatives: add random unrelated products
        if len(negatives) >= config.n_irrelevant // 2:
            break
        item = titles.items[rng.randrange(len(titles.items))]
        if item.type_key not in rel.related and item not in negatives:
            negatives.append(item)
    for item in negatives:
        pool.setdefault(item.pid, ESCI_GRADES["I"])
    return pool, len(rel.exact)
