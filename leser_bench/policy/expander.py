"""The prompted policy as an Expander: prompt, generate (batched, cached), parse, check the rules.

This is LESER's policy at evaluation time, and also what the prompted baselines run: zero-shot and
few-shot (no search context), context-aware (the top ``prompt.context_k`` products the Retriever returns
for the raw query — exactly LESER's input, without training), SFT and LESER (trained weights). Every
Expansion gets ``violations``, ``fell_back``, ``generated_tokens`` and ``seconds`` filled in.
Query2doc's pseudo-document style is a comparator and lives in :mod:`baselines.prompted`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from leser_bench.data.records import Query
from leser_bench.errors import ConfigError
from leser_bench.expansion import Expansion
from leser_bench.llm import GenerationConfig, LLMBackend
from leser_bench.methods.context import MethodContext
from leser_bench.policy import llm as common
from leser_bench.policy.examples import Example, FewShotConfig, choose_examples, example_pool
from leser_bench.policy.choices import CONSTRAINTS, allowed_answers
from leser_bench.policy.prompting import PromptConfig, build_messages, feedback_context, search_context
from leser_bench.policy.rules import PhraseIndex, RuleChecker, RulesConfig, expansion_from_output

#: the method keys the prompted policy reads (a method may allow more: ``prompted_config(extra_keys=…)``).
KEYS = frozenset({"prompt", "generation", "rules", "few_shot", "chunk_size", "model", "answer_prefix", "constrain"})


@dataclass(frozen=True)
class PromptedConfig:
    prompt: PromptConfig = field(default_factory=PromptConfig)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    rules: RulesConfig = field(default_factory=RulesConfig)
    few_shot: FewShotConfig | None = None
    #: prompts per call to the backend (the generation cache is written after each call).
    chunk_size: int = 64
    #: the start of the model's answer, written for it (e.g. ``["``); "" = none.
    answer_prefix: str = ""
    #: ``shown``: decode only JSON lists of the items the prompt shows (:mod:`leser_bench.policy.choices`).
    constrain: str | None = None


class PromptedExpander:
    """``expand(queries)``: prompt, generate (batched, cached), parse, check the rules."""

    def __init__(self, name: str, config: PromptedConfig, backend: LLMBackend, context: MethodContext,
                 example_pool: Sequence[Example] = ()) -> None:
        self.name = name
        self.config = config
        self.backend = backend
        #: few-shot: the train examples the prompts' examples are chosen from.
        self.example_pool = list(example_pool)
        self.checker = RuleChecker(config.rules)
        self._context = context
        self._brands: PhraseIndex | None = None
        self._shown_memo: tuple[tuple, tuple[dict[str, Any], dict[str, list[str]]]] | None = None

    @property
    def brands(self) -> PhraseIndex:
        if self._brands is None:
            self._brands = common.brand_index(self._context)
        return self._brands

    def prompts(self, queries: Sequence[Query]) -> tuple[list[list[dict[str, str]]], float]:
        """The chat messages, and the seconds per query spent fetching search context."""
        cfg = self.config
        started = time.perf_counter()
        contexts, terms = self._shown(queries)
        per_query = (time.perf_counter() - started) / max(1, len(queries))
        messages = [build_messages(q, cfg.prompt, cfg.rules, contexts.get(q.id, ()), self.examples_for(q),
                                   terms.get(q.id, ())) for q in queries]
        return messages, per_query

    def choices(self, queries: Sequence[Query]) -> list[list[str] | None]:
        """Each query's allowed completions under ``constrain: shown`` (None: nothing to choose; ``expand`` then
        keeps the raw query)."""
        cfg = self.config
        contexts, terms = self._shown(queries)
        return [allowed_answers(q.text, contexts.get(q.id, ()), terms.get(q.id, ()), cfg.prompt, self.checker,
                                self.brands, cfg.answer_prefix) for q in queries]

    def _shown(self, queries: Sequence[Query]) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """The search context and PRF terms the prompt shows for each query (the last batch's are kept:
        a constrained ``expand`` asks for them twice, for the prompts and for the choices)."""
        key = tuple((q.id, q.text) for q in queries)
        if self._shown_memo is None or self._shown_memo[0] != key:
            cfg = self.config
            contexts = search_context(self._context.retriever, queries, cfg.prompt.context_k,
                                      self._context.dataset.product_index()) if cfg.prompt.context_k else {}
            terms = feedback_context(self._context.retriever, queries, cfg.prompt.prf_terms,
                                     self.brands if cfg.prompt.debrand else None)
            self._shown_memo = (key, (contexts, terms))
        return self._shown_memo[1]

    def examples_for(self, query: Query) -> list[Example]:
        if self.config.few_shot is None:
            return []
        return choose_examples(query, self.example_pool, self.config.few_shot)

    def prompt_for(self, messages: list[dict[str, str]]) -> Any:
        return common.prefixed_prompt(self.backend, messages, self.config.answer_prefix)

    def to_expansion(self, base: Expansion, text: str) -> Expansion:
        """The model's answer (answer prefix included) parsed into keyword rewrites and checked."""
        return expansion_from_output(base, text, self.checker, self.brands)

    def expand(self, queries: Sequence[Query]) -> list[Expansion]:
        """Under ``constrain: shown`` a query with nothing rule-abiding to choose is not generated for: it
        falls back to the raw query (decoding it free could break a rule the constraint exists to keep)."""
        messages, context_seconds = self.prompts(queries)  # a subclass's own prompts (query2doc) count here
        prompts = [self.prompt_for(m) for m in messages]
        choices = self.choices(queries) if self.config.constrain else None
        todo = [i for i in range(len(queries)) if choices is None or choices[i] is not None]
        generations = common.generate_all(self.backend, [prompts[i] for i in todo], self.config.generation,
                                          self.config.chunk_size, desc=f"{self.name}: generate",
                                          choices=None if choices is None else [choices[i] for i in todo])
        generated = dict(zip(todo, generations, strict=True))
        out = []
        for i, query in enumerate(queries):
            started = time.perf_counter()
            if i not in generated:
                out.append(Expansion(query=query, fell_back=True, seconds=context_seconds))
                continue
            base = Expansion(query=query, generated_tokens=generated[i].n_tokens)
            expansion = self.to_expansion(base, self.config.answer_prefix + generated[i].text)
            expansion.seconds = generated[i].seconds + context_seconds + time.perf_counter() - started
            out.append(expansion)
        return out


