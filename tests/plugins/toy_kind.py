"""A method kind defined outside the package, as a user's plugin would be: this module and
tests/plugins/conf/method/toy.yaml are all it takes (tests/test_architecture.py runs it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from leser_bench.data.records import Query
from leser_bench.errors import ConfigError
from leser_bench.expansion import Expansion
from leser_bench.methods import ConfigView, MethodContext, MethodKind


class RepeatExpander:
    """Adds the query's last word ``times`` more times (a toy rewrite with a visible effect on BM25)."""

    def __init__(self, times: int) -> None:
        self.name = "toy"
        self.times = times

    def expand(self, queries: Sequence[Query]) -> list[Expansion]:
        return [Expansion(query=q, texts=[" ".join([q.text.split()[-1]] * self.times)]) for q in queries]


def check_toy(method_cfg: Mapping[str, Any], view: ConfigView) -> None:  # noqa: ARG001
    if int(method_cfg.get("times", 0)) < 1:
        raise ConfigError(f"methods.{method_cfg.get('name')}.times must be >= 1")


def build_toy(method_cfg: Mapping[str, Any], context: MethodContext) -> RepeatExpander:  # noqa: ARG001
    return RepeatExpander(int(method_cfg["times"]))


TOY = MethodKind("toy", build=build_toy, check=check_toy)
