"""Queries of the embedded world, one generator per kind.

Every query is built from what the catalogue really holds (an *anchor* product for specific
queries), so each has at least one Exact product. A query carries its *intents*: the product
types it asks for, each with the attribute values an Exact product must have.

Kinds: ``type`` (a surface name, maybe with a word that constrains nothing), ``attribute``
(type + 1–2 attributes), ``brand`` (brand + type, maybe an attribute), ``specific`` (brand + two
attributes + type: few Exact products, many Substitutes), ``misspelling`` (a type or attribute
query with a character edit in the type word), ``accessory`` (an accessory for a device, with
the device as Complement), ``vague`` (a theme with one-to-many intents) and ``model`` (a model
number, maybe with the brand or the type name: every listing of that model is Exact; only the
ESCI-calibrated profile asks for it, the default weight is 0).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from leser_bench.data.world.products import Item, pick_name
from leser_bench.data.world.taxonomy import ProductType
from leser_bench.data.world.themes import Theme
from leser_bench.data.world.vocabulary import NOISE_WORDS

KINDS = ("type", "attribute", "brand", "specific", "misspelling", "accessory", "vague", "model")
_QUERY_AUDIENCE = {"men": "men's", "women": "women's", "kids": "kids"}
_AFTER_SIZES = {"small", "medium", "large", "xl", "extra large"}
_KEYBOARD = "qwertyuiop asdfghjkl zxcvbnm".split()


@dataclass(frozen=True)
class Intent:
    type_key: str
    #: slot -> value an Exact product must have (slot names as in :class:`Item`; "feature").
    constraints: tuple[tuple[str, str], ...] = ()

    def constraint_dict(self) -> dict[str, str]:
        return dict(self.constraints)


@dataclass(frozen=True)
class QuerySpec:
    text: str
    kind: str
    intents: tuple[Intent, ...]
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def type_keys(self) -> list[str]:
        return list(dict.fromkeys(i.type_key for i in self.intents))


@dataclass
class WorldIndex:
    """What query generation needs to look up: types, items by type, the names' vocabulary, and how
    strongly shoppers prefer a type's first name (``name_skew``, as products' ``surface_skew``)."""

    types: dict[str, ProductType]
    items_by_type: dict[str, list[Item]]
    vocabulary: set[str]
    name_skew: float = 0.0

    @classmethod
    def build(cls, types: dict[str, ProductType], items: list[Item], name_skew: float = 0.0) -> WorldIndex:
        by_type: dict[str, list[Item]] = {key: [] for key in types}
        for item in items:
            by_type[item.type_key].append(item)
        vocab = {w for spec in types.values() for n in spec.names for w in n.split()}
        return cls(types=types, items_by_type=by_type, vocabulary=vocab, name_skew=name_skew)

    def name(self, spec: ProductType, rng: random.Random) -> str:
        """The surface name a shopper types for ``spec``."""
        return pick_name(spec.names, rng, self.name_skew)


def compose(surface: str, constraints: dict[str, str], rng: random.Random) -> str:
    """Natural word order: audience, adjectives (feature, colour, material), name, size, use."""
    words: list[str] = []
    if "brand" in constraints:
        words.append(constraints["brand"].lower())
    if "audience" in constraints:
        words.append(_QUERY_AUDIENCE.get(constraints["audience"], constraints["audience"]))
    adjectives = [constraints[s] for s in ("feature", "color", "material") if s in constraints]
    if len(adjectives) > 1 and rng.random() < 0.3:
        rng.shuffle(adjectives)
    words += adjectives
    size = constraints.get("size", "")
    size_after = size.startswith("size") or size in _AFTER_SIZES
    if size and not size_after:
        words.append(size)
    words.append(surface)
    if size and size_after:
        words.append(size if size.startswith("size") else f"size {size}")
    if "use" in constraints:
        words.append(f"for {constraints['use']}")
    return " ".join(words)


def _intent(spec: ProductType, surface: str, constraints: dict[str, str]) -> Intent:
    """The query's surface name may imply a use ("running shoes"): then Exact needs that use."""
    constraints = dict(constraints)
    if surface in spec.name_uses:
        constraints["use"] = spec.name_uses[surface]
    return Intent(spec.key, tuple(sorted(constraints.items())))


def _anchor_constraints(item: Item, spec: ProductType, n_slots: int, rng: random.Random) -> dict[str, str]:
    slots = [s for s in spec.slots() if s != "for_type" and item.value(s)]
    chosen = rng.sample(slots, min(n_slots, len(slots)))
    out = {}
    for slot in chosen:
        value = item.value(slot)
        out[slot] = rng.choice(value) if isinstance(value, tuple) else value
    return out


def _device_types(world: WorldIndex) -> list[str]:
    return [k for k, spec in world.types.items() if not spec.for_types]


def type_query(world: WorldIndex, rng: random.Random) -> QuerySpec:
    spec = world.types[rng.choice(_device_types(world))]
    surface = world.name(spec, rng)
    text = surface if rng.random() < 0.6 else f"{rng.choice(NOISE_WORDS)} {surface}"
    return QuerySpec(text, "type", (_intent(spec, surface, {}),))


