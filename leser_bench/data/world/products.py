"""Products of the embedded world: attributes drawn at random, then rendered as ESCI-like text.

Each product is named in its title by ONE surface name of its type; the description sometimes
uses another one. A query that uses a different synonym therefore misses many of the right
products under BM25, which is what gives query expansion something to do.

The knobs of :class:`ProductTextConfig` that default to 0 write real catalogues' habits (the
ESCI-calibrated profile sets them, see :mod:`leser_bench.data.world.listings`): a dominant name per
type, long titles that repeat other names of the type and marketing words, model numbers, and
near-duplicate listings of one product. At 0 they draw nothing, so the default world is unchanged.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from leser_bench.data.records import Product
from leser_bench.data.world import listings
from leser_bench.data.world.taxonomy import AUDIENCE_WORDS, ProductType
from leser_bench.data.world.vocabulary import BRANDS, CARE_BULLETS, FILLERS, HOUSE_BRANDS, INTROS, USE_PHRASES

_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class ProductTextConfig:
    """How product text is written (the knobs that set how hard the world is)."""

    #: chance the description names the product by another synonym of its type.
    desc_synonym_p: float = 0.35
    #: chance each of material / size / colour also appears in the title.
    title_material_p: float = 0.6
    title_size_p: float = 0.6
    title_color_p: float = 0.7
    #: chance the product's use is written in its bullets (otherwise it is a hidden facet).
    use_text_p: float = 0.5
    #: chance a product is sold by a house brand rather than a category brand.
    house_brand_p: float = 0.08
    #: Zipf exponent over a type's surface names (0: all equally likely; higher: the first name dominates).
    surface_skew: float = 0.0
    #: chance the product's use is also written in its title ("... for Running").
    title_use_p: float = 0.0
    #: chance each other surface name of the type is appended to the title (sellers' keyword stuffing).
    title_extra_name_p: float = 0.0
    #: chance the title carries a marketing phrase ("Upgraded", "Pack of 2").
    title_marketing_p: float = 0.0
    #: chance a product has a model number (in its title and bullets).
    model_number_p: float = 0.0
    #: chance a listing is followed by a near-duplicate listing of the same product (repeatable).
    duplicate_p: float = 0.0


@dataclass(frozen=True)
class Item:
    """The ground truth about one product (what qrels are judged on)."""

    pid: str
    type_key: str
    surface: str
    brand: str
    color: str = ""
    material: str = ""
    size: str = ""
    features: tuple[str, ...] = ()
    use: str = ""
    audience: str = ""
    for_type: str = ""
    for_surface: str = ""
    #: model number ("SO-4410B"); near-duplicate listings of one product share it.
    model: str = ""

    def value(self, slot: str) -> str | tuple[str, ...]:
        return getattr(self, "features" if slot == "feature" else slot)

    def matches(self, constraints: dict[str, str]) -> bool:
        for slot, wanted in constraints.items():
            if slot == "feature":
                if wanted not in self.features:
                    return False
            elif getattr(self, slot) != wanted:
                return False
        return True


def largest_remainder(weights: list[float], total: int) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder; ties to the first; all-zero
    weights get nothing)."""
    weight_sum = sum(weights)
    if weight_sum == 0:
        return [0] * len(weights)
    exact = [total * w / weight_sum for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _brand(spec: ProductType, rng: random.Random, config: ProductTextConfig) -> str:
    if rng.random() < config.house_brand_p:
        return rng.choice(HOUSE_BRANDS)
    brands = BRANDS[spec.category]
    # a few brands dominate each category, as in real catalogues
    weights = [1.0 / (rank + 1) ** 0.7 for rank in range(len(brands))]
    return rng.choices(brands, weights=weights)[0]


def pick_name(names: tuple[str, ...], rng: random.Random, skew: float) -> str:
    """One surface name: uniform at ``skew`` 0 (one ``rng.choice``), else Zipf-weighted by rank."""
    if not skew:
        return rng.choice(names)
    return rng.choices(names, weights=[1.0 / (rank + 1) ** skew for rank in range(len(names))])[0]


def draw_item(pid: str, spec: ProductType, types: dict[str, ProductType], rng: random.Random,
              config: ProductTextConfig) -> Item:
    surface = pick_name(spec.names, rng, config.surface_skew)
    use = spec.name_uses.get(surface) or (rng.choice(spec.uses) if spec.uses else "")
    n_features = min(len(spec.features), rng.choices((0, 1, 2), weights=(0.3, 0.5, 0.2))[0])
    features = tuple(sorted(rng.sample(spec.features, n_features), key=spec.features.index))
    for_type = rng.choice(spec.for_types) if spec.for_types else ""
    return Item(
        pid=pid,
        type_key=spec.key,
        surface=surface,
        brand=_brand(spec, rng, config),
        color=rng.choice(spec.colors) if spec.colors else "",
        material=rng.choice(spec.materials) if spec.materials else "",
        size=rng.choice(spec.sizes) if spec.sizes else "",
        features=features,
        use=use,
        audience=rng.choice(spec.audiences) if spec.audiences else "",
        for_type=for_type,
        for_surface=rng.choice(types[for_type].names) if for_type else "",
    )


def new_pid(rng: random.Random, seen: set[str]) -> str:
    """An ASIN-like id (``B0`` + 8 characters), unique within ``seen``."""
    while True:
        pid = "B0" + "".join(rng.choice(_ID_ALPHABET) for _ in range(8))
        if pid not in seen:
            seen.add(pid)
            return pid


def title_case(text: str) -> str:
    return " ".join(w if re.search(r"\d", w) else w[:1].upper() + w[1:] for w in text.split())


def render(item: Item, spec: ProductType, types: dict[str, ProductType], rng: random.Random,
           config: ProductTextConfig) -> Product:
    """Write the title, description and bullets of one product."""
    name = item.surface
    head = [item.brand, item.model] if item.model else [item.brand]
    if item.audience:
        head.append(AUDIENCE_WORDS[item.audience])
    head += [title_case(f) for f in item.features]
    if item.material and rng.random() < config.title_material_p:
        head.append(title_case(item.material))
    head.append(title_case(name))
    if item.for_type:
        head.append(f"for {title_case(item.for_surface)}")
    if item.use and config.title_use_p and item.use not in name and rng.random() < config.title_use_p:
        head.append(f"for {title_case(item.use)}")
    tail = []
    if item.size and rng.random() < config.title_size_p:
        tail.append(item.size if any(c.isdigit() for c in item.size) else f"Size {title_case(item.size)}")
    if item.color and rng.random() < config.title_color_p:
        tail.append(title_case(item.color))
    tail += [title_case(extra) for extra in listings.title_extras(name, spec, rng, config)]
    title = " ".join(head) + (", " + ", ".join(tail) if tail else "")

    desc_name = name
    if rng.random() < config.desc_synonym_p:
        desc_name = rng.choice([n for n in spec.names if n != name])
    sentences = [rng.choice(INTROS[spec.category]).format(brand=item.brand, name=desc_name)]
    if item.material:
        sentences.append(f"Made with {item.material} for lasting quality.")
    if item.features:
        sentences.append(f"Features: {', '.join(item.features)}.")
    if item.for_type:
        other = rng.choice(types[item.for_type].names)
        sentences.append(f"Compatible with most {other} models.")
    sentences += rng.sample(FILLERS, 2)

    bullets = [f"MODEL: {item.model}"] if item.model else []
    if item.material:
        bullets.append(f"{spec.material_label.upper()}: {item.material}")
    if item.size:
        bullets.append(f"SIZE: {item.size}")
    for feature in item.features:
        bullets.append(f"{feature.upper()}: thoughtfully designed, tested for daily use")
    if item.use and rng.random() < config.use_text_p:
        bullets.append(rng.choice(USE_PHRASES).format(use=item.use))
    bullets.append(rng.choice(CARE_BULLETS).format(name=name))
    return Product(
        id=item.pid,
        title=title,
        description=" ".join(sentences),
        bullets="\n".join(bullets),
        brand=item.brand,
        color=item.color,
        product_type=spec.key,
    )


def generate_products(types: dict[str, ProductType], n_products: int, rng: random.Random,
                      config: ProductTextConfig) -> tuple[list[Item], list[Product]]:
    """``n_products`` items over all types (by weight), shuffled, with their rendered products."""
    specs = list(types.values())
    seen: set[str] = set()
    models: set[str] = set()
    items: list[Item] = []
    for spec, count in zip(specs, largest_remainder([t.weight for t in specs], n_products), strict=True):
        made: list[Item] = []
        while len(made) < count:
            item = listings.with_model(draw_item(new_pid(rng, seen), spec, types, rng, config), rng, config, models)
            made += [item, *listings.near_duplicates(item, spec, count - len(made) - 1, rng, config,
                                                      lambda: new_pid(rng, seen))]
        items.extend(made)
    rng.shuffle(items)
    products = [render(item, types[item.type_key], types, rng, config) for item in items]
    return items, products
