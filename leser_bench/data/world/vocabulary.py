"""Words of the embedded world other than product types: brands and marketing phrases.

All brands are invented. Most belong to one category; a few span two (Northpeak makes apparel
and sports gear), and two house brands sell a little of everything.
"""

from __future__ import annotations

BRANDS: dict[str, tuple[str, ...]] = {
    "furniture": ("Hearthwood", "Nordhaven", "Loftline", "Casa Vela", "Oakridge Home", "Urban Nest", "Maple & Pine"),
    "kitchen": ("Chefmate", "Copperleaf", "Brewcraft", "Kitchara", "Hearthstone", "Simmerwell"),
    "pets": ("Pawsome", "Barkley", "Whisker & Co", "Tailwind", "Furwell"),
    "footwear": ("Stridex", "Trailborn", "Pacerline", "Kinetica", "Solewise", "Northstep"),
    "apparel": ("Threadly", "Northpeak", "Coastline", "Urbanite", "Alder & Co", "Kindred"),
    "beauty": ("Lumiere", "Glowra", "Verdant Botanics", "Sheen", "Purely"),
    "electronics": ("Voltix", "Sonara", "Nexon", "Pixelon", "Auralis", "Kestrel", "Orbitron"),
    "sports": ("Ironclad", "Summit Gear", "Zenflow", "Peakform", "Northpeak", "Riverstone"),
    "toys": ("Brickly", "Playnest", "Tinytown", "Wonderbox", "Jolly Jam"),
}
#: house brands found in every category (a small share of each).
HOUSE_BRANDS: tuple[str, ...] = ("BasicLine", "Everyday Goods")

#: ``{name}`` is the product's (or another) surface name, ``{brand}`` its brand.
INTROS: dict[str, tuple[str, ...]] = {
    "furniture": (
        "The {brand} {name} brings comfort and style to any room.",
        "Give your home a fresh look with this {name} from {brand}.",
        "A {name} built to last, with clean lines that suit modern and classic interiors.",
    ),
    "kitchen": (
        "The {brand} {name} makes everyday cooking easier.",
        "Upgrade your kitchen with this {name} from {brand}.",
        "A dependable {name} designed for busy kitchens.",
    ),
    "pets": (
        "Your pet will love this {name} from {brand}.",
        "The {brand} {name} is made with happy, healthy pets in mind.",
        "A {name} that keeps tails wagging, from {brand}.",
    ),
    "footwear": (
        "Step out in comfort with the {brand} {name}.",
        "These {name} combine support and style for all-day wear.",
        "The {brand} {name} are made for people on the move.",
    ),
    "apparel": (
        "The {brand} {name} is a wardrobe staple you will reach for again and again.",
        "Look good and feel great in this {name} from {brand}.",
        "A versatile {name} with a comfortable, easy fit.",
    ),
    "beauty": (
        "Treat yourself with the {brand} {name}.",
        "This {name} from {brand} is part of a simple daily routine.",
        "A salon-quality {name} you can use at home.",
    ),
    "electronics": (
        "The {brand} {name} delivers reliable performance every day.",
        "Stay connected with this {name} from {brand}.",
        "A {name} that combines smart design with powerful features.",
    ),
    "sports": (
        "Reach your goals with the {brand} {name}.",
        "The {brand} {name} is built for active lives.",
        "A tough, reliable {name} for training and the outdoors.",
    ),
    "toys": (
        "Hours of fun with the {brand} {name}.",
        "This {name} from {brand} sparks imagination and play.",
        "A {name} kids will love, made to safety standards.",
    ),
}

#: generic sentences without the type name (they add realistic shared vocabulary).
FILLERS: tuple[str, ...] = (
    "Easy to clean and simple to care for.",
    "Backed by our satisfaction guarantee.",
    "Makes a thoughtful gift for friends and family.",
    "Designed and tested for everyday use.",
    "Great value without compromising on quality.",
    "Thousands of happy customers recommend it.",
    "Ships in recyclable packaging.",
    "Combines durability with a premium look and feel.",
)

#: bullet labels for attribute slots.
USE_PHRASES: tuple[str, ...] = ("Ideal for {use}", "Perfect for {use}", "Designed for {use}", "Great for {use}")
CARE_BULLETS: tuple[str, ...] = (
    "WARRANTY: 1-year limited warranty",
    "WHAT YOU GET: 1 x {name}, user guide",
    "EASY CARE: wipe clean with a damp cloth",
    "QUALITY: inspected before shipping",
)

#: marketing phrases sellers put in titles (the ESCI profile; none is an attribute value of any type).
TITLE_MARKETING: tuple[str, ...] = (
    "Premium Quality", "Upgraded Version", "Best Seller", "Value Pack", "Pack of 2", "2024 Edition",
    "Gift Idea", "Easy to Use", "Classic Design", "Original",
)

#: words a "type" query may add that constrain nothing.
NOISE_WORDS: tuple[str, ...] = ("best", "cheap", "affordable", "new", "sale", "top rated", "good quality")
