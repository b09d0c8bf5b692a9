"""Vague head queries: themes with several phrasings and one-to-many intents.

An intent is ``type:use``: the products of that type made for that use are Exact for every
phrasing of the theme. Phrasings often do not contain the use word ("something for my lab"),
so only knowing which product types serve the theme finds them.
"""

from __future__ import annotations

from dataclasses import dataclass

from leser_bench.data.world.taxonomy import ProductType


@dataclass(frozen=True)
class Theme:
    key: str
    phrasings: tuple[str, ...]
    #: (type key, use) pairs.
    intents: tuple[tuple[str, str], ...]


def _theme(key: str, phrasings: str, intents: str) -> Theme:
    pairs = []
    for item in intents.split(","):
        type_key, use = item.strip().split(":")
        pairs.append((type_key.strip(), use.strip()))
    return Theme(key, tuple(p.strip() for p in phrasings.split("|")), tuple(pairs))


THEMES: tuple[Theme, ...] = (
    _theme("running", "running gear | stuff for running | gear for my morning run | running essentials",
           "sneakers:running, shorts:running, leggings:running, smartwatch:running, water bottle:running,"
           " headphones:running, t-shirt:running"),
    _theme("gym", "gym essentials | workout gear | things for the gym | gym bag essentials",
           "sneakers:gym, shorts:gym, t-shirt:gym, leggings:gym, water bottle:gym, smartwatch:gym, yoga mat:gym"),
    _theme("home gym", "home gym setup | home gym equipment | working out at home",
           "dumbbells:home gym, dumbbells:strength training, yoga mat:gym"),
    _theme("yoga", "yoga essentials | yoga starter kit | stuff for yoga class",
           "yoga mat:yoga, leggings:yoga, yoga mat:pilates"),
    _theme("home office", "home office setup | work from home essentials | home office furniture | wfh setup",
           "desk:home office, office chair:home office, monitor:home office, keyboard:home office,"
           " mouse:home office, laptop:home office, bookshelf:home office"),
    _theme("gaming", "gaming setup | gaming room ideas | pc gaming gear | gamer gifts",
           "monitor:gaming, headphones:gaming, keyboard:gaming, mouse:gaming, office chair:gaming,"
           " desk:gaming, laptop:gaming"),
    _theme("puppy", "new puppy essentials | puppy starter kit | things for my new puppy",
           "dog bed:puppy, dog leash:puppy, dog toy:puppy, dog food:puppy"),
    _theme("big dog", "stuff for my big dog | large dog supplies | something for my labrador",
           "dog bed:large breed, dog leash:large breed, dog toy:large breed, dog food:large breed"),
    _theme("small dog", "small dog supplies | something for my chihuahua | gifts for small dogs",
           "dog bed:small breed, dog toy:small breed, dog food:small breed"),
    _theme("senior dog", "senior dog care | something for my elderly dog | comfort for an old dog",
           "dog bed:senior dog, dog food:senior dog"),
    _theme("cats", "new kitten supplies | kitten essentials | things for my cats",
           "cat tree:kitten, cat tree:multi-cat"),
    _theme("camping", "camping gear | camping trip essentials | weekend camping checklist | stuff for camping",
           "tent:camping, sleeping bag:camping, hiking boots:camping, frying pan:camping, mug:camping, kettle:camping"),
    _theme("hiking", "hiking gear | day hike essentials | trail hiking equipment",
           "hiking boots:hiking, backpack:hiking, water bottle:hiking, jacket:hiking"),
    _theme("backpacking", "backpacking trip gear | ultralight backpacking | overnight trek gear",
           "tent:backpacking, sleeping bag:backpacking"),
    _theme("travel", "travel essentials | things for a long flight | carry on essentials | travel gadgets",
           "headphones:travel, backpack:travel, water bottle:travel, mug:travel, tablet:travel, laptop bag:travel"),
    _theme("living room", "living room furniture | furnish my living room | living room makeover",
           "sofa:living room, armchair:living room, coffee table:living room, throw pillow:living room,"
           " bookshelf:living room, television:living room"),
    _theme("patio", "patio furniture | outdoor seating | backyard lounge ideas",
           "sofa:patio, armchair:patio, coffee table:patio, throw pillow:patio"),
    _theme("small spaces", "small apartment furniture | furniture for tiny spaces | studio apartment ideas",
           "sofa:small spaces, desk:small spaces, coffee table:small spaces"),
    _theme("bedroom", "bedroom furniture | bedroom makeover | cozy bedroom ideas",
           "bed frame:bedroom, armchair:bedroom, throw pillow:bedroom, television:bedroom"),
    _theme("kids room", "kids room furniture | furniture for my son's room | children's bedroom set",
           "desk:kids room, bookshelf:kids room, bed frame:kids room"),
    _theme("beach", "beach vacation | beach day essentials | what to bring to the beach",
           "sandals:beach, shorts:beach, dress:beach, tent:beach"),
    _theme("winter", "winter clothes | cold weather gear | stay warm this winter",
           "jacket:winter, hoodie:winter, hiking boots:winter, sleeping bag:winter"),
    _theme("wedding", "wedding guest outfit | what to wear to a wedding | formal event attire",
           "dress:wedding"),
    _theme("party", "party essentials | house party ideas | throw a party",
           "speaker:party, dress:party"),
    _theme("coffee", "gifts for coffee lovers | morning coffee setup | coffee lover gifts",
           "coffee maker:home, mug:coffee"),
    _theme("tea", "tea time essentials | gifts for tea lovers | afternoon tea at home",
           "kettle:tea"),
    _theme("toddler", "toys for toddlers | gift for a 2 year old | toddler gift ideas",
           "building blocks:toddler, stuffed animal:toddler, toy car:toddler"),
    _theme("kids gifts", "gifts for kids | birthday present for a 7 year old | fun toys for kids",
           "building blocks:kids, stuffed animal:kids, puzzle:kids, board game:kids, toy car:kids"),
    _theme("family night", "family game night | games for the whole family | rainy day family fun",
           "board game:family, puzzle:family"),
    _theme("baby", "baby shower gift | newborn gift ideas | gifts for a new baby",
           "stuffed animal:baby, blender:baby food"),
    _theme("curly hair", "curly hair care | products for curly hair | curly girl method",
           "shampoo:curly hair, hair dryer:curly hair"),
    _theme("dry skin", "dry skin routine | winter skin care | help for dry skin",
           "moisturizer:dry skin, shampoo:dry hair"),
    _theme("student", "college dorm essentials | back to school | student essentials",
           "laptop:student, backpack:school, laptop bag:student"),
    _theme("commute", "bike commuting | cycle to work | business commuter gear",
           "bicycle:commuting, laptop bag:business, laptop:business"),
    _theme("smoothies", "smoothie making | healthy breakfast drinks | protein shake prep",
           "blender:smoothies"),
    _theme("swimming", "pool day | swimming gear | lap swimming essentials",
           "sandals:pool, smartwatch:swimming"),
    _theme("kitchen", "first apartment kitchen | kitchen starter set | cooking essentials",
           "frying pan:everyday cooking, knife set:everyday cooking"),
    _theme("outdoor music", "music for outdoor parties | backyard music | tunes at the park",
           "speaker:outdoor, speaker:party"),
    _theme("reading", "reading corner | cozy reading nook | book lover gifts",
           "armchair:reading nook, tablet:reading"),
    _theme("work desk", "office essentials | things for my work desk | office pantry",
           "mug:office, water bottle:office, kettle:office, coffee maker:office, headphones:office"),
)


def check_themes(types: dict[str, ProductType]) -> None:
    """Fail if a theme names a type or a use the taxonomy does not have."""
    seen: set[str] = set()
    for theme in THEMES:
        for phrasing in theme.phrasings:
            if phrasing in seen:
                raise ValueError(f"world themes: phrasing {phrasing!r} is used twice")
            seen.add(phrasing)
        for type_key, use in theme.intents:
            if type_key not in types:
                raise ValueError(f"world theme {theme.key!r}: unknown product type {type_key!r}")
            if use not in types[type_key].uses:
                raise ValueError(f"world theme {theme.key!r}: type {type_key!r} has no use {use!r}")
