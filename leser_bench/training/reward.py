"""LESER's search-engine reward: TRL reward callables backed by the evaluation Retriever and measures.

Each completion is parsed (:func:`leser_bench.policy.parsing.parse_expansions`), checked against the
platform rules (:class:`leser_bench.policy.rules.RuleChecker`), and the expansions it keeps are searched
with the **same** :class:`~leser_bench.retrieval.Retriever` and scored with the **same**
:class:`~leser_bench.evaluation.Measure` objects and :func:`~leser_bench.evaluation.evaluate` that
evaluation uses, against the TRAINING qrels only. Components (each a TRL reward callable, so TRL
logs ``rewards/<name>/mean`` for each; weights go to ``GRPOConfig.reward_weights``):

- ``relevance``: the configured measure (default nDCG@10) of the combined run, or the rank credit of
  its relevant products (``relevance: rank``), minus the raw query's value when ``improvement`` is on (a
  fallback to the raw query scores exactly 0 then), optionally mapped through ``tiers``
  (:mod:`leser_bench.training.reward_designs`);
- ``coverage``: NewRelShare@K (:mod:`leser_bench.evaluation.expansion_metrics`);
- ``compliance``: ``-min(violation_cap, platform-rule violations)`` (every rule but ``format``);
- ``format``: ``-1`` when the output is not in the expected format, else 0.

All searches of one GRPO batch go in one ``Retriever.search`` (one ``batch_search``); results are
cached by (query id, kept expansion texts), so a repeated completion costs nothing.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from leser_bench.config import section
from leser_bench.data.records import Product, Qrels, Query
from leser_bench.evaluation import evaluate
from leser_bench.evaluation.measures import MeasureError, parse
from leser_bench.evaluation.expansion_metrics import CoverageConfig, coverage
from leser_bench.evaluation.measures import Measure
from leser_bench.expansion import Expansion
from leser_bench.policy.parsing import parse_expansions
from leser_bench.policy.rules import RuleChecker, catalogue_brands
from leser_bench.training.reward_designs import RELEVANCE, check_tiers, rank_credit, tiered

COMPONENTS = ("relevance", "coverage", "compliance", "format")
DEFAULT_WEIGHTS = {"relevance": 1.0, "coverage": 1.0, "compliance": 0.25, "format": 0.25}
_SUB = "#r"  # sub-query id separator inside one batch search


class RewardLeakError(ValueError):
    """A query outside the training qrels reached the reward (it must never see test judgments)."""


@dataclass(frozen=True)
class RewardConfig:
    #: ranking measure of the combined run, an ir-measures name resolved like evaluation's.
    measure: str = "nDCG@10"
    #: relevance = measure(expanded) - measure(raw query) instead of the plain value.
    improvement: bool = True
    #: K of NewRelShare@K.
    coverage_k: int = 100
    #: retrieval depth of reward searches (>= the measure cutoff and coverage_k).
    depth: int = 100
    #: the compliance penalty counts at most this many violations.
    violation_cap: int = 4
    #: component -> weight (components with weight 0 are not computed by TRL at all).
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    #: entries kept in each LRU cache.
    cache_size: int = 200_000
    #: ``measure`` (the measure above) or ``rank`` (credit by the rank of every relevant product).
    relevance: str = "measure"
    #: ``[[threshold, reward], ...]`` (thresholds decreasing) applied to the relevance value; None = none.
    tiers: tuple[tuple[float, float], ...] | None = None
    #: the reward of a value below every tier.
    tier_floor: float = 0.0

    def __post_init__(self) -> None:
        if self.relevance not in RELEVANCE:
            raise ValueError(f"reward.relevance={self.relevance!r}; allowed: {list(RELEVANCE)}")
        object.__setattr__(self, "tiers", check_tiers(self.tiers))
        unknown = sorted(set(self.weights) - set(COMPONENTS))
        if unknown:
            raise ValueError(f"reward.weights: unknown components {unknown}; known: {list(COMPONENTS)}")
        if self.depth < self.coverage_k or self.coverage_k < 1:
            raise ValueError(f"reward.depth ({self.depth}) must be >= reward.coverage_k ({self.coverage_k}) >= 1")
        if self.violation_cap < 1 or self.cache_size < 1:
            raise ValueError("reward.violation_cap and reward.cache_size must be >= 1")
        try:
            cutoff = parse(self.measure).params.get("cutoff")
        except MeasureError as exc:
            raise ValueError(f"reward.measure: {exc}") from None
        if cutoff is not None and cutoff > self.depth:
            raise ValueError(f"reward.measure={self.measure!r}: cutoff {cutoff} exceeds reward.depth={self.depth}")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> RewardConfig:
        """Unknown keys refused; ``weights`` given in part keep the default weight of the others."""
        return section(cls, values, "reward", label="reward",
                       nested={"weights": lambda weights: {**DEFAULT_WEIGHTS, **dict(weights or {})}})

    def active(self) -> list[str]:
        return [c for c in COMPONENTS if float(self.weights.get(c, 0.0)) != 0.0]


@dataclass(frozen=True)
class Scored:
    """One completion's reward components and what the rules did to it."""

    components: dict[str, float]
    kept: tuple[str, ...]
    violations: dict[str, int]
    fell_back: bool
    format_ok: bool

    @property
    def violated(self) -> bool:
        """Any rule broken, ``format`` included (the evaluation's ``Violated`` measure)."""
        return any(v > 0 for v in self.violations.values())

    def total(self, weights: Mapping[str, float]) -> float:
        return sum(float(weights.get(c, 0.0)) * v for c, v in self.components.items())


