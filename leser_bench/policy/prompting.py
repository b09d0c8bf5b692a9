"""The one prompt builder shared by LESER's policy and the prompted-LLM baselines.

A prompt holds the raw query, optionally what the search engine returns for it (top-k product
titles, brands, types, colours — LESER's input), optionally a few solved examples, and the
platform rules in words; it asks for optional reasoning in ``<think>…</think>`` followed by a JSON
list of expansions, the format :func:`leser_bench.policy.parsing.parse_expansions` expects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from tqdm.auto import tqdm

from leser_bench.data.records import Product, Query
from leser_bench.policy.rules import PhraseIndex, RulesConfig, tokens

SYSTEM_PROMPT = (
    "You expand e-commerce search queries so that the search engine finds more of the products the "
    "shopper wants. Write short keyword rewrites: synonyms, the product types meant, and attributes. "
    "Follow the platform rules."
)


@dataclass(frozen=True)
class PromptConfig:
    #: how many search results for the raw query to show (0 = no search context).
    context_k: int = 0
    #: which product fields to show for each result.
    context_fields: tuple[str, ...] = ("title",)
    #: ask for reasoning in <think>…</think> before the answer.
    reasoning: bool = False
    #: how many expansions to ask for.
    n_expansions: int = 3
    system: str = SYSTEM_PROMPT
    #: show a placeholder answer (["first rewrite", ...]); small models copy it verbatim, so methods
    #: that start the answer for the model (an answer prefix) turn it off.
    format_example: bool = False
    #: show this many of the engine's own pseudo-relevance-feedback terms for the raw query (RM3 over the
    #: same index, Pyserini's defaults; the query's own words left out); 0 = none.
    prf_terms: int = 0
    #: show what the brand rule lets the policy copy: the results' titles without their own brand
    #: (kept when the query names it; no ``brand`` field) and PRF terms that are no catalogue brand.
    debrand: bool = False
    #: show at most this many words of each title (its head: brand, type, main attributes); the rules'
    #: ``max_words`` makes every shown title one the length rule lets the policy copy. None = the whole title.
    title_words: int | None = None

    def __post_init__(self) -> None:
        if self.context_k < 0 or self.n_expansions < 1 or self.prf_terms < 0:
            raise ValueError("prompt.context_k and prompt.prf_terms must be >= 0 and prompt.n_expansions >= 1")
        if self.title_words is not None and self.title_words < 1:
            raise ValueError(f"prompt.title_words must be >= 1 or null, got {self.title_words}")
        unknown = set(self.context_fields) - {"title", "brand", "color", "product_type", "description"}
        if unknown:
            raise ValueError(f"prompt.context_fields: unknown {sorted(unknown)}; allowed: title, brand, color, "
                             "product_type, description")


def rules_in_words(rules: RulesConfig) -> str:
    lines = []
    if rules.max_expansions:
        lines.append(f"- at most {rules.max_expansions} expansions")
    if rules.max_words:
        lines.append(f"- at most {rules.max_words} words per expansion")
    if rules.brand_hijack:
        lines.append("- no brand names unless the query names them")
    if rules.banned_terms:
        shown = ", ".join(f'"{t}"' for t in list(rules.banned_terms)[:6])
        lines.append(f"- no promotional words such as {shown}")
    if rules.near_duplicate_query:
        lines.append("- do not repeat the query itself")
    lines.append("- English words only, no empty items")
    return "\n".join(lines)


def _product_line(product: Product, query_text: str, config: PromptConfig) -> str:
    """One shown result: the title as :func:`shown_title` gives it, then the other ``context_fields``
    (no ``brand`` field under ``debrand``)."""
    parts = []
    for name in config.context_fields:
        if config.debrand and name == "brand":
            continue
        raw = shown_title(product, query_text, config) if name == "title" else getattr(product, name, "")
        value = " ".join(str(raw or "").split())[:160]
        if value:
            parts.append(value if name == "title" else f"{name}: {value}")
    return " | ".join(parts)


def shown_title(product: Product, query_text: str, config: PromptConfig) -> str:
    """The product's title as the prompt shows it: without its brand under ``debrand``, then its first
    ``title_words`` words."""
    title = debranded_title(product, query_text) if config.debrand else product.title
    return clipped(title, config.title_words)


def answer_format(config: PromptConfig) -> str:
    think = "First think briefly inside <think>...</think>, then answer" if config.reasoning else "Answer"
    example = ' for example ["first rewrite", "second rewrite"]' if config.format_example else ""
    return f"{think} with only a JSON list of {config.n_expansions} expansions{',' if example else ''}{example}."


def user_message(query: Query, config: PromptConfig, rules: RulesConfig,
                 context: Sequence[Product] = (), terms: Sequence[str] = ()) -> str:
    parts = [f'Query: "{query.text}"']
    if config.context_k and context:
        shown = [f"{i}. {_product_line(p, query.text, config)}"
                 for i, p in enumerate(context[: config.context_k], 1)]
        parts.append("The search engine currently returns:\n" + "\n".join(shown))
    elif config.context_k:
        parts.append("The search engine currently returns nothing for this query.")
    if config.prf_terms and terms:
        parts.append("Words the search engine associates with this query: " + ", ".join(terms[: config.prf_terms]))
    parts.append("Platform rules:\n" + rules_in_words(rules))
    parts.append(answer_format(config))
    return "\n\n".join(parts)


def build_messages(query: Query, config: PromptConfig, rules: RulesConfig, context: Sequence[Product] = (),
                   examples: Sequence[tuple[Query, Sequence[str]]] = (),
                   terms: Sequence[str] = ()) -> list[dict[str, str]]:
    """Chat messages for one query; ``examples`` are few-shot (query, good expansions) pairs."""
    messages = [{"role": "system", "content": config.system}]
    for example_query, expansions in examples:
        # examples show the task without search context (their results would only add length)
        messages.append({"role": "user", "content": user_message(example_query, replace(config, context_k=0, prf_terms=0),
                                                                 rules)})
        quoted = ", ".join(f'"{e}"' for e in expansions)
        messages.append({"role": "assistant", "content": f"[{quoted}]"})
    messages.append({"role": "user", "content": user_message(query, config, rules, context, terms)})
    return messages


def search_context(retriever: object, queries: Sequence[Query], k: int,
                   products: Mapping[str, Product]) -> dict[str, list[Product]]:
    """Top-k products the Retriever returns for each raw query (the policy's view of the engine)."""
    if k <= 0:
        return {q.id: [] for q in queries}
    from leser_bench.expansion import Expansion  # noqa: PLC0415
    from leser_bench.io.trec import ranked  # noqa: PLC0415

    run = retriever.search([Expansion(query=q) for q in queries], k=k)  # type: ignore[attr-defined]
    return {q.id: [products[pid] for pid, _ in ranked(run.get(q.id, {}))[:k] if pid in products] for q in queries}


#: the feedback the prompt's PRF terms come from: RM3 with Pyserini's default parameters.
PROMPT_PRF = {"method": "rm3", "fb_terms": 10, "fb_docs": 10, "original_query_weight": 0.5}


def feedback_context(retriever: object, queries: Sequence[Query], n: int,
                     brands: PhraseIndex | None = None) -> dict[str, list[str]]:
    """The ``n`` heaviest RM3 feedback terms of each raw query, the query's own words left out (and, with
    ``brands``, every catalogue brand).

    The terms are index terms, Porter-stemmed ("pawsom", "chefmat"), so the query's words and the brands are
    compared in the index's own analyzed form (``retriever.analyze``) as well as as written: a stemmed
    brand searches exactly like the brand, and the brand rule, which reads words as written, cannot see it.
    """
    if n <= 0:
        return {q.id: [] for q in queries}
    excluded = _written_and_stemmed(retriever, brands) if brands else None
    out = {}
    for q in tqdm(queries, desc="PRF terms", unit="q", disable=len(queries) < 100):
        own = set(q.text.lower().split()) | set(retriever.analyze(q.text))  # type: ignore[attr-defined]
        extra = 10 if brands else 0  # room for the brands left out
        weights = retriever.feedback_terms(q.text, {**PROMPT_PRF, "fb_terms": max(10, n + len(own) + extra)})  # type: ignore[attr-defined]
        ordered = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))
        out[q.id] = [t for t, _ in ordered if t.lower() not in own and not (excluded and excluded.find([t]))][:n]
    return out


