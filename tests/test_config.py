"""Every config group composes, and bad values are refused before any work, naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from leser_bench.data.records import DataError
from leser_bench.evaluation import MeasureError
from leser_bench.methods import ConfigError
from leser_bench.pipeline import method_configs, validate

from conftest import CONF_DIR


def compose_config(*overrides: str) -> DictConfig:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def group_options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def test_default_composes_with_identity_and_rm3() -> None:
    cfg = compose_config()
    assert cfg.dataset.source == "world"
    assert list(method_configs(cfg)) == ["identity", "rm3"]
    validate(cfg)


@pytest.mark.parametrize("group", ["dataset", "retriever", "evaluation", "report"])
def test_every_option_of_every_group_composes(group: str) -> None:
    for option in group_options(group):
        cfg = compose_config(f"{group}={option}")
        assert cfg[group] is not None, f"{group}={option}"


@pytest.mark.parametrize("method", group_options("method"))
def test_every_method_composes_and_validates(method: str) -> None:
    cfg = compose_config(f"method={method}")
    assert method in method_configs(cfg) or cfg.method.name in method_configs(cfg)
    validate(cfg)


@pytest.mark.parametrize("experiment", group_options("experiment"))
def test_every_experiment_composes_and_validates(experiment: str) -> None:
    cfg = compose_config(f"+experiment={experiment}")
    assert cfg.experiment_name == experiment
    validate(cfg)  # every method's settings (e.g. the leser experiment's SFT targets) parse


def test_unknown_method_kind_is_refused() -> None:
    cfg = compose_config("+methods.bad={name: bad, kind: nonsense}")
    with pytest.raises(ConfigError, match="methods.bad.kind='nonsense'.*allowed"):
        validate(cfg)


@pytest.mark.parametrize(
    ("override", "error", "pattern"),
    [
        ("retriever.k=0", ConfigError, "retriever.k must be > 0"),
        ("retriever.combine=sum", ConfigError, "retriever.combine='sum'.*allowed"),
        ("+retriever.nonsense=1", ConfigError, "unknown keys \\['nonsense'\\]"),
        ("dataset.source=nowhere", DataError, "dataset.source='nowhere'.*allowed"),
        ("+dataset.colour_of_sky=blue", DataError, "unknown keys \\['colour_of_sky'\\]"),
        ("baseline=bm42", ConfigError, "baseline='bm42'"),
        ("evaluation.measures=[nDGC@10]", ConfigError, "evaluation.measures: unknown measure 'nDGC@10'.*known"),
        ("evaluation.measures=[R@0]", ConfigError, "evaluation.measures: 'R@0' has cutoff 0"),
        ("evaluation.coverage.k=-1", ConfigError, "evaluation.coverage.k must be > 0"),
        ("methods.rm3.fb_terms=0", ConfigError, "methods.rm3.fb_terms=0 is impossible; allowed: a number >= 1"),
        ("methods.rm3.original_query_weight=1.5", ConfigError, "methods.rm3.original_query_weight=1.5.*in \\[0.0, 1.0\\]"),
        ("method=leser method.train.num_generations=3", ConfigError,
         "methods.leser.train: .*per_device_train_batch_size.*multiple of train.num_generations \\(3\\)"),
        ("method=leser method.train.reward.measure=nDGC@10", ConfigError,
         "methods.leser.train: reward.measure: unknown measure 'nDGC@10'"),
        ("method=leser method.train.loss_type=ppo", ConfigError, "train.loss_type='ppo'; allowed"),
        ("method=sft method.train.targets=magic", ConfigError, "methods.sft.train: train.targets='magic'; allowed"),
        ("method=context_aware method.prompt.context_k=0", ConfigError,
         "methods.context_aware.prompt.context_k must be >= 1"),
        ("method=few_shot method.few_shot.split=test", ConfigError, "few_shot.split='test' is the evaluated split"),
    ],
)
def test_impossible_values_name_the_key(override: str, error: type, pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        validate(compose_config(*override.split()))


def test_impossible_training_config_fails_before_any_work(tmp_path: Path) -> None:
    """The CLI refuses a num_generations that does not divide the batch before loading data (exit 2)."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "leser_bench", "method=leser", "method.train.num_generations=3",
         f"cache_dir={tmp_path}/cache", f"hydra.run.dir={tmp_path}/run"],
        capture_output=True, text=True, timeout=120, env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "multiple of train.num_generations (3)" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "cache").exists()  # nothing built: no index, no dataset cache


def test_unknown_measure_is_refused_before_work(tmp_path: Path) -> None:
    from leser_bench.data.records import GainMapping
    from leser_bench.evaluation import resolve_all

    with pytest.raises(MeasureError, match="nDGC"):
        resolve_all(["nDGC@10"], GainMapping.esci(), 3, 100)
