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
from leser_bench.retrieval.retriever import PRF_PARAMETERS, Retriever

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


#: parameter -> (lowest allowed, highest allowed or None)
_RANGES: dict[str, tuple[float, float | None]] = {
    "fb_terms": (1, None), "fb_docs": (1, None), "original_query_weight": (0.0, 1.0),
    "top_fb_terms": (1, None), "top_fb_docs": (1, None), "bottom_fb_terms": (0, None), "bottom_fb_docs": (0, None),
    "alpha": (0.0, None), "beta": (0.0, None), "gamma": (0.0, None),
}


def _check(method_cfg: Mapping[str, Any], keys: Sequence[str]) -> None:
    name = method_cfg.get("name")
    for key in keys:
        if key not in method_cfg:
            continue
        value = method_cfg[key]
        low, high = _RANGES[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low or (high is not None and value > high):
            allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
            raise ConfigError(f"methods.{name}.{key}={value!r} is impossible; allowed: a number {allowed}")


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
        out = []
        for q in tqdm(queries, desc=f"{self.name}: feedback terms", unit="q"):
            start = time.perf_counter()
            terms = feedback_context(self.retriever, [q], self.n_terms, self.brands)[q.id]
            item = prf_item(terms, q.text, self.checker, self.brands)
            out.append(Expansion(query=q, texts=[item] if item else [], fell_back=item is None,
                                 seconds=time.perf_counter() - start))
        return out


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
