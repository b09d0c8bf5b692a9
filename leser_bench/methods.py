"""From a ``method`` config to an Expander: a registry of builders, imported only when used."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leser_bench.data.records import Dataset
from leser_bench.errors import ConfigError
from leser_bench.expansion import Expander, IdentityExpander
from leser_bench.retrieval.retriever import Retriever

#: method kind -> "module:function" building it from (method_cfg, MethodContext).
BUILDERS: dict[str, str] = {
    "identity": "leser_bench.methods:build_identity",
    "rm3": "baselines.prf:build_rm3",
    "rocchio": "baselines.prf:build_rocchio",
    "zero_shot": "baselines.prompted:build_prompted",
    "few_shot": "baselines.prompted:build_prompted",
    "query2doc": "baselines.prompted:build_prompted",
    "context_aware": "baselines.prompted:build_prompted",
    "doc2query": "baselines.doc2query:build_doc2query",
    "sft": "baselines.sft:build_sft",
    "leser": "leser_bench.leser:build_leser",
}


#: method kind -> "module:function" checking a method's config alone (no data, no engine, no model),
#: so impossible values are refused before any work. Kinds without an entry need no check.
CHECKERS: dict[str, str] = {
    "rm3": "baselines.prf:check_rm3",
    "rocchio": "baselines.prf:check_rocchio",
    "zero_shot": "baselines.prompted:check_prompted",
    "few_shot": "baselines.prompted:check_prompted",
    "context_aware": "baselines.prompted:check_prompted",
    "query2doc": "baselines.prompted:check_prompted",
    "doc2query": "baselines.doc2query:check_doc2query",
    "sft": "baselines.sft:check_sft",
    "leser": "leser_bench.leser:check_leser",
}


#: kinds that prompt an LLM once per evaluated query: on a CPU budget they see the budget's sample of the
#: evaluated split (leser_bench.evaluation.query_sets); every other kind runs on the whole split.
QUERY_LLM_KINDS = frozenset({"zero_shot", "few_shot", "query2doc", "context_aware", "sft", "leser"})


def required_split(method_cfg: Mapping[str, Any]) -> str | None:
    """The split a method must read besides the evaluated one (training or few-shot examples), or None."""
    kind = method_cfg.get("kind")
    if kind == "few_shot":
        return str((method_cfg.get("few_shot") or {}).get("split", "train"))
    if kind in ("sft", "leser") and not method_cfg.get("checkpoint"):
        return "train"
    return None


@dataclass
class MethodContext:
    """What a method may use to build itself."""

    dataset: Dataset
    retriever: Retriever
    cache_dir: Path
    seed: int
    #: the whole resolved config, for groups a method needs (model, rules, train …).
    config: Mapping[str, Any] = field(default_factory=dict)
    #: the run directory: trainings write to ``<run_dir>/training/<method>`` (None: a cache directory).
    run_dir: Path | None = None


@dataclass(frozen=True)
class ConfigView:
    """What a method's config check may read: the resolved run config and its seed (no data, no engine)."""

    config: Mapping[str, Any]
    seed: int


def build_identity(method_cfg: Mapping[str, Any], context: MethodContext) -> Expander:
    return IdentityExpander()


def check_method_config(key: str, method_cfg: Mapping[str, Any]) -> None:
    kind = method_cfg.get("kind")
    if kind not in BUILDERS:
        raise ConfigError(f"methods.{key}.kind={kind!r} is not a known method kind; allowed: {sorted(BUILDERS)}")
    if not method_cfg.get("name"):
        raise ConfigError(f"methods.{key}.name is missing")


def check_method_settings(key: str, method_cfg: Mapping[str, Any], view: ConfigView) -> None:
    """The kind's own settings check (its CHECKERS entry): impossible values raise ConfigError."""
    check_method_config(key, method_cfg)
    target = CHECKERS.get(str(method_cfg["kind"]))
    if target is None:
        return
    module_name, function_name = target.split(":")
    getattr(importlib.import_module(module_name), function_name)(method_cfg, view)


def build_expander(method_cfg: Mapping[str, Any], context: MethodContext) -> Expander:
    check_method_config(str(method_cfg.get("name")), method_cfg)
    module_name, function_name = BUILDERS[method_cfg["kind"]].split(":")
    builder = getattr(importlib.import_module(module_name), function_name)
    expander = builder(method_cfg, context)
    expander.name = method_cfg["name"]
    return expander
