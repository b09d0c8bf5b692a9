"""``kind: run_file``: an existing TREC run (another tool's BM25, a dense retriever, a production log)
scored beside the others — metrics, coverage, paired tests, A/B and both reports — without a search. The
file is read once; every line is checked before any work (6 columns, a numeric score, naming file:line);
queries of other splits in it are left out, each query is cut to the run's depth ``retriever.k``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from leser_bench.errors import ConfigError
from leser_bench.expansion import IdentityExpander
from leser_bench.io.trec import run_entries
from leser_bench.methods.context import ConfigView, MethodContext, MethodSystem
from leser_bench.methods.registry import MethodKind
from leser_bench.policy import llm as common


def _path(method_cfg: Mapping[str, Any]) -> Path:
    common.check_keys(method_cfg, {"path"})
    if not method_cfg.get("path"):
        raise ConfigError(f"methods.{method_cfg.get('name')}.path is missing (a TREC run file)")
    path = Path(str(method_cfg["path"])).expanduser()
    if not path.is_file():
        raise ConfigError(f"methods.{method_cfg.get('name')}.path: {path}: no such run file")
    return path


def check_run_file(method_cfg: Mapping[str, Any], view: ConfigView) -> None:  # noqa: ARG001
    path = _path(method_cfg)
    try:
        for _ in run_entries(path):
            pass
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def build_run_file(method_cfg: Mapping[str, Any], context: MethodContext) -> MethodSystem:  # noqa: ARG001
    return MethodSystem(expander=IdentityExpander(), run_file=_path(method_cfg))


RUN_FILE = MethodKind("run_file", build=build_run_file, check=check_run_file, external_run=True)
