"""Prompted-LLM baselines: zero-shot, few-shot, context-aware and Query2doc.

The first three are the harness's prompted policy (:class:`leser_bench.policy.expander.PromptedExpander`,
the prompt builder LESER uses) with another prompt: zero-shot asks for keyword rewrites, few-shot adds
``few_shot.k`` solved train examples, context-aware adds the top ``prompt.context_k`` search results
(LESER's input, without training). Query2doc asks for a pseudo-document ``d'``; the expanded query is
``concat(q x query_repeat, d')`` as in Query2doc. The Retriever's ``concat`` mode already puts
``retriever.query_repeat`` copies of the query first, so the expansion text carries the remaining
``query_repeat - retriever.query_repeat`` copies; under ``rrf`` the expansion text is the whole
``q x query_repeat + d'`` (one ranked list, fused with the raw query's). The passage is checked by
the rules as one expansion (``max_words`` is off in its config).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from leser_bench.data.records import Query
from leser_bench.errors import ConfigError
from leser_bench.expansion import Expansion
from leser_bench.methods import MethodContext, MethodKind
from leser_bench.policy import llm as common
from leser_bench.policy.expander import PromptedExpander, prompted_config, prompted_expander

from baselines.prompts import passage_messages

#: Query2doc's own keys: how often the query appears in the expanded query, the passage length asked for.
QUERY2DOC_DEFAULTS = {"query_repeat": 5, "passage_words": 40}


class Query2docExpander(PromptedExpander):
    """The prompted policy asking for a passage instead of keyword rewrites."""

    def __init__(self, *args: Any, query_repeat: int, passage_words: int) -> None:
        super().__init__(*args)
        self.query_repeat = query_repeat
        self.passage_words = passage_words

    def prompts(self, queries: Sequence[Query]) -> tuple[list[list[dict[str, str]]], float]:
        return [passage_messages(q, self.config.rules, self.passage_words) for q in queries], 0.0

    def to_expansion(self, base: Expansion, text: str) -> Expansion:
        passage = common.strip_reasoning(text)
        result = self.checker.check(base.query.text, [passage] if passage else [], self.brands,
                                    format_ok=bool(passage))
        texts = []
        if not result.fell_back:
            retriever_cfg = self._context.retriever.config
            already = retriever_cfg.query_repeat if retriever_cfg.combine == "concat" else 0
            copies = max(0, self.query_repeat - already)
            texts = [" ".join([base.query.text] * copies + result.kept)]
        base.texts, base.raw_output = texts, text
        base.violations, base.fell_back = result.violations, result.fell_back
        return base


def _query2doc_settings(method_cfg: Mapping[str, Any]) -> dict[str, int]:
    values = {key: int(method_cfg.get(key, default)) for key, default in QUERY2DOC_DEFAULTS.items()}
    if min(values.values()) < 1:
        raise ConfigError(f"methods.{method_cfg.get('name')}: query_repeat and passage_words must be >= 1")
    return values


def check_prompted(method_cfg: Mapping[str, Any], view: Any) -> None:
    """The method's prompt settings parse and suit its kind; raises ConfigError naming the key."""
    kind, name = method_cfg.get("kind"), method_cfg.get("name")
    if kind == "few_shot" and not method_cfg.get("few_shot"):
        raise ConfigError(f"methods.{name}.few_shot is missing (k, source, split …)")
    if kind == "context_aware" and int((method_cfg.get("prompt") or {}).get("context_k", 0)) < 1:
        raise ConfigError(f"methods.{name}.prompt.context_k must be >= 1 for a context-aware method")
    if kind == "query2doc":
        _query2doc_settings(method_cfg)
        prompted_config(method_cfg, view, frozenset(QUERY2DOC_DEFAULTS))
    else:
        prompted_config(method_cfg, view)


def build_prompted(method_cfg: Mapping[str, Any], context: MethodContext) -> PromptedExpander:
    check_prompted(method_cfg, context)
    return prompted_expander(method_cfg, context)


def build_query2doc(method_cfg: Mapping[str, Any], context: MethodContext) -> PromptedExpander:
    check_prompted(method_cfg, context)
    return prompted_expander(method_cfg, context, frozenset(QUERY2DOC_DEFAULTS), Query2docExpander,
                             **_query2doc_settings(method_cfg))


def few_shot_split(method_cfg: Mapping[str, Any]) -> str:
    return str((method_cfg.get("few_shot") or {}).get("split", "train"))


_LLM = {"check": check_prompted, "per_query_llm": True, "uses_llm": True}
ZERO_SHOT = MethodKind("zero_shot", build=build_prompted, **_LLM)
FEW_SHOT = MethodKind("few_shot", build=build_prompted, extra_split=few_shot_split,
                      seeds={"few_shot.seed": "leser_bench.policy.examples:FewShotConfig"}, **_LLM)
CONTEXT_AWARE = MethodKind("context_aware", build=build_prompted, **_LLM)
QUERY2DOC = MethodKind("query2doc", build=build_query2doc, **_LLM)
