"""What a policy can copy from its prompt, and constrained decoding to it (``constrain: shown``).

The items are the shown results' titles as the prompt shows them, without their brand, that the
platform rules accept, and the prompt's PRF terms (catalogue brands left out) as one more item. SFT's
``context_titles`` targets are built from them; with ``constrain: shown`` the prompted policy may only
write a JSON list of 1..``n_expansions`` distinct items (any order) that pass the rules together, so the decoding cannot break
the format, length, brand or near-duplicate rules: the policy's job becomes choosing among what it sees.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from itertools import permutations
from typing import Any

from leser_bench.data.records import Product
from leser_bench.policy.prompting import PromptConfig, debranded_title, shown_title
from leser_bench.policy.rules import PhraseIndex, RuleChecker

#: values of a prompted method's ``constrain`` key.
CONSTRAINTS = (None, "shown")


def candidate_title(product: Product, query: str, prompt: PromptConfig) -> str:
    """A shown title as an item: what the prompt shows of it (:func:`shown_title`), without the brand."""
    return debranded_title(replace(product, title=shown_title(product, query, prompt)), query)


def shown_items(query: str, shown: Sequence[Product], terms: Sequence[str], prompt: PromptConfig,
                checker: RuleChecker, brands: PhraseIndex) -> tuple[list[str], str | None]:
    """The rule-abiding shown titles (distinct, in rank order) and the PRF-terms item (None when none)."""
    titles = list(dict.fromkeys(candidate_title(p, query, prompt) for p in shown))
    usable = [t for t in titles if t and checker.check(query, [t], brands).kept == [t]]
    return usable, prf_item(list(terms), query, checker, brands)


def prf_item(terms: list[str], query: str, checker: RuleChecker, brands: Any) -> str | None:
    """The prompt's PRF terms as one expansion, catalogue brands left out; None when nothing rule-abiding is left."""
    kept = [t for t in terms if not brands.find([t])]
    item = " ".join(kept)
    return item if item and checker.check(query, [item], brands).kept == [item] else None


def allowed_answers(query: str, shown: Sequence[Product], terms: Sequence[str], prompt: PromptConfig,
                    checker: RuleChecker, brands: PhraseIndex, answer_prefix: str) -> list[str] | None:
    """The completions ``constrain: shown`` allows for one query (None: nothing to choose — the evaluation keeps
    the raw query, training rollouts sample it free and the reward judges it)."""
    titles, prf = shown_items(query, shown, terms, prompt, checker, brands)
    items = titles + ([prf] if prf else [])
    return answer_choices(items, prompt.n_expansions, answer_prefix,
                          keep=lambda option: checker.check(query, option, brands).kept == option) or None


def answer_choices(items: Sequence[str], n_expansions: int, answer_prefix: str,
                   keep: Callable[[list[str]], bool] | None = None) -> list[str]:
    """Every completion (after ``answer_prefix``) that writes a JSON list of 1..n distinct items.

    ``keep`` filters the lists as a whole: items that each pass the rules can still break one together
    (``near_duplicate_other``: two near-identical listings' titles), and such a list is not offered.
    """
    options = (list(option) for n in range(1, min(n_expansions, len(items)) + 1) for option in permutations(items, n))
    return [completion(option, answer_prefix) for option in options if keep is None or keep(option)]


def answer_text(expansions: list[str]) -> str:
    """The JSON list as a model should write it: accented titles stay readable (no \\u escapes)."""
    return json.dumps(expansions, ensure_ascii=False)


def completion(expansions: list[str], answer_prefix: str) -> str:
    """What the model would write after the answer prefix to produce this JSON list."""
    answer = answer_text(expansions)
    return answer[len(answer_prefix):] if answer_prefix and answer.startswith(answer_prefix) else answer
