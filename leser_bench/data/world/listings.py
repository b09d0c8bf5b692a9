"""How real catalogues list products, for the ESCI-calibrated profile: model numbers, near-duplicate
listings and long, keyword-stuffed titles.

On Amazon one product is often listed several times (colour and size variants of one model, or the
same item from several sellers), titles repeat other names of the product type and marketing words,
and many products carry a model number that shoppers type. All three make the top results of a
query look alike, which leaves pseudo-relevance feedback little new vocabulary to find.

Every function here draws nothing from ``rng`` while its knob is 0, so the default world does not move.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from leser_bench.data.world.vocabulary import TITLE_MARKETING

if TYPE_CHECKING:
    from leser_bench.data.world.products import Item, ProductTextConfig
    from leser_bench.data.world.taxonomy import ProductType

#: at most this many near-duplicates follow one listing.
MAX_DUPLICATES = 5


def model_number(brand: str, rng: random.Random, taken: set[str]) -> str:
    """An unused model number: two letters of the brand, a dash, 3-4 digits, maybe a letter ("SO-4410B")."""
    letters = re.sub(r"[^A-Za-z]", "", brand).upper()[:2] or "XX"
    while True:
        suffix = rng.choice("ABCDEKLMSX") if rng.random() < 0.4 else ""
        model = f"{letters}-{rng.randint(100, 9999)}{suffix}"
        if model not in taken:
            taken.add(model)
            return model


def with_model(item: Item, rng: random.Random, config: ProductTextConfig, taken: set[str]) -> Item:
    """``item`` with a model number, with chance ``config.model_number_p``."""
    if not config.model_number_p or rng.random() >= config.model_number_p:
        return item
    return dataclasses.replace(item, model=model_number(item.brand, rng, taken))


def near_duplicates(item: Item, spec: ProductType, room: int, rng: random.Random, config: ProductTextConfig,
                    new_id: Callable[[], str]) -> list[Item]:
    """Further listings of ``item`` (each with chance ``config.duplicate_p``, at most ``room``).

    A listing is a colour variant (half the time, when the type has colours), a size variant (a
    quarter) or the same product again; it keeps brand, model, name, material and features, and its
    text is written afresh, so titles differ in the attributes they show.
    """
    out: list[Item] = []
    limit = min(room, MAX_DUPLICATES)
    while config.duplicate_p and len(out) < limit and rng.random() < config.duplicate_p:
        change = rng.random()
        copy = dataclasses.replace(item, pid=new_id())
        if change < 0.5 and len(spec.colors) > 1:
            copy = dataclasses.replace(copy, color=rng.choice([c for c in spec.colors if c != item.color]))
        elif change < 0.75 and len(spec.sizes) > 1:
            copy = dataclasses.replace(copy, size=rng.choice([s for s in spec.sizes if s != item.size]))
        out.append(copy)
    return out


def title_extras(name: str, spec: ProductType, rng: random.Random, config: ProductTextConfig) -> list[str]:
    """Title segments after the attributes (not yet title-cased): other names of the type, then a
    marketing phrase."""
    extras: list[str] = []
    if config.title_extra_name_p:
        extras += [n for n in spec.names if n != name and rng.random() < config.title_extra_name_p]
    if config.title_marketing_p and rng.random() < config.title_marketing_p:
        extras.append(rng.choice(TITLE_MARKETING))
    return extras
