"""``generate_world(config) -> Dataset``: the embedded, GENERATED e-commerce world.

Deterministic: every random draw comes from ``random.Random`` objects seeded from
``config.seed`` (strings seed Python's generator through SHA-512, so results do not depend on
hash randomisation), and nothing iterates over a set. The test split is generated first so that
changing the train/valid sizes does not change it.

The knobs after ``kind_weights`` set how hard the world is. Their defaults are the default world
(built so that query expansion matters); ``conf/dataset/world_esci.yaml`` sets them to what real
catalogues look like (see docs/world.md). A knob at its default draws nothing from any random
generator, so adding one never moves the default world.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from leser_bench.data.records import Dataset, DataError, GainMapping, Query, Split, check_qrels
from leser_bench.data.world import queries as q
from leser_bench.data.world.pooling import SearchEngine, SearchPoolConfig, judge_search
from leser_bench.data.world.products import ProductTextConfig, generate_products, largest_remainder
from leser_bench.data.world.qrels import PoolConfig, TitleIndex, judge, relations
from leser_bench.data.world.shares import ESCI_LARGE_SHARES, LABELS, LabelBalancer
from leser_bench.data.world.taxonomy import all_types
from leser_bench.data.world.themes import THEMES, Theme, check_themes

#: default share of each query kind, in the order of ``queries.KINDS`` (no model-number queries).
DEFAULT_KIND_WEIGHTS = (0.16, 0.20, 0.10, 0.08, 0.16, 0.16, 0.14, 0.0)
POOLS = ("sample", "search")
_TEXT = ProductTextConfig()
_SPLIT_ORDER = ("test", "train", "valid")
_ATTEMPTS = 60
#: share of the vague-query themes reserved for the test split.
TEST_THEME_SHARE = 0.35


_PROBABILITIES = ("desc_synonym_p", "use_text_p", "title_material_p", "title_size_p", "title_color_p",
                  "title_use_p", "title_extra_name_p", "title_marketing_p", "model_number_p", "duplicate_p")


@dataclass(frozen=True)
class WorldConfig:
    seed: int = 13
    #: names the data set (``<name>-s<seed>``): profiles of the world must not share cache keys.
    name: str = "world"
    n_products: int = 6000
    n_train: int = 500
    n_test: int = 250
    n_valid: int = 0
    #: share of each query kind, in the order type, attribute, brand, specific, misspelling,
    #: accessory, vague, model.
    kind_weights: tuple[float, ...] = DEFAULT_KIND_WEIGHTS
    # -- product text (how hard the world is; defaults from ProductTextConfig) --
    desc_synonym_p: float = _TEXT.desc_synonym_p
    use_text_p: float = _TEXT.use_text_p
    title_material_p: float = _TEXT.title_material_p
    title_size_p: float = _TEXT.title_size_p
    title_color_p: float = _TEXT.title_color_p
    #: Zipf exponent over a type's names, for product titles and queries alike (0: uniform).
    surface_skew: float = _TEXT.surface_skew
    title_use_p: float = _TEXT.title_use_p
    title_extra_name_p: float = _TEXT.title_extra_name_p
    title_marketing_p: float = _TEXT.title_marketing_p
    model_number_p: float = _TEXT.model_number_p
    duplicate_p: float = _TEXT.duplicate_p
    # -- judged pool per query --
    #: ``sample``: every Exact product up to max_exact and fixed samples of the other labels;
    #: ``search``: ESCI's way, from a search engine's results (leser_bench.data.world.pooling).
    pool: str = "sample"
    # (pool=sample)
    max_exact: int = 30
    n_substitute: int = 8
    n_complement: int = 4
    n_irrelevant: int = 8
    # (pool=search)
    #: target label shares (E, S, C, I); default: ESCI's large version, rounded.
    label_shares: tuple[float, ...] = ESCI_LARGE_SHARES
    #: mean judged products per query (uniform from half to 1.5 times it, at most 40).
    judged_depth: int = 20
    #: how many of the engine's results are candidates for judging.
    engine_depth: int = 100
    #: share of judged Exact products that the engine found without the query's words (at most 0.5).
    semantic_p: float = 0.0

    def __post_init__(self) -> None:
        if self.n_products < 500:
            raise DataError(f"world: n_products={self.n_products} is too small (need >= 500)")
        if min(self.n_train, self.n_test, self.n_valid) < 0 or self.n_test == 0:
            raise DataError("world: n_train/n_valid must be >= 0 and n_test >= 1")
        if len(self.kind_weights) != len(q.KINDS) or min(self.kind_weights) < 0 or sum(self.kind_weights) <= 0:
            raise DataError(f"world: kind_weights needs {len(q.KINDS)} non-negative weights for {list(q.KINDS)}")
        for name in _PROBABILITIES:
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise DataError(f"world: {name}={getattr(self, name)} must be in [0, 1]")
        self._check_knobs()

    def _check_knobs(self) -> None:
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise DataError(f"world: name={self.name!r} must be letters, digits, '_' or '-'")
        if self.surface_skew < 0:
            raise DataError(f"world: surface_skew={self.surface_skew} must be >= 0")
        if self.kind_weights[q.KINDS.index("model")] > 0 and self.model_number_p == 0:
            raise DataError("world: kind_weights asks for model-number queries but model_number_p=0 gives no "
                            "product a model number")
        if self.pool not in POOLS:
            raise DataError(f"world: pool={self.pool!r} is not known; allowed: {list(POOLS)}")
        shares = self.label_shares
        if len(shares) != len(LABELS) or min(shares) < 0 or sum(shares) <= 0 or shares[0] <= 0:
            raise DataError(f"world: label_shares needs {len(LABELS)} non-negative shares for {list(LABELS)} "
                            f"(E > 0), got {list(shares)}")
        if not 1 <= self.judged_depth <= 40:
            raise DataError(f"world: judged_depth={self.judged_depth} must be in [1, 40]")
        if self.engine_depth < 1:
            raise DataError(f"world: engine_depth={self.engine_depth} must be >= 1")
        if not 0.0 <= self.semantic_p <= 0.5:
            raise DataError(f"world: semantic_p={self.semantic_p} must be in [0, 0.5]")

    def text_config(self) -> ProductTextConfig:
        names = [f.name for f in dataclasses.fields(ProductTextConfig) if hasattr(self, f.name)]
        return ProductTextConfig(**{n: getattr(self, n) for n in names})

    def search_pool(self) -> SearchPoolConfig:
        return SearchPoolConfig(self.label_shares, self.judged_depth, self.engine_depth, self.semantic_p)

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
    "model": q.model_query,
}


@dataclass
class _QueryMaker:
    """Makes unique, judged queries; ids are numbered in the order queries are made."""

    config: WorldConfig
    world: q.WorldIndex
    titles: TitleIndex
    rng: random.Random
    #: pool=search only: the engine whose results are judged.
    engine: SearchEngine | None = None
    seen: set[str] = field(default_factory=set)
    made: int = 0

    def make_split(self, name: str, size: int, themes: list[Theme]) -> Split:
        phrasings = [(theme, p) for theme in themes for p in theme.phrasings]
        self.rng.shuffle(phrasings)
        queries: list[Query] = []
        qrels: dict[str, dict[str, int]] = {}
        balancer = LabelBalancer(dict(zip(LABELS, self.config.label_shares, strict=True)))
        for kind in _kind_list(size, self.config.kind_weights, self.rng):
            query, pool = self._make(kind, phrasings, balancer)
            queries.append(query)
            qrels[query.id] = pool
        return Split(name, queries, qrels)

    def _judge(self, spec: q.QuerySpec, rng: random.Random, balancer: LabelBalancer) -> tuple[dict[str, int], int]:
        """The judged pool and the catalogue's number of Exact products (no pool when there are none)."""
        if self.engine is None:
            pool_config = PoolConfig(
                self.config.max_exact, self.config.n_substitute, self.config.n_complement, self.config.n_irrelevant
            )
            return judge(spec, self.world, self.titles, rng, pool_config)
        rel = relations(spec, self.world)
        if not rel.exact:
            return {}, 0
        return judge_search(spec, rel, self.engine, rng, self.config.search_pool(), balancer), len(rel.exact)

    def _make(self, kind: str, phrasings: list[tuple[Theme, str]],
              balancer: LabelBalancer) -> tuple[Query, dict[str, int]]:
        for _ in range(_ATTEMPTS):
            if kind == "vague" and phrasings:
                spec = q.vague_query(*phrasings.pop())
            else:  # vague phrasings of this split used up: an attribute query instead
                spec = _GENERATORS["attribute" if kind == "vague" else kind](self.world, self.rng)
            if spec is None or spec.text in self.seen:
                continue
            qid = f"wq{self.made + 1:05d}"
            judge_rng = random.Random(f"world-qrels-{self.config.seed}-{qid}")
            pool, n_exact = self._judge(spec, judge_rng, balancer)
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
    product_rng = random.Random(f"world-products-{config.seed}")
    items, products = generate_products(types, config.n_products, product_rng, config.text_config())
    world = q.WorldIndex.build(types, items, name_skew=config.surface_skew)
    rng = random.Random(f"world-queries-{config.seed}")
    sizes = config.split_sizes()
    themes = _themes_by_split(sizes, rng)
    engine = SearchEngine(items, products) if config.pool == "search" else None
    maker = _QueryMaker(config, world, TitleIndex(items, [p.title for p in products]), rng, engine)
    splits = {name: maker.make_split(name, size, themes[name]) for name, size in sizes.items()}

    product_ids = {p.id for p in products}
    for split in splits.values():
        check_qrels(split.qrels, split.queries, product_ids, f"world split {split.name!r}")
    profile = "" if config.name == "world" else f", profile {config.name!r}"
    return Dataset(
        name=f"{config.name}-s{config.seed}",
        products=products,
        splits=splits,
        gains=GainMapping.esci(),
        generated=True,
        description=(
            f"GENERATED data: the embedded e-commerce world (seed {config.seed}{profile}), {len(products)} synthetic "
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
