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

from conftest import CONF_DIR, REPO


def compose_config(*overrides: str) -> DictConfig:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def group_options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


ALL_TEN = ["identity", "rm3", "rocchio", "zero_shot", "few_shot", "query2doc", "context_aware", "doc2query",
           "sft", "leser"]


def test_default_composes_with_all_ten_methods() -> None:
    cfg = compose_config()
    assert cfg.dataset.source == "world"
    assert list(method_configs(cfg)) == ALL_TEN
    assert cfg.budget.name == "cpu"
    validate(cfg)


def test_amazon_esci_is_the_same_whole_comparison() -> None:
    cfg = compose_config("+experiment=amazon_esci")
    assert cfg.dataset.source == "esci" and list(method_configs(cfg)) == ALL_TEN
    validate(cfg)


@pytest.mark.parametrize("budget", group_options("budget"))
def test_budgets_set_the_cost_knobs_of_the_whole_comparison(budget: str) -> None:
    cfg = compose_config(f"budget={budget}")
    methods = method_configs(cfg)
    assert list(methods) == ALL_TEN
    assert methods["doc2query"]["max_products"] == cfg.budget.doc2query_products
    assert methods["sft"]["train"]["max_queries"] == cfg.budget.sft_queries
    assert methods["leser"]["train"]["max_steps"] == cfg.budget.grpo_steps
    assert methods["leser"]["sft"] == methods["sft"]["train"]  # LESER reuses the SFT baseline's training
    if budget == "gpu":
        assert cfg.model.backend == "vllm" and methods["leser"]["train"]["use_cpu"] is False
    else:
        assert cfg.model.backend == "transformers"
    validate(cfg)


def test_suites_choose_the_methods() -> None:
    assert list(method_configs(compose_config("suite=prf"))) == ["identity", "rm3"]
    assert list(method_configs(compose_config("suite=prf", "method=zero_shot"))) == ["identity", "rm3", "zero_shot"]
    assert list(method_configs(compose_config("+experiment=regression")))[:2] == ["identity", "rm3"]


@pytest.mark.parametrize("group", ["dataset", "retriever", "evaluation", "report", "suite", "budget"])
def test_every_option_of_every_group_composes(group: str) -> None:
    for option in group_options(group):
        cfg = compose_config(f"{group}={option}")
        if group == "suite":  # a global package: it sets `methods`
            assert option == "none" or cfg.methods, f"{group}={option}"
        else:
            assert cfg[group] is not None, f"{group}={option}"


#: the overrides a method config needs to be complete (its required keys).
REQUIRED = {"from_file": [f"method.path={REPO / 'tests' / 'plugins' / 'expansions.jsonl'}"],
            "run_file": [f"method.path={REPO / 'tests' / 'plugins' / 'run.trec'}"]}


@pytest.mark.parametrize("method", group_options("method"))
def test_every_method_composes_and_validates(method: str) -> None:
    cfg = compose_config(f"method={method}", *REQUIRED.get(method, []))
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
        ("retriever.expansion_prf={method:rm4}", ConfigError, "retriever.expansion_prf.method='rm4'; allowed"),
        ("retriever.expansion_prf={method:rm3,fb_term:5}", ConfigError, "unknown key\\(s\\) \\['fb_term'\\]"),
        ("retriever=bm25_rrf retriever.expansion_prf={method:rm3}", ConfigError, "needs retriever.combine=concat"),
        ("retriever.query_head=-1", ConfigError, "retriever.query_head must be >= 0"),
        ("retriever.expansion_prf={method:rm3,original_query_weight:1.5}", ConfigError,
         "retriever.expansion_prf.original_query_weight=1.5 is impossible; allowed: a number in \\[0.0, 1.0\\]"),
        ("dataset.source=nowhere", DataError, "dataset.source='nowhere'.*allowed"),
        ("+dataset.colour_of_sky=blue", DataError, "unknown keys \\['colour_of_sky'\\]"),
        ("baseline=bm42", ConfigError, "baseline='bm42'"),
        ("evaluation.measures=[nDGC@10]", ConfigError, "evaluation.measures: unknown measure 'nDGC@10'.*known"),
        ("evaluation.measures=[R@0]", ConfigError, "evaluation.measures: 'R@0' has cutoff 0"),
        ("evaluation.coverage.k=-1", ConfigError, "evaluation.coverage.k must be > 0"),
        ("budget.llm_queries=0", ConfigError, "budget.llm_queries=0; allowed: a number >= 1 or null"),
        ("budget.llm_queries=many", ConfigError, "budget.llm_queries='many'; allowed: a number >= 1 or null"),
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


@pytest.mark.parametrize("override", ["stats.alpha=2", "abtest.interleaving_impressions=0"])
def test_stats_and_abtest_errors_are_one_line_exit_2_before_work(tmp_path: Path, override: str) -> None:
    """Errors of every config group share one ConfigError: one line on stderr, exit 2, nothing built."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "leser_bench", override, f"cache_dir={tmp_path}/cache", f"hydra.run.dir={tmp_path}/run"],
        capture_output=True, text=True, timeout=120, env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {override.split('=')[0]}"), proc.stderr
    assert not (tmp_path / "cache").exists()


def test_unknown_measure_is_refused_before_work(tmp_path: Path) -> None:
    from leser_bench.data.records import GainMapping
    from leser_bench.evaluation import resolve_all

    with pytest.raises(MeasureError, match="nDGC"):
        resolve_all(["nDGC@10"], GainMapping.esci(), 3, 100)


def test_a_policy_override_that_splits_leser_from_its_starting_model_is_reported() -> None:
    """context_aware, SFT and LESER include one policy file; overriding one of them alone is named."""
    from leser_bench.pipeline.validation import policy_mismatches

    assert policy_mismatches(method_configs(compose_config())) == []
    notes = policy_mismatches(method_configs(compose_config("methods.context_aware.prompt.context_k=3")))
    assert [n.split()[0] for n in notes] == ["methods.sft", "methods.leser"]
    assert all("['prompt']" in n for n in notes)


@pytest.mark.parametrize("override", ["stats.alpha=2", "method=bogus"])
def test_cfg_job_applies_the_runs_validation(override: str) -> None:
    """`--cfg job` prints the config without running: the same validation as the run comes first."""
    import subprocess
    import sys

    bad = subprocess.run([sys.executable, "-m", "leser_bench", "--cfg", "job", override],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and len(bad.stderr.splitlines()) == 1, bad.stderr
    good = subprocess.run([sys.executable, "-m", "leser_bench", "--cfg", "job", "+experiment=amazon_esci"],
                          capture_output=True, text=True, timeout=120)
    assert good.returncode == 0 and "methods:" in good.stdout, good.stderr
