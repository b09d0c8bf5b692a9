"""Experiment tracking (issue 16): ``tracking=mlflow`` logs a finished run to a real MLflow store, checked
before any work; ``train.report_to=[tensorboard]`` makes the real TRL trainer write TensorBoard event files.

The MLflow tests need the ``mlflow`` package (``pip install 'leser_bench[tracking]'``) and skip without it;
the checks of a missing package hide it, so they run either way."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from conftest import CONF_DIR, REPO
from leser_bench.errors import ConfigError
from leser_bench.pipeline import run_experiment, validate
from leser_bench.tracking import TrackingConfig, flat_params, log_run, mlflow_name, tracking_config


def _compose(*overrides: str):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def _tiny(cache_root: Path, *more: str) -> list[str]:
    """identity and RM3 on a 500-product world with 20 test queries: ~10 s."""
    return ["suite=prf", f"cache_dir={cache_root}", "dataset.n_products=500", "dataset.n_train=0",
            "dataset.n_test=20", "retriever.k=100", "retriever.threads=1", "abtest.n_users=200",
            "abtest.interleaving_impressions=200", *more]


def test_tracking_is_off_by_default_and_its_keys_are_checked() -> None:
    assert tracking_config(_compose()) == TrackingConfig()
    with pytest.raises(ConfigError, match="tracking: unknown keys \\['uri'\\]; allowed keys: backend, tracking_uri"):
        validate(_compose("+tracking.uri=http://x"))
    with pytest.raises(ConfigError, match="tracking.backend='neptune'; allowed: \\['none', 'mlflow'\\]"):
        validate(_compose("tracking.backend=neptune"))


def test_mlflow_not_installed_is_refused_before_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if it were not installed
    with pytest.raises(ConfigError, match="tracking=mlflow needs the mlflow package, which is not installed "
                                          "\\(pip install 'leser_bench\\[tracking\\]'"):
        validate(_compose("tracking=mlflow"))
    with pytest.raises(ConfigError, match="train.report_to: 'mlflow' needs the mlflow package"):
        validate(_compose("methods.leser.train.report_to=[mlflow]"))


def test_mlflow_names_and_params() -> None:
    assert mlflow_name("rm3/nDCG@10") == "rm3/nDCG_at_10"
    assert mlflow_name("x/nDCG(judged_only=True)@10") == "x/nDCG_judged_only_True__at_10"
    assert flat_params({"a": {"b": 1, "c": [1, "x"], "d": None, "e": {}}, "f": "text", "g": True}) == {
        "a.b": "1", "a.c": '[1, "x"]', "a.d": "null", "a.e": "{}", "f": "text", "g": "true"}
    assert len(flat_params({"long": "x" * 7000})["long"]) == 6000


def test_an_unusable_store_is_refused_before_any_work(tmp_path: Path, cache_root: Path) -> None:
    pytest.importorskip("mlflow")
    # a closed loopback port: nothing listens there, so the check fails at once (no retries)
    cfg = _compose(*_tiny(cache_root, "tracking=mlflow", "tracking.tracking_uri=http://127.0.0.1:9",
                          "tracking.timeout_s=2"))
    with pytest.raises(ConfigError, match="tracking.tracking_uri='http://127.0.0.1:9': MLflow cannot use this store"):
        run_experiment(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()  # nothing was loaded, indexed or written
    with pytest.raises(ConfigError, match="tracking.tracking_uri='ftp://nowhere/x': MLflow cannot use this store"):
        run_experiment(_compose(*_tiny(cache_root, "tracking=mlflow", "tracking.tracking_uri=ftp://nowhere/x")),
                       tmp_path / "run")


def test_a_finished_run_is_logged_to_the_local_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default store (file:<cache_dir>/mlruns): params = the resolved config, metrics = metrics.csv's
    every cell, artifacts = the reports and metrics.csv; MLflow's environment is restored afterwards."""
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_ALLOW_FILE_STORE"):
        monkeypatch.delenv(name, raising=False)
    cache = tmp_path / "cache"  # a cache of its own, so that the default store is this test's alone
    out = tmp_path / "20261201-120000-000001"
    cfg = _compose(*_tiny(cache, "tracking=mlflow", "experiment_name=tracked"))
    run_experiment(cfg, out)
    assert "MLFLOW_TRACKING_URI" not in os.environ and "MLFLOW_ALLOW_FILE_STORE" not in os.environ
    store = cache / "mlruns"
    assert store.is_dir()
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 opens a file store only when asked
    client = MlflowClient(tracking_uri=store.as_uri())
    experiment = client.get_experiment_by_name("tracked")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1
    run = runs[0]
    assert run.info.run_name == out.name and run.info.status == "FINISHED"
    assert run.data.tags["leser_bench.run_dir"] == str(out.resolve())
    params = run.data.params
    assert params["experiment_name"] == "tracked" and params["retriever.k"] == "100"
    assert params["dataset.n_test"] == "20" and params["methods.rm3.kind"] == "rm3"
    assert params["evaluation.measures"] == json.dumps(list(cfg.evaluation.measures))
    board = pd.read_csv(out / "metrics.csv", index_col=0)
    expected = {f"{m}/{c}".replace("@", "_at_"): float(board.loc[m, c]) for m in board.index for c in board.columns}
    assert set(expected) >= {"identity/nDCG_at_10", "rm3/R_at_100"}
    assert run.data.metrics == expected
    logged = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert logged == {"report.html", "report.md", "metrics.csv"}
    copy = Path(client.download_artifacts(run.info.run_id, "metrics.csv", str(tmp_path / "down")))
    assert copy.read_bytes() == (out / "metrics.csv").read_bytes()


