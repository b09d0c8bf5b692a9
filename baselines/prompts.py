"""Prompts of the baselines that do not write keyword expansions: Query2doc's pseudo-document and
doc2query's generated queries. (Keyword expansion prompts, context-aware included, come from the
shared builder :func:`leser_bench.policy.prompting.build_messages`, as LESER's do.)"""

from __future__ import annotations

from leser_bench.data.records import Product, Query
from leser_bench.policy.rules import RulesConfig

PASSAGE_SYSTEM = (
    "You write short product descriptions for an online shop. Describe the kind of product a shopper "
    "searching for the query wants: its type, common names and typical features."
)
DOC2QUERY_SYSTEM = "You write the short search queries that shoppers type to find a product in an online shop."


def passage_messages(query: Query, rules: RulesConfig, max_words: int = 60) -> list[dict[str, str]]:
    """Query2doc (Wang et al., 2023): ask for a passage that answers the query."""
    avoid = []
    if rules.brand_hijack:
        avoid.append("brand names the query does not name")
    if rules.banned_terms:
        avoid.append("promotional words such as " + ", ".join(f'"{t}"' for t in list(rules.banned_terms)[:4]))
    rule_line = f" Do not use {' or '.join(avoid)}." if avoid else ""
    user = (f'Query: "{query.text}"\n\nWrite a product description of at most {max_words} words for what '
            f"this shopper is looking for.{rule_line} Answer with the description only.")
    return [{"role": "system", "content": PASSAGE_SYSTEM}, {"role": "user", "content": user}]


def product_text(product: Product, max_chars: int) -> str:
    """Title and description, whitespace collapsed, cut to ``max_chars``."""
    text = " ".join(f"{product.title}. {product.description}".split())
    return text[:max_chars].rstrip()


def doc2query_messages(product: Product, n_queries: int, max_chars: int) -> list[dict[str, str]]:
    """doc2query with a causal LLM: ask for ``n_queries`` queries (the method starts the JSON list
    for the model; a placeholder example in the prompt would be copied by small models)."""
    user = (f"Product: {product_text(product, max_chars)}\n\n"
            "What would a shopper type into the search box to find this product? "
            f"Write {n_queries} different short queries (2 to 5 words each).")
    return [{"role": "system", "content": DOC2QUERY_SYSTEM}, {"role": "user", "content": user}]
