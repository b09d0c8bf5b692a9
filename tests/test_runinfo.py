"""The report's run section names every seed actually used, including those inherited from ``seed``."""

from __future__ import annotations

from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from leser_bench.report.runinfo import seeds

from conftest import CONF_DIR


def _config(*overrides: str) -> dict:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=list(overrides))
    return OmegaConf.to_container(cfg, resolve=True)


def test_default_run_seeds() -> None:
    found = seeds(_config("seed=7"))
    assert found["seed"] == 7
    assert found["dataset.seed"] == 7  # the world is generated from the run's seed
    assert {"stats.seed", "abtest.seed"} <= set(found)
    assert "model.generation.seed" not in found  # never used: methods decode with their own seed


def test_llm_methods_show_their_effective_decoding_seeds() -> None:
    found = seeds(_config("seed=5", "+experiment=baselines"))
    for name in ("zero_shot", "few_shot", "context_aware", "query2doc", "doc2query"):
        assert found[f"methods.{name}.generation.seed"] == 5, name
    assert found["methods.doc2query.seed"] == 5
    assert found["methods.few_shot.few_shot.seed"] == 5  # leser_bench/conf/method/few_shot.yaml: seed: ${seed}


def test_a_method_seed_set_explicitly_is_reported_as_set() -> None:
    found = seeds(_config("method=zero_shot", "+method.generation.seed=99"))
    assert found["method.generation.seed"] == 99


def test_models_name_the_llm_that_methods_inherit() -> None:
    from leser_bench.report.runinfo import models

    assert models(_config("suite=prf")) == {}  # identity and RM3 use no language model
    assert "smollm2" in models(_config())["model"].lower()  # the whole comparison's LLM methods inherit it
    found = models(_config("suite=prf", "method=context_aware"))
    assert "SmolLM2" in found["model"] or "smollm2" in found["model"].lower()
    own = models(_config("suite=prf", "method=zero_shot", "+method.model={name: other-llm, path: /models/other}"))
    assert own["method.model"].startswith("other-llm") and "model" not in own


def test_a_seed_left_out_is_reported_as_its_parser_takes_it() -> None:
    """No literal copies: the run's seed, or the default of the dataclass that parses the section."""
    from leser_bench.policy.examples import FewShotConfig
    from leser_bench.stats.config import StatsConfig
    from leser_bench.training.grpo import GRPOSettings
    from leser_bench.training.sft import SFTSettings

    config = _config("seed=5", "+experiment=leser")
    del config["stats"]["seed"], config["methods"]["leser"]["train"]["seed"], config["methods"]["sft"]["train"]["seed"]
    found = seeds(config)
    assert found["stats.seed"] == StatsConfig().seed
    assert found["methods.leser.train.seed"] == GRPOSettings().seed
    assert found["methods.sft.train.seed"] == SFTSettings().seed
    few = _config("seed=5", "+experiment=baselines")
    del few["methods"]["few_shot"]["few_shot"]["seed"]
    assert seeds(few)["methods.few_shot.few_shot.seed"] == FewShotConfig().seed