def _written_and_stemmed(retriever: object, brands: PhraseIndex) -> PhraseIndex:
    """The brands as written and as the index's analyzer writes them (a brand of stop words only has no stem)."""
    analyze = retriever.analyze  # type: ignore[attr-defined]
    stemmed = (" ".join(stems) for phrase in brands.phrases.values() if (stems := analyze(phrase)))
    return PhraseIndex([*brands.phrases.values(), *stemmed])


def debranded_title(product: Product, query: str) -> str:
    """The product's title without its own brand's words (kept when the query names the brand)."""
    brand = tokens(product.brand)
    if not brand or _contains(tokens(query), brand):
        return product.title.strip()
    pattern = r"(?<!\w)" + r"\W+".join(re.escape(w) for w in brand) + r"(?!\w)"
    text = re.sub(pattern, " ", product.title, flags=re.IGNORECASE)
    return re.sub(r"\s+", " ", text).strip(" ,;:-")


def clipped(text: str, words: int | None) -> str:
    """The first ``words`` words of ``text`` (all of it when None), separators left at the cut removed."""
    if words is None:
        return text.strip()
    kept = text.split()[:words]
    return " ".join(kept).strip(" ,;:-|/") if kept else ""


def _contains(words: list[str], phrase: list[str]) -> bool:
    return any(words[i : i + len(phrase)] == phrase for i in range(len(words) - len(phrase) + 1))
