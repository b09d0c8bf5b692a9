"""Pseudo-relevance feedback baselines (Pyserini's RM3 and Rocchio) as Expanders.

PRF is a rewrite placed between two retrievals (as in PyTerrier): the Expansion asks the Retriever
to run Pyserini's native feedback (``Expansion.prf``), so the scores are exactly Pyserini's; for
RM3 the expanded query model (feedback terms and weights) is recorded for reports.

``rm3_terms`` is the model-free row a prompted policy must beat when its prompt shows the engine's
PRF terms (``prompt.prf_terms``): RM3's heaviest terms for the raw query written as one text expansion,
exactly the PRF-terms item a constrained policy may copy (query words and catalogue brands, as
written and as stemmed, left out; the platform rules applied). A policy that always copies the line
equals it, whatever the retriever does with text expansions (e.g. ``retriever.expansion_prf``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from tqdm.auto import tqdm

from leser_bench.data.records import Query
from leser_bench.expansion import Expansion
from leser_bench.errors import ConfigError
from leser_bench.methods import MethodKind
from leser_bench.policy.choices import prf_item
from leser_bench.policy.llm import check_keys, rules_config
from leser_bench.policy.prompting import feedback_context
from leser_bench.policy.rules import PhraseIndex, RuleChecker, catalogue_brands
from leser_bench.retrieval.retriever import PRF_PARAMETERS, Retriever, check_prf_values

RM3_KEYS = PRF_PARAMETERS["rm3"]
ROCCHIO_KEYS = PRF_PARAMETERS["rocchio"]


class PRFExpander:
    def __init__(self, name: str, prf: Mapping[str, Any], retriever: Retriever, record_terms: bool) -> None:
        self.name = name
        self.prf = dict(prf)
        self.retriever = retriever
        self.record_terms = record_terms

    def expand(self, queries: Sequence[Query]) -> list[Expansion]:
        out = []
        for q in tqdm(queries, desc=f"{self.name}: feedback terms", unit="q", disable=not self.record_terms):
            start = time.perf_counter()
            terms = self.retriever.feedback_terms(q.text, self.prf) if self.record_terms else {}
            out.append(Expansion(query=q, prf=dict(self.prf), term_weights=terms, seconds=time.perf_counter() - start))
        return out


def _params(method_cfg: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    return {key: method_cfg[key] for key in keys if key in method_cfg}


def _check(method_cfg: Mapping[str, Any], keys: Sequence[str]) -> None:
    try:
        check_prf_values(method_cfg, keys, f"methods.{method_cfg.get('name')}")
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def check_rm3(method_cfg: Mapping[str, Any], view: Any) -> None:  # noqa: ARG001
    _check(method_cfg, RM3_KEYS)


def check_rocchio(method_cfg: Mapping[str, Any], view: Any) -> None:  # noqa: ARG001
    _check(method_cfg, ROCCHIO_KEYS)


def build_rm3(method_cfg: Mapping[str, Any], context: Any) -> PRFExpander:
    check_rm3(method_cfg, context)
    prf = {"method": "rm3", **_params(method_cfg, RM3_KEYS)}
    return PRFExpander(method_cfg["name"], prf, context.retriever, record_terms=True)


def build_rocchio(method_cfg: Mapping[str, Any], context: Any) -> PRFExpander:
    check_rocchio(method_cfg, context)
    prf = {"method": "rocchio", **_params(method_cfg, ROCCHIO_KEYS)}
    return PRFExpander(method_cfg["name"], prf, context.retriever, record_terms=False)


class PRFTermsExpander:
    """RM3's feedback terms for the raw query as one text expansion (the prompt's PRF-terms item)."""

    def __init__(self, name: str, n_terms: int, retriever: Retriever, brands: PhraseIndex,
                 checker: RuleChecker) -> None:
        self.name, self.n_terms, self.retriever, self.brands, self.checker = name, n_terms, retriever, brands, checker

    def expand(self, queries: Sequence[Query]) -> list[Expansion]:
        start = time.perf_counter()
        # one call: feedback_context analyzes the catalogue's brands once per call, not once per query
        terms = feedback_context(self.retriever, queries, self.n_terms, self.brands)
        per_query = (time.perf_counter() - start) / max(1, len(queries))
        items = {q.id: prf_item(terms[q.id], q.text, self.checker, self.brands) for q in queries}
        return [Expansion(query=q, texts=[items[q.id]] if items[q.id] else [], fell_back=items[q.id] is None,
                          seconds=per_query) for q in queries]


def check_rm3_terms(method_cfg: Mapping[str, Any], view: Any) -> None:  # noqa: ARG001
    check_keys(method_cfg, {"n_terms", "rules"})
    n = method_cfg.get("n_terms")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"methods.{method_cfg.get('name')}.n_terms={n!r} is impossible; allowed: a whole number >= 1")


def build_rm3_terms(method_cfg: Mapping[str, Any], context: Any) -> PRFTermsExpander:
    check_rm3_terms(method_cfg, context)
    checker = RuleChecker(rules_config(method_cfg, context))
    return PRFTermsExpander(method_cfg["name"], int(method_cfg["n_terms"]), context.retriever,
                            catalogue_brands(context.dataset.products), checker)


RM3 = MethodKind("rm3", build=build_rm3, check=check_rm3)
RM3_TERMS = MethodKind("rm3_terms", build=build_rm3_terms, check=check_rm3_terms)
ROCCHIO = MethodKind("rocchio", build=build_rocchio, check=check_rocchio)
