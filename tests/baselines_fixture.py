"""Helpers shared by the LLM baseline tests: a cache directory that links the session's converted
SmolLM2, and a MethodContext over the composed ``+experiment=baselines`` config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from conftest import CONF_DIR
from leser_bench.data.records import Dataset
from leser_bench.methods import MethodContext
from leser_bench.retrieval import Retriever, RetrieverConfig


def compose_config(*overrides: str) -> dict[str, Any]:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=list(overrides))
    return OmegaConf.to_container(cfg, resolve=True)


def fresh_cache(tmp_path: Path, models: Path) -> Path:
    """An empty cache directory (fresh generation cache) sharing the converted model."""
    cache = tmp_path / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "models").symlink_to(models, target_is_directory=True)
    return cache


def make_context(world: Dataset, index: Path, cache: Path, *overrides: str) -> MethodContext:
    config = compose_config("+experiment=baselines", f"cache_dir={cache}", "model.num_threads=1", *overrides)
    retriever = Retriever(index, RetrieverConfig(threads=1))
    return MethodContext(dataset=world, retriever=retriever, cache_dir=cache, seed=13, config=config)
