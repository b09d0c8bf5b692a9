"""Prompted-LLM query expansion baselines: zero-shot, few-shot, Query2doc and context-aware.

All four send chat prompts to the ``model`` backend (wrapped in the generation cache, so a rerun
costs nothing), check what comes back against the ``rules`` config group, and fill
``violations``, ``fell_back``, ``generated_tokens`` and ``seconds`` on every Expansion.

- ``zero_shot``: the shared prompt builder (:func:`leser_bench.prompting.build_messages`) asks
  for a JSON list of keyword rewrites.
- ``few_shot``: the same, with ``few_shot.k`` solved examples from the train split
  (:mod:`baselines.few_shot`).
- ``context_aware``: the same builder with the top ``prompt.context_k`` products the Retriever
  returns for the raw query — exactly LESER's input, without training.
- ``query2doc``: a generated pseudo-document ``d'``; the expanded query is
  ``concat(q x query_repeat, d')`` as in Query2doc. The Retriever's ``concat`` mode already puts
  ``retriever.query_repeat`` copies of the query first, so the expansion text carries the
  remaining ``query_repeat - retriever.query_repeat`` copies; under ``rrf`` the expansion text is the
  whole ``q x query_repeat + d'`` (one ranked list, fused with the raw query's).
  The passage is checked by the rules as one expansion (``max_words`` is off in its config).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from leser_bench.data.records import Query
from leser_bench.expansion import Expansion
from leser_bench.llm import GenerationConfig, LLMBackend
from leser_bench.methods import ConfigError, MethodContext
from leser_bench.prompting import PromptConfig, build_messages, search_context
from leser_bench.rules import PhraseIndex, RuleChecker, RulesConfig, expansion_from_output

from baselines import llm_common as common
from baselines.few_shot import Example, FewShotConfig, choose_examples, example_pool
from baselines.prompts import passage_messages

STYLES = ("keywords", "passage")
KEYS = {"prompt", "generation", "rules", "few_shot", "query_repeat", "passage_words", "chunk_size", "model",
        "answer_prefix"}


@dataclass(frozen=True)
class PromptedConfig:
    style: str = "keywords"
    prompt: PromptConfig = field(default_factory=PromptConfig)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    rules: RulesConfig = field(default_factory=RulesConfig)
    few_shot: FewShotConfig | None = None
    #: Query2doc: how often the query appears in the expanded query.
    query_repeat: int = 5
    #: Query2doc: the passage length asked for in the prompt.
    passage_words: int = 60
    #: prompts per call to the backend (the generation cache is written after each call).
    chunk_size: int = 64
    #: the start of the model's answer, written for it (e.g. ``["``); "" = none.
    answer_prefix: str = ""


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

    @property
    def brands(self) -> PhraseIndex:
        if self._brands is None:
            self._brands = common.brand_index(self._context)
        return self._brands

    def prompts(self, queries: Sequence[Query]) -> tuple[list[list[dict[str, str]]], float]:
        """The chat messages, and the seconds per query spent fetching search context."""
        cfg = self.config
        if cfg.style == "passage":
            return [passage_messages(q, cfg.rules, cfg.passage_words) for q in queries], 0.0
        started = time.perf_counter()
        contexts = search_context(self._context.retriever, queries, cfg.prompt.context_k,
                                  self._context.dataset.product_index()) if cfg.prompt.context_k else {}
        per_query = (time.perf_counter() - started) / max(1, len(queries))
        messages = [build_messages(q, cfg.prompt, cfg.rules, contexts.get(q.id, ()), self.examples_for(q))
                    for q in queries]
        return messages, per_query

    def examples_for(self, query: Query) -> list[Example]:
        if self.config.few_shot is None:
            return []
        return choose_examples(query, self.example_pool, self.config.few_shot)

    def prompt_for(self, messages: list[dict[str, str]]) -> Any:
        return common.prefixed_prompt(self.backend, messages, self.config.answer_prefix)

    def expand(self, queries: Sequence[Query]) -> list[Expansion]:
        messages, context_seconds = self.prompts(queries)
        prompts = [self.prompt_for(m) for m in messages]
        generations = common.generate_all(self.backend, prompts, self.config.generation, self.config.chunk_size,
                                          desc=f"{self.name}: generate")
        out = []
        for query, generation in zip(queries, generations, strict=True):
            started = time.perf_counter()
            base = Expansion(query=query, generated_tokens=generation.n_tokens)
            text = self.config.answer_prefix + generation.text
            expansion = (self._passage_expansion(base, text) if self.config.style == "passage"
                         else expansion_from_output(base, text, self.checker, self.brands))
            expansion.seconds = generation.seconds + context_seconds + time.perf_counter() - started
            out.append(expansion)
        return out

    def _passage_expansion(self, base: Expansion, text: str) -> Expansion:
        passage = common.strip_reasoning(text)
        result = self.checker.check(base.query.text, [passage] if passage else [], self.brands,
                                    format_ok=bool(passage))
        texts = []
        if not result.fell_back:
            retriever_cfg = self._context.retriever.config
            already = retriever_cfg.query_repeat if retriever_cfg.combine == "concat" else 0
            copies = max(0, self.config.query_repeat - already)
            texts = [" ".join([base.query.text] * copies + result.kept)]
        base.texts, base.raw_output = texts, text
        base.violations, base.fell_back = result.violations, result.fell_back
        return base


# -- builders (registered in leser_bench.methods.BUILDERS) ------------------------------------------
_STYLES = {"zero_shot": "keywords", "few_shot": "keywords", "context_aware": "keywords", "query2doc": "passage"}


def check_prompted(method_cfg: Mapping[str, Any], context: Any) -> PromptedConfig:
    """The method's full PromptedConfig; raises ConfigError naming the key (needs only the config)."""
    kind, name = method_cfg.get("kind"), method_cfg.get("name")
    if kind == "few_shot" and not method_cfg.get("few_shot"):
        raise ConfigError(f"methods.{name}.few_shot is missing (k, source, split …)")
    if kind == "context_aware" and int((method_cfg.get("prompt") or {}).get("context_k", 0)) < 1:
        raise ConfigError(f"methods.{name}.prompt.context_k must be >= 1 for a context-aware method")
    return prompted_config(method_cfg, context, _STYLES.get(str(kind), "keywords"))


