"""Data-parallel generation on Ray (issue 17): a real local Ray cluster, real actors, the real
transformers backend on a tiny model; the texts equal the in-process backend's, greedy and sampled."""

from __future__ import annotations

from pathlib import Path

import pytest

from leser_bench.errors import ConfigError
from leser_bench.llm.config import ModelConfig
from leser_bench.llm.factory import build_backend
from leser_bench.llm.ray_backend import RayBackend, RaySettings
from leser_bench.llm.types import GenerationConfig
from leser_bench.training.tiny import build_tiny_model, smollm2_tokenizer_dir

PROMPTS = [f"Rewrite the shopping query: {q}" for q in
           ("red sofa", "usb c charger", "running shoes men", "garden hose 50ft", "desk lamp", "yoga mat", "kettle")]


def test_ray_settings_are_checked_when_the_model_config_is_read() -> None:
    assert RaySettings.from_dict({"workers": 2, "num_gpus": 1}) == RaySettings(workers=2, num_gpus=1.0)
    with pytest.raises(ConfigError, match="model.ray"):
        ModelConfig.from_dict({"ray": {"wokers": 2}})
    with pytest.raises(ConfigError, match="workers"):
        ModelConfig.from_dict({"ray": {"workers": -1}})
    assert not isinstance(build_backend(ModelConfig()), RayBackend)  # workers 0: no Ray at all


@pytest.mark.slow
def test_generation_on_ray_actors_equals_generation_in_process(cache_root: Path, tmp_path: Path) -> None:
    ray = pytest.importorskip("ray", reason="needs the launchers extra (ray)")
    model = build_tiny_model(tmp_path / "tiny", smollm2_tokenizer_dir(cache_root))
    base = {"path": str(model), "gguf_package": None, "cache_generations": False, "num_threads": 1}
    local = build_backend(base)
    fanned = build_backend({**base, "ray": {"workers": 2, "num_cpus": 0.5, "object_store_mb": 128}})
    assert isinstance(fanned, RayBackend) and fanned.model_id == local.model_id  # one generation cache key
    try:
        for config in (GenerationConfig(max_new_tokens=6, do_sample=False, batch_size=2),
                       GenerationConfig(max_new_tokens=6, do_sample=True, temperature=0.9, seed=5, batch_size=3)):
            expected = [g[0].text for g in local.generate(PROMPTS, config)]
            assert [g[0].text for g in fanned.generate(PROMPTS, config)] == expected
        assert len(fanned.actors()) == 2
    finally:
        fanned.close()
        ray.shutdown()