class _LRU(OrderedDict):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key: Any, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


def completion_text(completion: Any) -> str:
    """The text of a TRL completion: a string, or a list of chat messages (the assistant's content)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence):
        return "".join(str(m.get("content", "")) for m in completion if isinstance(m, Mapping))
    return "" if completion is None else str(completion)


class SearchReward:
    """Scores completions for training queries; one instance is shared by all component callables."""

    def __init__(self, config: RewardConfig, retriever: Any, queries: Sequence[Query], qrels: Qrels,
                 measure: Measure, products: Sequence[Product], checker: RuleChecker,
                 relevant_grade: int, facet: str = "product_type", forbidden_ids: Iterable[str] = (),
                 answer_prefix: str = "") -> None:
        leaked = sorted(set(qrels) & set(forbidden_ids))
        if leaked:
            raise RewardLeakError(f"reward qrels hold {len(leaked)} ids of held-out splits, e.g. {leaked[:3]}")
        cutoff = measure.cutoff
        if cutoff is not None and cutoff > config.depth:
            raise ValueError(f"reward.measure {measure.name} has cutoff {cutoff} > reward.depth {config.depth}")
        self.config = config
        self.retriever = retriever
        #: written for the model before its completion (e.g. ``["``): parsed as part of the answer.
        self.answer_prefix = answer_prefix
        self.queries = {q.id: q for q in queries if q.id in qrels}
        self.qrels = {qid: dict(docs) for qid, docs in qrels.items()}
        self.measure = measure
        self.checker = checker
        self.brands = catalogue_brands(products)
        self.facets = {p.id: str(getattr(p, facet, "") or "") for p in products}
        self.coverage_config = CoverageConfig(k=config.coverage_k, relevant_grade=relevant_grade, facet=facet)
        self._check_cache: _LRU = _LRU(config.cache_size)
        self._search_cache: _LRU = _LRU(config.cache_size)
        self._last_batch: tuple[tuple, list[Scored]] | None = None
        self._raw_run: dict[str, dict[str, float]] | None = None
        self._raw_value: dict[str, float] = {}
        #: counters: completions scored, searches sent, seconds spent, batches.
        self.stats = {"completions": 0, "searched": 0, "search_calls": 0, "seconds": 0.0, "batches": 0}

    # -- reference: the raw query ------------------------------------------------------------
    def _ensure_raw(self) -> None:
        if self._raw_run is not None:
            return
        queries = list(self.queries.values())
        self._raw_run = self.retriever.search([Expansion(query=q) for q in queries], k=self.config.depth)
        self._raw_value = self._values(self._raw_run, {q.id: self.qrels[q.id] for q in queries}, "raw")

    def _values(self, run: dict[str, dict[str, float]], qrels: Qrels, name: str) -> dict[str, float]:
        """query id -> the relevance design's value of ``run`` (the measure, or the rank credit)."""
        if self.config.relevance == "rank":
            grade = self.coverage_config.relevant_grade
            return {qid: rank_credit(run.get(qid, {}), judged, grade, self.config.depth) for qid, judged in qrels.items()}
        frame = evaluate(run, qrels, [self.measure], name)
        return dict(zip(frame["query_id"], frame["value"].astype(float)))

    def raw_value(self, query_id: str) -> float:
        self._guard(query_id)
        self._ensure_raw()
        return self._raw_value[query_id]

    def _guard(self, query_id: str) -> None:
        if query_id not in self.qrels or query_id not in self.queries:
            raise RewardLeakError(f"query id {query_id!r} is not a training query with qrels; the reward only "
                                  "scores the training split")

    # -- scoring -------------------------------------------------------------------------------
    def check(self, query_id: str, text: str) -> tuple[tuple[str, ...], dict[str, int], bool, bool]:
        """(kept expansions, violations, fell_back, format_ok) for one completion, cached."""
        key = (query_id, text)
        if key not in self._check_cache:
            parsed = parse_expansions(text)
            result = self.checker.check(self.queries[query_id].text, parsed.expansions, self.brands,
                                        format_ok=parsed.format_ok)
            self._check_cache.put(key, (tuple(result.kept), dict(result.violations), result.fell_back,
                                        parsed.format_ok))
        return self._check_cache[key]

    def score(self, query_ids: Sequence[str], completions: Sequence[Any]) -> list[Scored]:
        """Every component for each (query id, completion); one search for all uncached expansions."""
        texts = [self.answer_prefix + completion_text(c) for c in completions]
        if len(texts) != len(query_ids):
            raise ValueError(f"{len(texts)} completions but {len(query_ids)} query ids")
        batch_key = (tuple(query_ids), tuple(texts))
        if self._last_batch is not None and self._last_batch[0] == batch_key:
            return self._last_batch[1]  # the other component callables of the same batch
        started = time.perf_counter()
        for qid in query_ids:
            self._guard(qid)
        self._ensure_raw()
        checked = [self.check(qid, text) for qid, text in zip(query_ids, texts)]
        todo = sorted({(qid, c[0]) for qid, c in zip(query_ids, checked)
                       if c[0] and (qid, c[0]) not in self._search_cache})
        if todo:
            self._search(todo)
        out = []
        for qid, (kept, violations, fell_back, format_ok) in zip(query_ids, checked):
            value, new_share = self._search_cache[(qid, kept)] if kept else (self._raw_value[qid], 0.0)
            platform = sum(v for rule, v in violations.items() if rule != "format")
            relevance = value - self._raw_value[qid] if self.config.improvement else value
            components = {
                "relevance": tiered(relevance, self.config.tiers, self.config.tier_floor),
                "coverage": new_share,
                "compliance": -float(min(self.config.violation_cap, platform)),
                "format": 0.0 if format_ok else -1.0,
            }
            out.append(Scored(components, kept, violations, fell_back, format_ok))
        self.stats["completions"] += len(texts)
        self.stats["batches"] += 1
        self.stats["seconds"] += time.perf_counter() - started
        self._last_batch = (batch_key, out)
        return out

    def _search(self, todo: list[tuple[str, tuple[str, ...]]]) -> None:
        expansions, qrels, raw = [], {}, {}
        for n, (qid, kept) in enumerate(todo):
            sub_id = f"{qid}{_SUB}{n}"
            query = self.queries[qid]
            expansions.append(Expansion(query=Query(sub_id, query.text, query.meta), texts=list(kept)))
            qrels[sub_id] = self.qrels[qid]
            raw[sub_id] = self._raw_run.get(qid, {}) if self._raw_run else {}
        run = self.retriever.search(expansions, k=self.config.depth)
        value_of = self._values(run, qrels, "reward")
        cov = coverage(run, raw, qrels, self.facets, self.coverage_config, "reward")
        share_name = f"NewRelShare@{self.coverage_config.k}"
        share_of = dict(zip(cov.loc[cov["measure"] == share_name, "query_id"],
                            cov.loc[cov["measure"] == share_name, "value"].astype(float)))
        for n, (qid, kept) in enumerate(todo):
            sub_id = f"{qid}{_SUB}{n}"
            self._search_cache.put((qid, kept), (value_of[sub_id], share_of[sub_id]))
        self.stats["searched"] += len(todo)
        self.stats["search_calls"] += 1

    def total(self, query_id: str, completion: Any) -> float:
        """The weighted reward of one completion (SFT's rejection sampling ranks by it)."""
        return self.score([query_id], [completion])[0].total(self.config.weights)

    def callables(self) -> list[RewardComponent]:
        """One TRL reward callable per active component, in :data:`COMPONENTS` order."""
        return [RewardComponent(self, name) for name in self.config.active()]

    def weights(self) -> list[float]:
        return [float(self.config.weights[name]) for name in self.config.active()]