def attribute_query(world: WorldIndex, rng: random.Random, n_slots: int | None = None) -> QuerySpec:
    spec = world.types[rng.choice(_device_types(world))]
    anchor = rng.choice(world.items_by_type[spec.key])
    surface = world.name(spec, rng)
    constraints = _anchor_constraints(anchor, spec, n_slots or rng.choice((1, 1, 2)), rng)
    if surface in spec.name_uses:
        constraints.pop("use", None)
    return QuerySpec(compose(surface, constraints, rng), "attribute", (_intent(spec, surface, constraints),))


def brand_query(world: WorldIndex, rng: random.Random, n_slots: int = 0, kind: str = "brand") -> QuerySpec:
    spec = world.types[rng.choice(_device_types(world))]
    anchor = rng.choice(world.items_by_type[spec.key])
    surface = world.name(spec, rng)
    constraints = _anchor_constraints(anchor, spec, n_slots, rng) if n_slots else {}
    if surface in spec.name_uses:
        constraints.pop("use", None)
    constraints["brand"] = anchor.brand
    return QuerySpec(compose(surface, constraints, rng), kind, (_intent(spec, surface, constraints),))


def specific_query(world: WorldIndex, rng: random.Random) -> QuerySpec:
    return brand_query(world, rng, n_slots=2, kind="specific")


def misspell(word: str, rng: random.Random) -> str:
    """One character edit: drop, swap neighbours, double, or hit a neighbouring key."""
    i = rng.randrange(1, len(word) - 1)  # keep the first letter, as most typos do
    edit = rng.choice(("drop", "swap", "double", "neighbour"))
    if edit == "drop":
        return word[:i] + word[i + 1 :]
    if edit == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if edit == "double":
        return word[:i] + word[i] + word[i:]
    row = next((r for r in _KEYBOARD if word[i] in r), None)
    if row is None:
        return word[:i] + word[i + 1 :]
    j = row.index(word[i])
    neighbour = row[j - 1] if j > 0 and (j == len(row) - 1 or rng.random() < 0.5) else row[j + 1]
    return word[:i] + neighbour + word[i + 1 :]


def misspelling_query(world: WorldIndex, rng: random.Random) -> QuerySpec | None:
    base = type_query(world, rng) if rng.random() < 0.4 else attribute_query(world, rng, n_slots=1)
    spec = world.types[base.intents[0].type_key]
    surfaces = [n for n in spec.names if re.search(rf"\b{re.escape(n)}\b", base.text)]
    if not surfaces:
        return None
    surface = max(surfaces, key=len)
    candidates = [w for w in surface.split() if len(w) >= 4 and w.isalpha()]
    if not candidates:
        return None
    word = max(candidates, key=len)
    typo = misspell(word, rng)
    if typo == word or typo in world.vocabulary:
        return None
    text = re.sub(rf"\b{re.escape(word)}\b", typo, base.text, count=1)
    return QuerySpec(text, "misspelling", base.intents, {"typo": typo, "correct": word})


def accessory_query(world: WorldIndex, rng: random.Random) -> QuerySpec:
    accessories = [k for k, spec in world.types.items() if spec.for_types]
    spec = world.types[rng.choice(accessories)]
    device = world.types[rng.choice(spec.for_types)]
    surface, device_name = world.name(spec, rng), world.name(device, rng)
    text = f"{surface} for {device_name}" if rng.random() < 0.5 else f"{device_name} {surface}"
    intent = Intent(spec.key, (("for_type", device.key),))
    return QuerySpec(text, "accessory", (intent,), {"device_type": device.key})


def model_query(world: WorldIndex, rng: random.Random) -> QuerySpec | None:
    """A model number as shoppers type it: alone, after the brand, and/or before the type's name;
    now and then without its dash ("so4410b", which the index reads as one unknown word)."""
    spec = world.types[rng.choice(list(world.types))]
    listed = [item for item in world.items_by_type[spec.key] if item.model]
    if not listed:
        return None
    anchor = rng.choice(listed)
    model = anchor.model.lower()
    if rng.random() < 0.15:
        model = model.replace("-", "")
    form = rng.random()
    if form < 0.35:
        text = f"{anchor.brand.lower()} {model}"
    elif form < 0.7:
        text = f"{anchor.brand.lower()} {model} {world.name(spec, rng)}"
    elif form < 0.85:
        text = f"{model} {world.name(spec, rng)}"
    else:
        text = model
    return QuerySpec(text, "model", (Intent(spec.key, (("model", anchor.model),)),))


def vague_query(theme: Theme, phrasing: str) -> QuerySpec:
    intents = tuple(Intent(type_key, (("use", use),)) for type_key, use in theme.intents)
    return QuerySpec(phrasing, "vague", intents, {"theme": theme.key})


def oracle_terms(spec: QuerySpec, types: dict[str, ProductType]) -> list[str]:
    """The true synonyms of the query's product type(s): the oracle expansion."""
    return list(dict.fromkeys(name for key in spec.type_keys for name in types[key].names))
