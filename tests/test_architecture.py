"""The layout's promises, checked on the source: the harness never imports the comparators, no import
cycles, no oversized modules, one table of method kinds, and a new kind is one module plus one YAML."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from conftest import CONF_DIR, REPO
from leser_bench.errors import ConfigError
from leser_bench.methods import BUILTIN, MethodKind, kind_of

PACKAGES = ("leser_bench", "baselines")
MAX_LINES = 410  # "about 400"


def sources(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree: ast.AST, module: str, is_package: bool, top_level_only: bool) -> set[str]:
    """Absolute names of the modules ``tree`` imports (``from a import b`` -> ``a.b`` when that is a module)."""
    nodes = tree.body if top_level_only else list(ast.walk(tree))  # type: ignore[attr-defined]
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


def test_the_harness_never_imports_the_comparators() -> None:
    offenders = []
    for path in sources("leser_bench"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name in imported(tree, module_name(path), path.name == "__init__.py", top_level_only=False):
            if name == "baselines" or name.startswith("baselines."):
                offenders.append(f"{path.relative_to(REPO)} imports {name}")
    assert not offenders, offenders


def test_no_import_cycles_at_module_level() -> None:
    modules = {module_name(p): p for package in PACKAGES for p in sources(package)}
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[name] = {m for m in imported(tree, name, path.name == "__init__.py", top_level_only=True)
                       if m in modules and m != name}
    # a package's __init__ importing its own submodules is how packages re-export: not a cycle of concern
    for name in graph:
        graph[name] = {m for m in graph[name] if not (m.startswith(name + ".") and modules[name].name == "__init__.py")}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt] if nxt in stack else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, cycles


def test_no_module_is_oversized() -> None:
    long = {str(p.relative_to(REPO)): n for package in PACKAGES for p in sources(package)
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, long


def test_every_kind_is_declared_once_and_every_method_yaml_names_one() -> None:
    for name in BUILTIN:
        kind = kind_of({"kind": name, "name": name})
        assert isinstance(kind, MethodKind) and kind.name == name
    from omegaconf import OmegaConf

    for path in sorted((CONF_DIR / "method").glob("*.yaml")):
        assert kind_of(OmegaConf.to_container(OmegaConf.load(path))).name in BUILTIN, path
    with pytest.raises(ConfigError, match="not a known method kind; allowed: \\[.*'leser'.*\\]"):
        kind_of({"kind": "lesr", "name": "x"})
    with pytest.raises(ConfigError, match="cannot load the method kind 'nowhere:KIND'"):
        kind_of({"kind": "nowhere:KIND", "name": "x"})


@pytest.mark.slow
def test_a_new_kind_is_one_module_and_one_yaml(tmp_path: Path, cache_root: Path, monkeypatch) -> None:
    """tests/plugins/toy_kind.py + tests/plugins/conf/method/toy.yaml run through the whole pipeline."""
    from leser_bench.pipeline import run_experiment

    monkeypatch.syspath_prepend(str(REPO / "tests"))
    plugin_conf = REPO / "tests" / "plugins" / "conf"
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[
            f"hydra.searchpath=[file://{plugin_conf}]", "suite=prf", "+method@methods.toy=toy",
            f"cache_dir={cache_root}", "dataset.n_test=40", "retriever.k=100", "retriever.threads=1",
            "abtest.n_users=200", "abtest.interleaving_impressions=200"])
    result = run_experiment(cfg, tmp_path / "run")
    assert list(result.leaderboard.index) == ["identity", "rm3", "toy"]
    run = tmp_path / "run"
    assert (run / "runs" / "toy.trec").stat().st_size > 0
    first = json.loads((run / "expansions" / "toy.jsonl").read_text().splitlines()[0])
    assert first["texts"] == [" ".join([first["query"].split()[-1]] * 2)]
    stats = pd.read_csv(run / "stats.csv")
    assert "toy" in set(stats["method"])
    assert "toy" in (run / "report.md").read_text()
    assert sys.modules["plugins.toy_kind"].TOY is kind_of({"kind": "plugins.toy_kind:TOY", "name": "toy"})


def test_a_trained_checkpoint_runs_on_the_backend_the_model_group_names(tmp_path: Path) -> None:
    """One backend factory: `model.backend: vllm` is honoured for a trained checkpoint too (it was a
    hard-coded TransformersBackend), with the weights hashed into the generation cache's model id."""
    from omegaconf import OmegaConf

    from leser_bench.llm.factory import FingerprintedBackend
    from leser_bench.llm.generation_cache import CachedBackend
    from leser_bench.llm.vllm_backend import VLLMBackend
    from leser_bench.methods import MethodContext
    from leser_bench.policy.trained import policy_expander

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        config = OmegaConf.to_container(compose(config_name="config", overrides=["model=vllm_qwen2_5_1_5b"]),
                                        resolve=True)
    model_dir = tmp_path / "final"
    model_dir.mkdir()
    (model_dir / "config.json").write_text("{}")
    (model_dir / "model.safetensors").write_bytes(b"weights")
    context = MethodContext(dataset=None, retriever=None, cache_dir=tmp_path / "cache", seed=1,  # type: ignore[arg-type]
                            config=config)
    expander = policy_expander(config["methods"]["leser"], context, model_dir)
    assert isinstance(expander.backend, CachedBackend)
    fingerprinted = expander.backend.backend
    assert isinstance(fingerprinted, FingerprintedBackend) and isinstance(fingerprinted.backend, VLLMBackend)
    assert fingerprinted.backend.cfg.path == str(model_dir) and "|weights:" in expander.backend.model_id
