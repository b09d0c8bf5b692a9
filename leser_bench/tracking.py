"""Experiment tracking of finished runs: the ``tracking`` config group, ``none`` (default) or ``mlflow``.

With ``tracking=mlflow`` a run that has finished is logged as one MLflow run in the experiment
``tracking.experiment_name`` (null: the run's ``experiment_name``), named after the run directory:

- params: the resolved config, flattened (``methods.rm3.fb_terms``; lists and nulls as JSON);
- metrics: every method x measure of ``metrics.csv`` as ``<method>/<measure>``, spelled the way MLflow
  allows names (no ``@``: ``rm3/nDCG@10`` is logged as ``rm3/nDCG_at_10``, see :func:`mlflow_name`);
- artifacts: ``report.html``, ``report.md``, ``metrics.csv`` (and ``metrics_full.csv`` when written);
- a tag ``leser_bench.run_dir``: where every other file of the run is.

The store is checked before any work (:func:`tracked`: the package is installed, the URI is one MLflow can
use, a server answers); a failure to log at the end is a warning, never a lost run: the run's files are
complete either way. During the run ``MLFLOW_TRACKING_URI`` and ``MLFLOW_EXPERIMENT_NAME`` point at the same
store and experiment, so a trainer's ``train.report_to=[mlflow]`` logs its curves there too (as runs of
their own, started by transformers' MLflow callback).

The default store is ``file:<cache_dir>/mlruns`` (after ``$MLFLOW_TRACKING_URI``): the cache directory is the
one place every run of a machine shares (``$LESER_BENCH_CACHE``), so the MLflow UI lists the runs of an
experiment side by side; a store in each run directory would hold one run each. Clearing the cache clears
that history: name another store with ``tracking.tracking_uri``. MLflow 3 keeps the file store in
maintenance mode behind ``MLFLOW_ALLOW_FILE_STORE``: it is set to true during the run unless already set.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leser_bench.config import section
from leser_bench.errors import ConfigError

log = logging.getLogger(__name__)

BACKENDS = ("none", "mlflow")
#: the run's files logged as artifacts (those present).
ARTIFACTS = ("report.html", "report.md", "metrics.csv", "metrics_full.csv")
#: MLflow's limits: a param value's length, params per batch call.
MAX_PARAM_LENGTH = 6000
PARAMS_PER_BATCH = 100


@dataclass(frozen=True)
class TrackingConfig:
    """The ``tracking`` group; defaults as conf/tracking/*.yaml (kept equal by tests/test_config_defaults.py)."""

    backend: str = "none"
    #: an MLflow tracking URI (a server ``http://host:5000``, ``databricks``, ``file:/path``); null:
    #: ``$MLFLOW_TRACKING_URI`` if set, else ``file:<cache_dir>/mlruns``.
    tracking_uri: str | None = None
    #: null: the run's ``experiment_name``.
    experiment_name: str | None = None
    #: null: the run directory's name (the run's start time).
    run_name: str | None = None
    #: seconds the check before work waits for a tracking server.
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(f"tracking.backend={self.backend!r}; allowed: {list(BACKENDS)} (tracking=none|mlflow)")
        if not self.timeout_s > 0:
            raise ConfigError(f"tracking.timeout_s={self.timeout_s!r}; it must be > 0")


def tracking_config(cfg: Mapping[str, Any]) -> TrackingConfig:
    """The run's ``tracking`` group, checked: keys, backend, and (mlflow) the package is installed."""
    settings = section(TrackingConfig, cfg.get("tracking"), "tracking")
    if settings.backend == "mlflow" and importlib.util.find_spec("mlflow") is None:
        raise ConfigError("tracking=mlflow needs the mlflow package, which is not installed "
                          "(pip install 'leser_bench[tracking]', or mlflow-skinny)")
    return settings


def store_uri(settings: TrackingConfig, cache_dir: Path | str) -> str:
    return (settings.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
            or (Path(cache_dir).resolve() / "mlruns").as_uri())


@contextmanager
def tracked(cfg: Mapping[str, Any], out_dir: Path) -> Iterator[None]:
    """Around a whole run: with tracking on, the store is checked on entry (ConfigError before any work)
    and the finished run is logged on a normal exit (a run that raised is not logged)."""
    settings = tracking_config(cfg)
    if settings.backend == "none":
        yield
        return
    uri = store_uri(settings, cfg.get("cache_dir") or ".")
    experiment = str(settings.experiment_name or cfg.get("experiment_name") or "default")
    with _environment(uri, experiment):
        client = _open_store(uri, settings.timeout_s)
        yield
        log_run(client, experiment, settings.run_name or out_dir.name, _container(cfg), out_dir)


def log_run(client: Any, experiment: str, run_name: str, config: Mapping[str, Any], out_dir: Path) -> str | None:
    """Log a finished run (params, metrics, artifacts); its MLflow run id, or None (and a warning) on failure."""
    run_id = None
    try:
        from mlflow.entities import Metric, Param  # noqa: PLC0415

        found = client.get_experiment_by_name(experiment)
        experiment_id = found.experiment_id if found is not None else client.create_experiment(experiment)
        run_id = client.create_run(experiment_id, run_name=run_name,
                                   tags={"leser_bench.run_dir": str(out_dir.resolve())}).info.run_id
        params = [Param(k, v) for k, v in flat_params(config).items()]
        for start in range(0, len(params), PARAMS_PER_BATCH):
            client.log_batch(run_id, params=params[start:start + PARAMS_PER_BATCH])
        now = int(time.time() * 1000)
        client.log_batch(run_id, metrics=[Metric(k, v, now, 0) for k, v in run_metrics(out_dir).items()])
        for name in ARTIFACTS:
            if (out_dir / name).is_file():
                client.log_artifact(run_id, str(out_dir / name))
        client.set_terminated(run_id)
    except Exception as exc:  # noqa: BLE001 - tracking is a copy of the run's files: never lose the run
        log.warning("MLflow: the run was not logged to experiment %r (%s: %s); its files in %s are complete",
                    experiment, type(exc).__name__, _first_line(exc), out_dir)
        if run_id is not None:
            try:
                client.set_terminated(run_id, status="FAILED")
            except Exception:  # noqa: BLE001, S110 - the warning above already says what went wrong
                pass
        return None
    log.info("MLflow: logged run %s to experiment %r", run_id, experiment)
    return run_id


def run_metrics(out_dir: Path) -> dict[str, float]:
    """``<method>/<measure>`` -> value, for every cell of ``metrics.csv`` (MLflow spelling, first one kept)."""
    import pandas as pd  # noqa: PLC0415

    board = pd.read_csv(out_dir / "metrics.csv", index_col=0)
    metrics: dict[str, float] = {}
    for method, row in board.iterrows():
        for measure, value in row.items():
            name = mlflow_name(f"{method}/{measure}")
            if name in metrics:
                log.warning("MLflow: %s/%s is spelled %r like another metric; only the first is logged",
                            method, measure, name)
                continue
            metrics[name] = float(value)
    return metrics


def flat_params(config: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """A nested config as ``a.b.c -> value`` (strings as they are, other values as JSON), each value cut
    to MLflow's length limit."""
    out: dict[str, str] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flat_params(value, f"{name}."))
            continue
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        if len(text) > MAX_PARAM_LENGTH:
            text = text[:MAX_PARAM_LENGTH - 1] + "…"
        out[mlflow_name(name)] = text
    return out


def mlflow_name(text: str) -> str:
    """A param or metric name MLflow accepts (letters, digits, ``_ - . / : space``): ``@k`` becomes
    ``_at_k`` (MLflow's own spelling, e.g. ``ndcg_at_k``), any other character ``_``."""
    return re.sub(r"[^\w./\- :]", "_", text.replace("@", "_at_"))


def _environment(uri: str, experiment: str) -> Any:
    """MLflow's environment for the run (TRL's MLflow callback reads it), restored afterwards. The file
    store's opt-in is harmless for other stores (it only lets MLflow open a file store)."""
    values = {"MLFLOW_TRACKING_URI": uri, "MLFLOW_EXPERIMENT_NAME": experiment,
              "MLFLOW_ALLOW_FILE_STORE": os.environ.get("MLFLOW_ALLOW_FILE_STORE", "true")}
    return _environ(values)


@contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _open_store(uri: str, timeout_s: float) -> Any:
    """An MlflowClient on ``uri`` that answered one request (no retries, ``timeout_s``), or a ConfigError."""
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    patience = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": str(max(1, round(timeout_s)))}
    try:
        with _environ(patience):
            client = MlflowClient(tracking_uri=uri)
            client.search_experiments(max_results=1)
    except Exception as exc:  # noqa: BLE001 - any failure means the store cannot take the run
        raise ConfigError(f"tracking.tracking_uri={uri!r}: MLflow cannot use this store "
                          f"({type(exc).__name__}: {_first_line(exc)})") from None
    return client


def _container(cfg: Mapping[str, Any]) -> dict[str, Any]:
    if type(cfg).__module__.startswith("omegaconf"):
        from omegaconf import OmegaConf  # noqa: PLC0415

        return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
    return dict(cfg)


def _first_line(exc: BaseException, limit: int = 240) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text if len(text) <= limit else text[:limit - 1] + "…"
