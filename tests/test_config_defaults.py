"""One value per key: every key a leser_bench/conf/ group file sets equals the default of the dataclass that owns it.

The group YAMLs are the documented, user-facing list of keys (what ``--cfg job`` shows); the dataclasses
are what code gets when a key is left out. The two may never disagree, except where listed below with
the reason (ON_PURPOSE).

Groups without a dataclass: ``evaluation`` and ``budget`` (read key by key in leser_bench.pipeline),
``report``; the ``method`` files are checked through the dataclasses of their sections.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from baselines.doc2query import Doc2QueryConfig, FilterConfig
from baselines.prompted import QUERY2DOC_DEFAULTS
from leser_bench.abtest.config import ABTestConfig, abtest_config_from
from leser_bench.config import defaults, section
from leser_bench.data.esci import EsciConfig
from leser_bench.data.files import FilesConfig
from leser_bench.data.irds import IrDatasetsConfig
from leser_bench.data.world.generate import WorldConfig
from leser_bench.llm.config import ModelConfig
from leser_bench.llm.types import GenerationConfig
from leser_bench.policy.examples import FewShotConfig
from leser_bench.policy.expander import PromptedConfig
from leser_bench.policy.prompting import PromptConfig
from leser_bench.retrieval.retriever import RetrieverConfig
from leser_bench.policy.rules import RulesConfig
from leser_bench.stats.config import StatsConfig, stats_config_from
from leser_bench.tracking import TrackingConfig
from leser_bench.training.grpo import GRPOSettings
from leser_bench.training.sft import SFTSettings

from conftest import CONF_DIR

#: (case, dotted key) -> why the YAML differs from the dataclass default.
ON_PURPOSE: dict[tuple[str, str], str] = {
    ("policy/context_aware: prompt", "context_k"): "the context-aware policy shows the top 5 results; "
                                                   "PromptConfig's default is the query-only prompt",
    ("method/zero_shot: generation", "max_new_tokens"): "a method's generation block overrides model.generation",
    ("method/zero_shot: generation", "temperature"): "a method's generation block overrides model.generation",
    ("method/zero_shot: generation", "batch_size"): "a method's generation block overrides model.generation",
    ("method/doc2query: generation", "max_new_tokens"): "a method's generation block overrides model.generation",
    ("method/doc2query: generation", "temperature"): "a method's generation block overrides model.generation",
    ("method/doc2query: generation", "batch_size"): "a method's generation block overrides model.generation",
    ("dataset/esci", "cache_dir"): "the YAML reads $ESCI_DIR (default data/esci under the working directory)",
    ("method/zero_shot", "answer_prefix"): "no prefix is the neutral default for a user's own prompt; the shipped "
                                           "keyword policy starts the JSON list for SmolLM2 (query2doc: none)",
    ("method/few_shot: few_shot", "seed"): "the YAML follows the run's ${seed}; a dataclass cannot know it",
    ("method/doc2query", "seed"): "the YAML follows the run's ${seed} (the loader also defaults to it)",
    ("dataset/esci", "seed"): "the YAML follows the run's ${seed}",
    ("tracking/mlflow", "backend"): "the group's one choice: tracking=mlflow turns MLflow on (default: none)",
}



def _load(path: str, run_seed: int) -> dict[str, Any]:
    """A group file on its own, ``${seed}`` resolved to the root config's seed, env defaults applied."""
    node = OmegaConf.load(CONF_DIR / path)
    node.pop("defaults", None)
    wrapped = OmegaConf.create({"seed": run_seed, "node": node})
    return OmegaConf.to_container(wrapped, resolve=True)["node"]  # type: ignore[index]