def test_a_failure_to_log_is_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """An experiment deleted in the store (as from the MLflow UI) refuses new runs: a warning, no exception."""
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    client = MlflowClient(tracking_uri=(tmp_path / "mlruns").as_uri())
    client.delete_experiment(client.create_experiment("gone"))
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.csv").write_text("method,nDCG@10\nidentity,0.5\n")
    with caplog.at_level(logging.WARNING, logger="leser_bench.tracking"):
        assert log_run(client, "gone", "r", {"seed": 1}, out) is None
    assert "MLflow: the run was not logged to experiment 'gone'" in caplog.text
    assert f"its files in {out} are complete" in caplog.text


@pytest.mark.slow
def test_tiny_grpo_with_report_to_tensorboard_writes_event_files(tmp_path: Path, cache_root: Path) -> None:
    """The real TRL GRPOTrainer on a 2-layer random policy (as tests/test_grpo.py): the event files hold
    the training's reward curve, one point per step."""
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from leser_bench.data.world import WorldConfig, generate_world
    from leser_bench.retrieval import IndexConfig, Retriever, RetrieverConfig, build_index
    from leser_bench.training.grpo import GRPOSettings, train_grpo
    from leser_bench.training.tiny import build_tiny_model, smollm2_tokenizer_dir
    from test_grpo import TINY_RUN, make_setup

    world = generate_world(WorldConfig(seed=3, n_products=500, n_train=12, n_test=4))
    model = build_tiny_model(tmp_path / "model", smollm2_tokenizer_dir(cache_root))
    retriever = Retriever(build_index(world.products, IndexConfig(), cache_root), RetrieverConfig())
    try:
        settings = GRPOSettings.from_dict({**TINY_RUN, "max_steps": 2, "report_to": ["tensorboard"]})
        result = train_grpo(make_setup(world, retriever, model), settings, tmp_path / "train")
    finally:
        retriever.close()
    events = sorted((result.out_dir / "checkpoints" / "runs").rglob("events.out.tfevents.*"))
    assert events, "no TensorBoard event file"
    accumulator = EventAccumulator(str(events[0].parent)).Reload()
    assert [e.step for e in accumulator.Scalars("train/reward")] == [1, 2]


def test_the_cli_stops_before_work_with_one_line(tmp_path: Path) -> None:
    """Without mlflow: the missing package; with it: the closed port. Either way exit 2 before any work."""
    result = subprocess.run(
        [sys.executable, "-m", "leser_bench", "suite=prf", "tracking=mlflow", "tracking.tracking_uri=http://127.0.0.1:9",
         "tracking.timeout_s=2", f"hydra.run.dir={tmp_path / 'run'}", f"cache_dir={tmp_path / 'cache'}"],
        capture_output=True, text=True, cwd=REPO, env=dict(os.environ, HF_HUB_OFFLINE="1"), timeout=300)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(("error: tracking=mlflow needs the mlflow package",
                                                      "error: tracking.tracking_uri='http://127.0.0.1:9'"))
    assert not (tmp_path / "run" / "qrels.trec").exists() and not (tmp_path / "cache").exists()