def build_prompted(method_cfg: Mapping[str, Any], context: MethodContext) -> PromptedExpander:
    """zero_shot, few_shot, context_aware and query2doc: one expander, the kind picks prompt and checks."""
    config = check_prompted(method_cfg, context)
    pool: list[Example] = []
    if config.few_shot is not None:
        try:
            pool = example_pool(context.dataset, config.few_shot, relevant_grade(context))
        except ValueError as exc:
            raise ConfigError(f"methods.{method_cfg.get('name')}: {exc}") from None
    backend = common.backend_for(common.model_config(context, method_cfg), context)
    return PromptedExpander(str(method_cfg["name"]), config, backend, context, pool)


def prompted_config(method_cfg: Mapping[str, Any], context: MethodContext, style: str) -> PromptedConfig:
    common.check_keys(method_cfg, KEYS)
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
        style=style,
        prompt=common.dataclass_from(PromptConfig, method_cfg.get("prompt"), f"methods.{name}.prompt"),
        generation=common.generation_config(method_cfg, model, context),
        rules=common.rules_config(method_cfg, context),
        few_shot=few_shot,
        query_repeat=int(method_cfg.get("query_repeat", 5)),
        passage_words=int(method_cfg.get("passage_words", 60)),
        chunk_size=int(method_cfg.get("chunk_size", 64)),
        answer_prefix=str(method_cfg.get("answer_prefix") or ""),
    )
    if config.query_repeat < 1 or config.chunk_size < 1 or config.passage_words < 1:
        raise ConfigError(f"methods.{name}: query_repeat, passage_words and chunk_size must be >= 1")
    return config


def relevant_grade(context: MethodContext) -> int:
    configured = (context.config.get("evaluation") or {}).get("relevant_grade")
    if configured is not None:
        return int(configured)
    grades = context.dataset.gains.grades
    return grades["E"] if "E" in grades else max(grades.values())