class RewardComponent:
    """``reward(prompts, completions, query_id=[...], **columns) -> list[float]`` for one component.

    The first component called for a batch also logs, through TRL's ``log_metric``, the share of
    completions that broke a rule (``violation_rate``, format included), fell back to the raw query,
    and the seconds the reward spent on the batch.
    """

    def __init__(self, scorer: SearchReward, component: str) -> None:
        if component not in COMPONENTS:
            raise ValueError(f"unknown reward component {component!r}; known: {list(COMPONENTS)}")
        self.scorer = scorer
        self.component = component
        self.__name__ = component  # TRL names the logged metric rewards/<__name__>/mean

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], query_id: Sequence[str] | None = None,
                 **columns: Any) -> list[float | None]:
        if query_id is None:
            raise ValueError("the training dataset needs a `query_id` column for the search reward")
        before = self.scorer.stats["batches"], self.scorer.stats["seconds"]
        scored = self.scorer.score(list(query_id), completions)
        log_metric = columns.get("log_metric")
        if callable(log_metric) and self.scorer.stats["batches"] != before[0]:
            n = max(1, len(scored))
            log_metric("violation_rate", sum(s.violated for s in scored) / n)
            log_metric("fallback_rate", sum(s.fell_back for s in scored) / n)
            log_metric("reward_seconds", self.scorer.stats["seconds"] - before[1])
        return [s.components[self.component] for s in scored]