def prompted_config(method_cfg: Mapping[str, Any], context: Any,
                    extra_keys: frozenset[str] = frozenset()) -> PromptedConfig:
    """The method's PromptedConfig; raises ConfigError naming the key (needs only the config and seed)."""
    common.check_keys(method_cfg, set(KEYS | extra_keys))
    name = method_cfg.get("name")
    model = common.model_config(context, method_cfg)
    few_shot = None
    if method_cfg.get("few_shot"):
        few_shot = common.dataclass_from(FewShotConfig, method_cfg["few_shot"], f"methods.{name}.few_shot")
        evaluated = (context.config.get("evaluation") or {}).get("split", "test")
        if few_shot.split == evaluated:
            raise ConfigError(f"methods.{name}.few_shot.split={few_shot.split!r} is the evaluated split; "
                              "examples must come from another split (e.g. train)")
    config = PromptedConfig(
        prompt=common.dataclass_from(PromptConfig, method_cfg.get("prompt"), f"methods.{name}.prompt"),
        generation=common.generation_config(method_cfg, model, context),
        rules=common.rules_config(method_cfg, context),
        few_shot=few_shot,
        chunk_size=int(method_cfg.get("chunk_size", PromptedConfig.chunk_size)),
        answer_prefix=str(method_cfg.get("answer_prefix") or ""),
        constrain=method_cfg.get("constrain"),
    )
    if config.chunk_size < 1:
        raise ConfigError(f"methods.{name}.chunk_size must be >= 1")
    check_constraint(config, f"methods.{name}")
    return config


def check_constraint(config: PromptedConfig, key: str) -> None:
    """``constrain`` needs items to choose from and an answer that is only the JSON list."""
    if config.constrain not in CONSTRAINTS:
        raise ConfigError(f"{key}.constrain={config.constrain!r}: allowed null or 'shown'")
    if config.constrain is None:
        return
    if not (config.prompt.context_k or config.prompt.prf_terms):
        raise ConfigError(f"{key}.constrain=shown needs something shown: prompt.context_k or prompt.prf_terms > 0")
    if config.prompt.reasoning or config.answer_prefix not in ("", "[", '["'):
        raise ConfigError(f"{key}.constrain=shown: the answer must be only the JSON list (prompt.reasoning: false, "
                          f"answer_prefix '', '[' or '[\"'; got {config.answer_prefix!r})")
    if config.prompt.prf_terms and not config.prompt.debrand:
        raise ConfigError(f"{key}.constrain=shown with prompt.prf_terms needs prompt.debrand: true (RM3's terms are "
                          "stemmed, and a stemmed brand such as 'pawsom' searches as the brand does but is invisible "
                          "to the brand rule, which reads words as written; debrand leaves them out)")
    if config.few_shot is not None:
        raise ConfigError(f"{key}.constrain=shown: few-shot prompts are not constrained (their examples' answers "
                          "are not shown items); drop few_shot or constrain")


def prompted_expander(method_cfg: Mapping[str, Any], context: MethodContext,
                      extra_keys: frozenset[str] = frozenset(), cls: type[PromptedExpander] = PromptedExpander,
                      **kwargs: Any) -> PromptedExpander:
    """``cls`` over the method's config and the run's (shared) backend, with its few-shot pool."""
    config = prompted_config(method_cfg, context, extra_keys)
    pool: list[Example] = []
    if config.few_shot is not None:
        try:
            pool = example_pool(context.dataset, config.few_shot, context.dataset.gains.relevant_grade(
                (context.config.get("evaluation") or {}).get("relevant_grade")))
        except ValueError as exc:
            raise ConfigError(f"methods.{method_cfg.get('name')}: {exc}") from None
    backend = common.backend_for(common.model_config(context, method_cfg), context)
    return cls(str(method_cfg["name"]), config, backend, context, pool, **kwargs)
