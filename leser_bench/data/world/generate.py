"""``generate_world(config) -> Dataset``: the embedded, GENERATED e-commerce world.

Deterministic: every random draw comes from ``random.Random`` objects seeded from
``config.seed`` (strings seed Python's generator through SHA-512, so results do not depend on
hash randomisation), and nothing iterates over a set. The test split is generated first so that
changing the train/valid sizes does not change it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from leser_bench.data.records import Dataset, DataError, GainMapping, Query, Split, check_qrels
from leser_bench.data.world import queries as q
from leser_bench.data.world.products import ProductTextConfig, generate_products, largest_remainder
from leser_bench.data.world.qrels import PoolConfig, TitleIndex, judge
from leser_bench.data.world.taxonomy import all_types
from leser_bench.data.world.themes import THEMES, Theme, check_themes

#: default share of each query kind, in the order of ``queries.KINDS``.
DEFAULT_KIND_WEIGHTS = (0.16, 0.20, 0.10, 0.08, 0.16, 0.16, 0.14)
_SPLIT_ORDER = ("test", "train", "valid")
_ATTEMPTS = 60
#: share of the vague-query themes reserved for the test split.
TEST_THEME_SHARE = 0.35


@dataclass(frozen=True)
class WorldConfig:
    seed: int = 13
    n_products: int = 6000
    n_train: int = 500
    n_test: int = 250
    n_valid: int = 0
    #: share of each query kind, in the order type, attribute, brand, specific, misspelling,
    #: accessory, vague.
    kind_weights: tuple[float, ...] = DEFAULT_KIND_WEIGHTS
    # -- product text (how hard the world is) --
    desc_synonym_p: float = 0.35
    use_text_p: float = 0.5
    # -- judged pool per query --
    max_exact: int = 30
    n_substitute: int = 8
    n_complement: int = 4
    n_irrelevant: int = 8

    def __post_init__(self) -> None:
        if self.n_products < 500:
            raise DataError(f"world: n_products={self.n_products} is too small (need >= 500)")
        if min(self.n_train, self.n_test, self.n_valid) < 0 or self.n_test == 0:
            raise DataError("world: n_train/n_valid must be >= 0 and n_test >= 1")
        if len(self.kind_weights) != len(q.KINDS) or min(self.kind_weights) < 0 or sum(self.kind_weights) <= 0:
            raise DataError(f"world: kind_weights needs {len(q.KINDS)} non-negative weights for {list(q.KINDS)}")
        for name in ("desc_synonym_p", "use_text_p"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise DataError(f"world: {name}={getattr(self, name)} must be in [0, 1]")

    def split_sizes(self) -> dict[str, int]:
        sizes = {"test": self.n_test, "train": self.n_train, "valid": self.n_valid}
        return {name: sizes[name] for name in _SPLIT_ORDER if sizes[name] > 0}


def _themes_by_split(sizes: dict[str, int], rng: random.Random) -> dict[str, list[Theme]]:
    """Each theme belongs to one split, so vague test intents are never seen in training.

    The test split always gets the same share of the themes, so its queries do not depend on
    the sizes of the other splits; train and valid share the rest by size.
    """
    themes = list(THEMES)
    rng.shuffle(themes)
    n_test = round(len(themes) * TEST_THEME_SHARE)
    out = {"test": themes[:n_test]}
    rest = [name for name in sizes if name != "test"]
    if rest:
        shares = largest_remainder([float(sizes[n]) for n in rest], len(themes) - n_test)
        start = n_test
        for name, count in zip(rest, shares, strict=True):
            out[name] = themes[start : start + count]
            start += count
    return out


def _kind_list(n: int, weights: tuple[float, ...], rng: random.Random) -> list[str]:
    counts = largest_remainder(list(weights), n)
    kinds = [kind for kind, count in zip(q.KINDS, counts, strict=True) for _ in range(count)]
    rng.shuffle(kinds)
    return kinds


_GENERATORS: dict[str, Callable[[q.WorldIndex, random.Random], q.QuerySpec | None]] = {
    "type": q.type_query,
    "attribute": q.attribute_query,
    "brand": q.brand_query,
    "specific": q.specific_query,
    "misspelling": q.misspelling_query,
    "accessory": q.accessory_query,
}


@dataclass
class _QueryMaker:
    """Makes unique, judged queries; ids are numbered in the order queries are made."""

    config: WorldConfig
    world: q.WorldIndex
    titles: TitleIndex
    rng: random.Random
    seen: set[str] = field(default_factory=set)
    made: int = 0

    def make_split(self, name: str, size: int, themes: list[Theme]) -> Split:
        phrasings = [(theme, p) for theme in themes for p in theme.phrasings]
        self.rng.shuffle(phrasings)
        queries: list[Query] = []
        qrels: dict[str, dict[str, int]] = {}
        for kind in _kind_list(size, self.config.kind_weights, self.rng):
            query, pool = self._make(kind, phrasings)
            queries.append(query)
            qrels[query.id] = pool
        return Split(name, queries, qrels)

    def _make(self, kind: str, phrasings: list[tuple[Theme, str]]) -> tuple[Query, dict[str, int]]:
        pool_config = PoolConfig(
            self.config.max_exact, self.config.n_substitute, self.config.n_complement, self.config.n_irrelevant
        )
        for _ in range(_ATTEMPTS):
            if kind == "vague" and phrasings:
                spec = q.vague_query(*phrasings.pop())
            else:  # vague phrasings of this split used up: an attribute query instead
                spec = _GENERATORS["attribute" if kind == "vague" else kind](self.world, self.rng)
            if spec is None or spec.text in self.seen:
                continue
            qid = f"wq{self.made + 1:05d}"
            judge_rng = random.Random(f"world-qrels-{self.config.seed}-{qid}")
            pool, n_exact = judge(spec, self.world, self.titles, judge_rng, pool_config)
            if n_exact == 0:
                continue
            self.made += 1
            self.seen.add(spec.text)
            return Query(qid, spec.text, _meta(spec, self.world.types, n_exact)), pool
        raise DataError(f"world: could not make a new {kind!r} query in {_ATTEMPTS} attempts (seed {self.config.seed})")


def generate_world(config: WorldConfig | None = None) -> Dataset:
    config = config or WorldConfig()
    types = all_types()
    check_themes(types)
    text_config = ProductTextConfig(desc_synonym_p=config.desc_synonym_p, use_text_p=config.use_text_p)
    product_rng = random.Random(f"world-products-{config.seed}")
    items, products = generate_products(types, config.n_products, product_rng, text_config)
    world = q.WorldIndex.build(types, items)
    rng = random.Random(f"world-queries-{config.seed}")
    sizes = config.split_sizes()
    themes = _themes_by_split(sizes, rng)
    maker = _QueryMaker(config, world, TitleIndex(items, [p.title for p in products]), rng)
    splits = {name: maker.make_split(name, size, themes[name]) for name, size in sizes.items()}

    product_ids = {p.id for p in products}
    for split in splits.values():
        check_qrels(split.qrels, split.queries, product_ids, f"world split {split.name!r}")
    return Dataset(
        name=f"world-s{config.seed}",
        products=products,
        splits=splits,
        gains=GainMapping.esci(),
        generated=True,
        description=(
            f"GENERATED data: the embedded e-commerce world (seed {config.seed}), {len(products)} synthetic "
            f"products of {len(types)} types with several synonyms each, ESCI-style E/S/C/I judgments."
        ),
    )


def _meta(spec: q.QuerySpec, types: dict, n_exact: int) -> dict[str, object]:
    return {
        "kind": spec.kind,
        "product_types": spec.type_keys,
        "oracle_terms": q.oracle_terms(spec, types),
        "intents": [{"type": i.type_key, **i.constraint_dict()} for i in spec.intents],
        "n_exact": n_exact,
        **spec.extra,
    }
