"""What a method gets to build itself, and what a built method gives back to the pipeline."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leser_bench.data.records import Dataset
from leser_bench.expansion import Expander
from leser_bench.retrieval.retriever import Retriever


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

    def relevant_grade(self) -> int:
        """The run's relevant grade (``evaluation.relevant_grade``, else the data's default)."""
        return self.dataset.gains.relevant_grade((self.config.get("evaluation") or {}).get("relevant_grade"))


@dataclass(frozen=True)
class ConfigView:
    """What a method's config check may read: the resolved run config and its seed (no data, no engine)."""

    config: Mapping[str, Any]
    seed: int


@dataclass
class MethodSystem:
    """A built method: its expander and, for a document-side method (one that changes the index), the
    retriever over its own index and the examples of what it added to products, for the report."""

    expander: Expander
    #: ``own_retriever()`` -> the retriever over the method's own index (built on first call, inside the
    #: method's timed stages); None: the run's shared retriever.
    own_retriever: Callable[[], Retriever] | None = None
    #: ``examples(n)`` -> [(what was shown, what was added)]; None: the report shows query expansions.
    examples: Callable[[int], list[tuple[str, str]]] | None = None
    #: an external-run method: the TREC run scored in place of a search (the expander gives raw queries).
    run_file: Path | None = None


def stage_reuse(context: Any) -> bool:
    """``cache.reuse`` of the run (default true): false recomputes every artefact, trainings included."""
    return bool(((getattr(context, "config", None) or {}).get("cache") or {}).get("reuse", True))
