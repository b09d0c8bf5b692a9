"""Platform rules for query expansions, configured by ``leser_bench/conf/rules/*.yaml``; never raises on text.

Rules (names as they appear in ``violations``):

- ``non_empty``: an expansion with no letter or digit; also counted once when the output holds
  no expansion at all.
- ``charset``: a control/format character, or a share of Latin letters below ``min_latin_share``.
- ``banned_term``: a promotional or profane term (whole words), unless the query has it too.
- ``brand_hijack``: a known brand that is neither in the query nor in ``allowed_brands``.
- ``max_words``: more words than ``max_words``.
- ``near_duplicate_query``: too similar to the query (token-set Jaccard or edit similarity).
- ``near_duplicate_other``: too similar to an expansion kept before it.
- ``max_expansions``: each valid expansion beyond the first ``max_expansions``.
- ``format`` (when ``count_format``): the output was not in the expected format (see parsing);
  it is recorded but does not drop anything unless listed in ``fallback_on``.

Policy ``drop`` removes violating expansions; ``fallback`` returns the original query alone as
soon as any rule is violated. Rules listed in ``fallback_on`` force a fallback under ``drop`` too.
An output left with no expansion counts as a fallback.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from difflib import SequenceMatcher
from typing import Any

from leser_bench.expansion import Expansion
from leser_bench.policy.parsing import ParsedOutput, parse_expansions

RULE_NAMES = ("non_empty", "charset", "banned_term", "brand_hijack", "max_words", "near_duplicate_query",
              "near_duplicate_other", "max_expansions", "format")
POLICIES = ("drop", "fallback")
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_SIMILARITY_CHARS = 200  # edit similarity is computed on at most this many characters


@dataclass(frozen=True)
class RulesConfig:
    policy: str = "drop"
    fallback_on: tuple[str, ...] = ()
    #: None disables the rule.
    max_expansions: int | None = 5
    max_words: int | None = 12
    brand_hijack: bool = True
    allowed_brands: tuple[str, ...] = ("generic", "unbranded", "unknown", "none")
    banned_terms: tuple[str, ...] = ("cheap", "cheapest", "free shipping", "best price", "lowest price", "sale",
                                     "on sale", "discount", "clearance", "coupon", "deal", "deals", "buy now",
                                     "limited offer")
    profanity: tuple[str, ...] = ("damn", "crap", "hell", "shit", "fuck", "bitch", "bastard")
    #: a banned term the user typed is not held against the expansion.
    banned_allowed_if_in_query: bool = True
    near_duplicate_query: bool = True
    near_duplicate_other: bool = True
    jaccard_threshold: float = 0.8
    edit_similarity_threshold: float = 0.9
    min_latin_share: float = 0.9
    count_format: bool = True

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"rules.policy must be one of {POLICIES}, got {self.policy!r}")
        unknown = sorted(set(self.fallback_on) - set(RULE_NAMES))
        if unknown:
            raise ValueError(f"rules.fallback_on names unknown rules {unknown}; known: {list(RULE_NAMES)}")
        for name in ("jaccard_threshold", "edit_similarity_threshold", "min_latin_share"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"rules.{name} must be in [0, 1], got {value}")
        for name in ("max_expansions", "max_words"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"rules.{name} must be >= 1 or null, got {value}")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | Any) -> RulesConfig:
        if hasattr(values, "_metadata"):  # an OmegaConf DictConfig
            from omegaconf import OmegaConf

            values = OmegaConf.to_container(values, resolve=True)
        values = dict(values or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown rules config keys {unknown}; known: {sorted(known)}")
        for name in ("fallback_on", "allowed_brands", "banned_terms", "profanity"):
            if name in values:
                values[name] = tuple(str(v) for v in (values[name] or ()))
        return cls(**values)

    def active_rules(self) -> list[str]:
        active = {"non_empty": True, "charset": True,
                  "banned_term": bool(self.banned_terms or self.profanity), "brand_hijack": self.brand_hijack,
                  "max_words": self.max_words is not None, "near_duplicate_query": self.near_duplicate_query,
                  "near_duplicate_other": self.near_duplicate_other,
                  "max_expansions": self.max_expansions is not None, "format": self.count_format}
        return [name for name in RULE_NAMES if active[name]]


@dataclass
class RuleResult:
    kept: list[str]
    #: rule name -> violations found (every active rule is present, zero included).
    violations: dict[str, int] = field(default_factory=dict)
    fell_back: bool = False

    @property
    def total_violations(self) -> int:
        return sum(self.violations.values())


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.casefold())


class PhraseIndex:
    """Whole-word phrase lookup (brands, banned terms): which phrases occur in a text."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self.phrases: dict[tuple[str, ...], str] = {}
        for phrase in phrases:
            key = tuple(tokens(str(phrase)))
            if key:
                self.phrases.setdefault(key, str(phrase))
        self.max_len = max((len(k) for k in self.phrases), default=0)

    def find(self, text_tokens: Sequence[str]) -> set[tuple[str, ...]]:
        found = set()
        for start in range(len(text_tokens)):
            for length in range(1, min(self.max_len, len(text_tokens) - start) + 1):
                gram = tuple(text_tokens[start : start + length])
                if gram in self.phrases:
                    found.add(gram)
        return found


def catalogue_brands(products: Iterable[Any]) -> PhraseIndex:
    """The brand rule's lookup for a catalogue: every product brand of at least two characters."""
    return PhraseIndex(sorted({p.brand for p in products if len(p.brand.strip()) >= 2}))