@pytest.fixture(scope="module")
def composed() -> dict[str, Any]:
    """The default run's composed config (the policy group laid into each method)."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config")
    return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]


def _norm(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _norm(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {k: _norm(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return tuple(_norm(v) for v in value)
    return value


def mismatches(values: Mapping[str, Any], cls: type, prefix: str = "") -> dict[str, tuple[Any, Any]]:
    """dotted key -> (YAML value, dataclass default), nested dataclass sections compared key by key."""
    out: dict[str, tuple[Any, Any]] = {}
    defs = defaults(cls)
    for key, value in values.items():
        assert key in defs, f"{prefix}{key} is set in YAML but is no field of {cls.__name__}"
        default = defs[key]
        if dataclasses.is_dataclass(default) and isinstance(value, Mapping):
            out.update(mismatches(value, type(default), f"{prefix}{key}."))
        elif _norm(value) != _norm(default):
            out[f"{prefix}{key}"] = (value, default)
    return out


def _without(values: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in keys}


def _method_top(values: Mapping[str, Any], cls: type) -> dict[str, Any]:
    """A method node's own scalar keys that ``cls`` owns (its sections are checked on their own)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in values.items() if k in names and not isinstance(v, Mapping)}


def cases(composed: dict[str, Any]) -> dict[str, tuple[Mapping[str, Any], type]]:
    seed = int(composed["seed"])
    methods = composed["methods"]
    doc2query = _load("method/doc2query.yaml", seed)
    return {
        "train/grpo": (_load("train/grpo.yaml", seed), GRPOSettings),
        "train/sft": (_load("train/sft.yaml", seed), SFTSettings),
        "model/smollm2_135m": (_load("model/smollm2_135m.yaml", seed), ModelConfig),
        "model/smollm2_135m: generation": (_load("model/smollm2_135m.yaml", seed)["generation"], GenerationConfig),
        "stats/default": (_load("stats/default.yaml", seed), StatsConfig),
        "abtest/default": (_load("abtest/default.yaml", seed), ABTestConfig),
        # k is the retrieval depth, read by leser_bench.pipeline.retriever_config, not a RetrieverConfig field
        "retriever/bm25": (_without(_load("retriever/bm25.yaml", seed), "k"), RetrieverConfig),
        "dataset/world": (_without(_load("dataset/world.yaml", seed), "source"), WorldConfig),
        "dataset/esci": (_without(_load("dataset/esci.yaml", seed), "source"), EsciConfig),
        "dataset/files": (_without(_load("dataset/files.yaml", seed), "source"), FilesConfig),
        "dataset/ir_datasets": (_without(_load("dataset/ir_datasets.yaml", seed), "source"), IrDatasetsConfig),
        "rules/default": (_load("rules/default.yaml", seed), RulesConfig),
        "tracking/none": (_load("tracking/none.yaml", seed), TrackingConfig),
        "tracking/mlflow": (_load("tracking/mlflow.yaml", seed), TrackingConfig),
        "policy/keywords: prompt": (methods["zero_shot"]["prompt"], PromptConfig),
        "policy/context_aware: prompt": (methods["context_aware"]["prompt"], PromptConfig),
        "method/zero_shot": (_method_top(methods["zero_shot"], PromptedConfig), PromptedConfig),
        "method/zero_shot: generation": (methods["zero_shot"]["generation"], GenerationConfig),
        "method/query2doc": (_method_top(methods["query2doc"], PromptedConfig), PromptedConfig),
        "method/few_shot: few_shot": (methods["few_shot"]["few_shot"], FewShotConfig),
        "method/doc2query": (_method_top(doc2query, Doc2QueryConfig), Doc2QueryConfig),
        "method/doc2query: filter": (doc2query["filter"], FilterConfig),
        "method/doc2query: generation": (doc2query["generation"], GenerationConfig),
    }


