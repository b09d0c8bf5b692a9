"""The raw query, unexpanded: the row every other method is compared with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from leser_bench.expansion import IdentityExpander
from leser_bench.methods.context import MethodContext
from leser_bench.methods.registry import MethodKind


def build_identity(method_cfg: Mapping[str, Any], context: MethodContext) -> IdentityExpander:  # noqa: ARG001
    return IdentityExpander()


IDENTITY = MethodKind("identity", build=build_identity)
