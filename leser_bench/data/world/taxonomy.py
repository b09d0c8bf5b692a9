"""The product-type record of the embedded world and the registry of every type.

A :class:`ProductType` says how products of one type are named (several *surface names*, the
synonyms that make query expansion matter), which attribute values they can take, which other
types can stand in for them (substitutes) or go with them (complements), and for accessories,
which device types they are made for. The type tables themselves live in ``types_*.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: colour palettes a type draws from (``None`` = the type has no colour).
PALETTES: dict[str, tuple[str, ...]] = {
    "home": ("black", "white", "grey", "beige", "brown", "navy", "green", "blue", "red", "pink", "yellow"),
    "tech": ("black", "white", "silver", "grey", "blue", "gold", "red", "green"),
    "wear": ("black", "white", "grey", "navy", "red", "blue", "green", "pink", "beige", "olive", "purple"),
    "bright": ("red", "blue", "green", "yellow", "pink", "purple", "orange", "black"),
    "lip": ("red", "pink", "nude", "berry", "coral", "plum"),
    "metal": ("silver", "black", "copper", "red", "white", "blue"),
}

#: audience value -> how a title or query says it.
AUDIENCE_WORDS: dict[str, str] = {"men": "Men's", "women": "Women's", "kids": "Kids'", "unisex": "Unisex"}


@dataclass(frozen=True)
class ProductType:
    key: str
    category: str
    #: surface names, all true synonyms; the first is the canonical one.
    names: tuple[str, ...]
    materials: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()
    palette: str | None = "home"
    audiences: tuple[str, ...] = ()
    substitutes: tuple[str, ...] = ()
    complements: tuple[str, ...] = ()
    #: accessories only: the device types a product of this type is made for.
    for_types: tuple[str, ...] = ()
    #: surface name -> the use it implies ("running shoes" are for running).
    name_uses: dict[str, str] = field(default_factory=dict)
    #: word used for the material slot in bullets ("Material", "Key ingredient", "Scent" …).
    material_label: str = "Material"
    #: relative share of the catalogue.
    weight: float = 1.0

    @property
    def colors(self) -> tuple[str, ...]:
        return PALETTES[self.palette] if self.palette else ()

    def slots(self) -> list[str]:
        """Attribute slots that products of this type fill (in title order)."""
        out = []
        for slot, values in (
            ("audience", self.audiences),
            ("feature", self.features),
            ("color", self.colors),
            ("material", self.materials),
            ("size", self.sizes),
            ("use", self.uses),
            ("for_type", self.for_types),
        ):
            if values:
                out.append(slot)
        return out


def t(
    key: str,
    category: str,
    names: str,
    *,
    materials: str = "",
    features: str = "",
    sizes: str = "",
    uses: str = "",
    palette: str | None = "home",
    audiences: str = "",
    substitutes: str = "",
    complements: str = "",
    for_types: str = "",
    name_uses: dict[str, str] | None = None,
    material_label: str = "Material",
    weight: float = 1.0,
) -> ProductType:
    """Compact constructor for the type tables: lists are written as ``a, b, c`` strings."""

    def split(text: str) -> tuple[str, ...]:
        return tuple(part.strip() for part in text.split(",") if part.strip())

    return ProductType(
        key=key,
        category=category,
        names=split(names),
        materials=split(materials),
        features=split(features),
        sizes=split(sizes),
        uses=split(uses),
        palette=palette,
        audiences=split(audiences),
        substitutes=split(substitutes),
        complements=split(complements),
        for_types=split(for_types),
        name_uses=dict(name_uses or {}),
        material_label=material_label,
        weight=weight,
    )


def all_types() -> dict[str, ProductType]:
    """Every product type, keyed by ``key``, in a fixed order; cross-references are checked."""
    from leser_bench.data.world import types_home, types_play, types_tech, types_wear  # noqa: PLC0415

    types: dict[str, ProductType] = {}
    for module in (types_home, types_wear, types_tech, types_play):
        for spec in module.TYPES:
            if spec.key in types:
                raise ValueError(f"world taxonomy: product type {spec.key!r} is defined twice")
            types[spec.key] = spec
    for spec in types.values():
        for ref in (*spec.substitutes, *spec.complements, *spec.for_types):
            if ref not in types:
                raise ValueError(f"world taxonomy: type {spec.key!r} refers to unknown type {ref!r}")
        for name in spec.name_uses:
            if name not in spec.names or spec.name_uses[name] not in spec.uses:
                raise ValueError(f"world taxonomy: type {spec.key!r}: bad name_uses entry {name!r}")
        if len(spec.names) < 2:
            raise ValueError(f"world taxonomy: type {spec.key!r} needs at least two surface names")
    return types