def test_every_key_a_group_file_sets_is_the_dataclass_default(composed: dict[str, Any],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ESCI_DIR", raising=False)
    found = {(case, key): pair for case, (values, cls) in cases(composed).items()
             for key, pair in mismatches(values, cls).items()}
    unexplained = {k: v for k, v in found.items() if k not in ON_PURPOSE}
    assert not unexplained, f"YAML value != dataclass default: {unexplained}"
    stale = sorted(k for k in ON_PURPOSE if k not in found)
    assert not stale, f"ON_PURPOSE entries that no longer differ (remove them): {stale}"


def test_query2doc_keys_are_its_defaults(composed: dict[str, Any]) -> None:
    """Query2doc's own keys (baselines.prompted.QUERY2DOC_DEFAULTS) equal its YAML."""
    method = composed["methods"]["query2doc"]
    assert {k: method[k] for k in QUERY2DOC_DEFAULTS} == QUERY2DOC_DEFAULTS


@pytest.mark.parametrize("path,load", [
    ("model/qwen2_5_1_5b.yaml", ModelConfig.from_dict), ("model/vllm_qwen2_5_1_5b.yaml", ModelConfig.from_dict),
    ("model/smollm2_135m.yaml", ModelConfig.from_dict), ("dataset/world.yaml", lambda v: section(WorldConfig, v, "w")),
    ("dataset/world_esci.yaml", lambda v: section(WorldConfig, v, "w")),
    ("train/grpo.yaml", GRPOSettings.from_dict), ("train/sft.yaml", SFTSettings.from_dict),
    ("stats/default.yaml", stats_config_from), ("abtest/default.yaml", abtest_config_from),
    ("rules/default.yaml", RulesConfig.from_dict),
])
def test_every_group_file_parses_with_its_loader(path: str, load: Any) -> None:
    """The other model files are other models, world_esci is the harder world (their values differ on
    purpose); their keys are the dataclass's all the same."""
    assert load(_without(_load(path, 13), "source")) is not None


def test_the_files_dataset_sets_only_fields_of_its_dataclass() -> None:
    """vaswani.yaml is one instance of the generic files loader (its paths need not exist here)."""
    assert set(_without(_load("dataset/vaswani.yaml", 13), "source")) <= {f.name for f in dataclasses.fields(FilesConfig)}


POLICY_KEYS = ("prompt", "generation", "rules", "chunk_size", "answer_prefix")


@pytest.mark.parametrize("overrides", [(), ("+experiment=leser",), ("+experiment=regression",), ("budget=gpu",),
                                       ("suite=none", "+method@methods.context_aware=context_aware",
                                        "+method@methods.sft=sft", "+method@methods.leser=leser")])
def test_sft_and_leser_share_the_policy_of_the_model_they_start_from(overrides: tuple[str, ...]) -> None:
    """context_aware, sft and leser include one policy file (leser_bench/conf/policy/context_aware.yaml)."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = OmegaConf.to_container(compose(config_name="config", overrides=list(overrides)), resolve=True)
    methods = cfg["methods"]  # type: ignore[index]
    trained = [name for name in ("sft", "leser") if name in methods]
    assert trained
    for name in trained:
        assert {k: methods[name][k] for k in POLICY_KEYS} == {k: methods["context_aware"][k] for k in POLICY_KEYS}
    assert methods["context_aware"]["prompt"]["context_k"] == 5


def test_an_override_of_one_method_changes_that_method_only() -> None:
    """Decided: an override names the node it changes (no hidden links between methods); changing the
    policy of context_aware, sft and leser together means overriding each, or editing the policy file."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=["+experiment=leser", "methods.context_aware.prompt.context_k=3"])
    assert cfg.methods.context_aware.prompt.context_k == 3
    assert cfg.methods.sft.prompt.context_k == cfg.methods.leser.prompt.context_k == 5


@pytest.mark.parametrize(("path", "cls"), [("dataset/files.yaml", FilesConfig),
                                         ("dataset/ir_datasets.yaml", IrDatasetsConfig)])
def test_each_dataset_yaml_lists_every_key_of_its_loader(path: str, cls: type) -> None:
    """issue 16: leser_bench/conf/dataset/files.yaml (and ir_datasets.yaml) document the whole loader, so own data needs
    no guesswork."""
    keys = set(_load(path, 13)) - {"source"}
    assert keys == {f.name for f in dataclasses.fields(cls)}