class RuleChecker:
    """Applies a :class:`RulesConfig`. Reuse one checker: brand indexes are memoised."""

    def __init__(self, config: RulesConfig | None = None) -> None:
        self.config = config or RulesConfig()
        self._banned = PhraseIndex([*self.config.banned_terms, *self.config.profanity])
        self._allowed = {tuple(tokens(b)) for b in self.config.allowed_brands}
        self._brand_memo: tuple[object, PhraseIndex] | None = None

    def _brand_index(self, brands: Collection[str] | PhraseIndex | None) -> PhraseIndex:
        if isinstance(brands, PhraseIndex):
            return brands
        if self._brand_memo is None or self._brand_memo[0] is not brands:
            usable = (b for b in (brands or ()) if isinstance(b, str) and len(b.strip()) >= 2)
            self._brand_memo = (brands, PhraseIndex(usable))
        return self._brand_memo[1]

    def check(self, query_text: str, expansions: Sequence[str],
              brands: Collection[str] | PhraseIndex | None = None, format_ok: bool = True) -> RuleResult:
        cfg = self.config
        active = self.config.active_rules()
        counts = dict.fromkeys(active, 0)
        query_text = query_text if isinstance(query_text, str) else str(query_text)
        query_tokens = tokens(query_text)
        brand_index = self._brand_index(brands)
        query_brands = brand_index.find(query_tokens)
        query_banned = self._banned.find(query_tokens) if cfg.banned_allowed_if_in_query else set()
        kept: list[str] = []
        for item in expansions:
            text = item if isinstance(item, str) else str(item)
            item_tokens = tokens(text)
            broken = self._item_violations(text, item_tokens, query_text, query_tokens, query_brands,
                                           query_banned, brand_index)
            if not broken and "near_duplicate_other" in counts and any(
                    _near_duplicate(text, item_tokens, k, tokens(k), cfg) for k in kept):
                broken = ["near_duplicate_other"]
            if not broken and cfg.max_expansions is not None and len(kept) >= cfg.max_expansions:
                broken = ["max_expansions"]
            for rule in broken:
                counts[rule] += 1
            if not broken:
                kept.append(text)
        if not expansions and "non_empty" in counts:
            counts["non_empty"] += 1
        if not format_ok and "format" in counts:
            counts["format"] += 1
        platform = {r: c for r, c in counts.items() if r != "format"}
        fell_back = (
            not kept
            or (cfg.policy == "fallback" and any(platform.values()))
            or any(counts.get(rule, 0) for rule in cfg.fallback_on)
        )
        return RuleResult(kept=[] if fell_back else kept, violations=counts, fell_back=fell_back)

    def _item_violations(self, text: str, item_tokens: list[str], query_text: str, query_tokens: list[str],
                         query_brands: set[tuple[str, ...]], query_banned: set[tuple[str, ...]],
                         brand_index: PhraseIndex) -> list[str]:
        cfg = self.config
        if not item_tokens:
            return ["non_empty"]
        broken = []
        if not _charset_ok(text, cfg.min_latin_share):
            broken.append("charset")
        if self._banned.max_len and self._banned.find(item_tokens) - query_banned:
            broken.append("banned_term")
        if cfg.brand_hijack and brand_index.max_len:
            hijacked = brand_index.find(item_tokens) - query_brands - self._allowed
            if hijacked:
                broken.append("brand_hijack")
        if cfg.max_words is not None and len(text.split()) > cfg.max_words:
            broken.append("max_words")
        if cfg.near_duplicate_query and _near_duplicate(text, item_tokens, query_text, query_tokens, cfg):
            broken.append("near_duplicate_query")
        return broken


def _charset_ok(text: str, min_latin_share: float) -> bool:
    letters = 0
    latin = 0
    for char in text:
        category = unicodedata.category(char)
        if category in {"Cc", "Cf", "Cs", "Co", "Cn"}:
            return False
        if category.startswith("L"):
            letters += 1
            if char.isascii() or unicodedata.name(char, "").startswith("LATIN"):
                latin += 1
    return letters == 0 or latin / letters >= min_latin_share


def _near_duplicate(a: str, a_tokens: list[str], b: str, b_tokens: list[str], cfg: RulesConfig) -> bool:
    set_a, set_b = set(a_tokens), set(b_tokens)
    if set_a and set_b and len(set_a & set_b) / len(set_a | set_b) >= cfg.jaccard_threshold:
        return True
    norm_a = " ".join(a_tokens)[:_SIMILARITY_CHARS]
    norm_b = " ".join(b_tokens)[:_SIMILARITY_CHARS]
    if not norm_a or not norm_b:
        return False
    return SequenceMatcher(None, norm_a, norm_b, autojunk=False).ratio() >= cfg.edit_similarity_threshold


def expansion_from_output(expansion: Expansion, raw_output: str, checker: RuleChecker,
                          brands: Collection[str] | PhraseIndex | None = None) -> Expansion:
    """Parse ``raw_output`` and check it; returns a copy of ``expansion`` with texts, raw output,
    violations and fallback filled in (cost fields are kept as they are)."""
    parsed: ParsedOutput = parse_expansions(raw_output)
    result = checker.check(expansion.query.text, parsed.expansions, brands, format_ok=parsed.format_ok)
    return replace(expansion, texts=result.kept, raw_output=parsed.raw, violations=result.violations,
                   fell_back=result.fell_back)
