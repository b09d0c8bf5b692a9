"""The expansion contract: every method (LESER, prompted LLMs, PRF, identity) is an Expander.

An :class:`Expansion` keeps the original query, the expansion texts, optional term weights (PRF),
the raw model output and the rule violations found, so that reports can show what a method did
and the Retriever can decide how to combine the query with its expansions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from leser_bench.data.records import Query


@dataclass
class Expansion:
    query: Query
    #: rewrites / keyword groups, in the order the method produced them (may be empty).
    texts: list[str] = field(default_factory=list)
    #: weighted terms for PRF-style methods (term -> weight); empty for text expansions.
    term_weights: dict[str, float] = field(default_factory=dict)
    #: what the model actually wrote (empty for non-LLM methods).
    raw_output: str = ""
    #: rule name -> number of violations of that rule found in the raw output.
    violations: dict[str, int] = field(default_factory=dict)
    #: pseudo-relevance feedback the Retriever runs natively (e.g. {"method": "rm3", "fb_terms": 10,
    #: "fb_docs": 10, "original_query_weight": 0.5}); None for text expansions.
    prf: dict[str, object] | None = None
    #: True when the rules made the method fall back to the original query.
    fell_back: bool = False
    #: generated tokens and wall seconds spent producing this expansion.
    generated_tokens: int = 0
    seconds: float = 0.0

    @property
    def query_id(self) -> str:
        return self.query.id

    @property
    def is_identity(self) -> bool:
        return not self.texts and self.prf is None


@runtime_checkable
class Expander(Protocol):
    """``expand(queries) -> expansions``, one per query, in the same order."""

    name: str

    def expand(self, queries: Sequence[Query]) -> list[Expansion]: ...


class IdentityExpander:
    """No expansion: the raw query alone."""

    name = "identity"

    def expand(self, queries: Sequence[Query]) -> list[Expansion]:
        return [Expansion(query=q) for q in queries]
