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


def test_a_run_records_the_versions_of_what_can_move_its_numbers(tmp_path) -> None:
    """run_info.json and both reports name the versions of the model stack, the engine and the measures."""
    import importlib.metadata
    import json

    from report_fixture import build_run_dir

    from leser_bench.report.runinfo import RECORDED_VERSIONS, package_versions

    assert {"torch", "transformers", "trl", "pyserini", "ir-measures"} <= set(RECORDED_VERSIONS)
    expected = package_versions()
    for name in ("torch", "transformers", "trl", "pyserini", "ir-measures"):
        assert expected[name] == importlib.metadata.version(name), name
    run_dir = build_run_dir(tmp_path / "run")
    recorded = json.loads((run_dir / "run_info.json").read_text(encoding="utf-8"))["versions"]
    assert recorded == expected and recorded["python"].count(".") == 2
    report = (run_dir / "report.md").read_text(encoding="utf-8")
    assert f"torch {expected['torch']}" in report and f"ir-measures {expected['ir-measures']}" in report
    assert f"pyserini {expected['pyserini']}" in (run_dir / "report.html").read_text(encoding="utf-8")


def test_runs_recorded_before_versions_existed_say_not_recorded(tmp_path) -> None:
    import json

    from report_fixture import build_run_dir

    from leser_bench.report.inputs import load_inputs
    from leser_bench.report.tables import summary_rows

    run_dir = build_run_dir(tmp_path / "run")
    info = json.loads((run_dir / "run_info.json").read_text(encoding="utf-8"))
    del info["versions"]
    (run_dir / "run_info.json").write_text(json.dumps(info), encoding="utf-8")
    assert dict(summary_rows(load_inputs(run_dir, None)))["versions"] == "not recorded"


def test_git_state_ignores_a_repository_that_merely_contains_an_installed_package(tmp_path) -> None:
    """A wheel installed in a project's .venv: that project's commit is not this code's."""
    import subprocess

    from leser_bench.report.runinfo import git_state

    outer = tmp_path / "project"
    site = outer / ".venv" / "lib" / "site-packages"
    site.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(outer)], check=True)
    subprocess.run(["git", "-C", str(outer), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q",
                    "--allow-empty", "-m", "x"], check=True)
    assert git_state(site) == ("not recorded", None)
    commit, dirty = git_state(outer)
    assert len(commit) == 40 and dirty is False
