"""The one table of method kinds. Each kind is declared once, next to its code, as a :class:`MethodKind`:
what builds it, what checks its config, whether it prompts an LLM per query, trains, or changes the index.
The pipeline, the config validation, the report's run info and the training CLI all read it from here.

A kind is found by its name in :data:`BUILTIN` (imported only when used, so ``--help`` stays fast), in
kinds added with :func:`register`, in the entry points of installed packages (group ``leser_bench.methods``,
read when a name is looked up), or as ``module:ATTRIBUTE`` naming a MethodKind in any importable module
(``kind: my_package.my_kind:KIND`` in a method YAML): a new kind is one module plus one YAML. The lookup
is :class:`leser_bench.plugins.PluginTable`, shared with the data sources.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leser_bench.errors import ConfigError
from leser_bench.expansion import Expander
from leser_bench.methods.context import ConfigView, MethodContext, MethodSystem
from leser_bench.plugins import PluginTable

#: a seed source meaning "the run's ``seed``" (see :attr:`MethodKind.seeds`).
RUN_SEED = "the run's seed"

Builder = Callable[[Mapping[str, Any], MethodContext], "Expander | MethodSystem"]


@dataclass(frozen=True)
class MethodKind:
    """Everything the harness needs to know about one kind of method."""

    name: str
    #: ``build(method_cfg, context)`` -> an Expander, or a MethodSystem for a document-side method.
    build: Builder
    #: ``check(method_cfg, view)``: refuses impossible settings (ConfigError) before any data is loaded.
    check: Callable[[Mapping[str, Any], ConfigView], object] | None = None
    #: prompts an LLM once per evaluated query: on a CPU budget it sees the budget's sample of the split.
    per_query_llm: bool = False
    #: uses an LLM at all (the run info records its model and generation seed).
    uses_llm: bool = False
    #: changes the index: built even when its expansions are cached, and searched through its own retriever.
    document_side: bool = False
    #: scores an existing TREC run (``MethodSystem.run_file``) instead of searching: no expansion or run cache.
    external_run: bool = False
    #: ``train(method_cfg, context)`` -> the final model directory (what the training CLI runs).
    train: Callable[[Mapping[str, Any], MethodContext], Path] | None = None
    #: ``extra_split(method_cfg)`` -> the split it reads besides the evaluated one (examples, training), or None.
    extra_split: Callable[[Mapping[str, Any]], str | None] | None = None
    #: the seeds a config may leave out: dotted key -> RUN_SEED or the "module:Class" whose ``seed`` default
    #: is taken (the report's run info lists every seed a run used). An LLM kind's ``generation.seed`` is added.
    seeds: Mapping[str, str] = field(default_factory=dict)

    def seed_sources(self) -> dict[str, str]:
        return {**({"generation.seed": RUN_SEED} if self.uses_llm else {}), **self.seeds}


#: kind name -> "module:ATTRIBUTE" of its MethodKind.
BUILTIN: dict[str, str] = {
    "identity": "leser_bench.methods.identity:IDENTITY",
    "rm3": "baselines.prf:RM3",
    "rocchio": "baselines.prf:ROCCHIO",
    "rm3_terms": "baselines.prf:RM3_TERMS",
    "zero_shot": "baselines.prompted:ZERO_SHOT",
    "few_shot": "baselines.prompted:FEW_SHOT",
    "query2doc": "baselines.prompted:QUERY2DOC",
    "context_aware": "baselines.prompted:CONTEXT_AWARE",
    "doc2query": "baselines.doc2query:DOC2QUERY",
    "sft": "baselines.sft:SFT",
    "leser": "leser_bench.methods.leser:LESER",
    "from_file": "leser_bench.methods.from_file:FROM_FILE",
    "run_file": "leser_bench.methods.run_file:RUN_FILE",
}
#: entry-point group in which installed packages declare their MethodKinds (see leser_bench.plugins).
ENTRY_POINT_GROUP = "leser_bench.methods"
_TABLE: PluginTable[MethodKind] = PluginTable("method kind", MethodKind, ENTRY_POINT_GROUP, BUILTIN, ConfigError)


def register(kind: MethodKind) -> MethodKind:
    """Make ``kind`` known by its name for this process (e.g. a plugin's own kind)."""
    return _TABLE.register(kind)


def known_kinds() -> list[str]:
    """Built-in, registered and entry-point kind names."""
    return _TABLE.names()


def kind_of(method_cfg: Mapping[str, Any], key: str | None = None) -> MethodKind:
    """The MethodKind of a method config; an unknown kind is a ConfigError listing the known ones."""
    return _TABLE.find(method_cfg.get("kind"), f"methods.{key or method_cfg.get('name')}.kind")


def check_method_settings(key: str, method_cfg: Mapping[str, Any], view: ConfigView) -> None:
    """The method has a name and a known kind, and the kind's own check passes (ConfigError if not)."""
    kind = kind_of(method_cfg, key)
    if not method_cfg.get("name"):
        raise ConfigError(f"methods.{key}.name is missing")
    if kind.check is not None:
        kind.check(method_cfg, view)


def build_method(method_cfg: Mapping[str, Any], context: MethodContext) -> MethodSystem:
    """The built method; its expander is named after the method."""
    kind = kind_of(method_cfg)
    if not method_cfg.get("name"):
        raise ConfigError(f"methods.{method_cfg.get('kind')}.name is missing")
    built = kind.build(method_cfg, context)
    system = built if isinstance(built, MethodSystem) else MethodSystem(expander=built)
    if kind.document_side and system.own_retriever is None:
        raise TypeError(f"method kind {kind.name!r} is document-side but its builder returned no retriever")
    if kind.external_run and system.run_file is None:
        raise TypeError(f"method kind {kind.name!r} scores an external run but its builder named no run_file")
    system.expander.name = str(method_cfg["name"])
    return system


def build_expander(method_cfg: Mapping[str, Any], context: MethodContext) -> Expander:
    """The method's expander alone (tests, notebooks)."""
    return build_method(method_cfg, context).expander
