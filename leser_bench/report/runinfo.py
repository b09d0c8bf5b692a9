"""``run_info.json``: what a run directory cannot say by its CSV and TREC files alone.

The pipeline writes it at the end of a run (data description, sizes, gains, grade labels, stage
times, git commit, package versions, resolved config) so that reports can be rebuilt from the
directory later.
Directories written before this file existed still render: :func:`load_run_info` falls back to
what ``.hydra/config.yaml`` says and marks the rest "not recorded".
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from leser_bench.io.cache import atomic_write_text
from leser_bench.config import default
from leser_bench.errors import ConfigError
from leser_bench.methods import RUN_SEED, MethodKind, kind_of

FILE = "run_info.json"
NOT_RECORDED = "not recorded"
#: distributions whose versions a run records: this package, the model stack, the engine and the measures
#: (what can move a number without a config change). The optional ones appear only where installed.
RECORDED_VERSIONS = ("leser_bench", "torch", "transformers", "trl", "peft", "sentence-transformers",
                     "pyserini", "ir-measures", "hydra-core")
OPTIONAL_VERSIONS = ("vllm",)


class ReportInputError(ValueError):
    """A run directory file needed by a report is missing or malformed; the message names it."""


@dataclass
class RunInfo:
    title: str
    experiment: str
    dataset_description: str
    dataset_summary: dict[str, Any]
    #: True: generated data (the embedded world); False: real; None: unknown (old run).
    generated: bool | None
    retriever: str
    baseline: str
    measure_notes: list[str] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    #: the process's peak resident memory (MB) when each stage ended: where the run's peak was reached.
    stage_peak_rss_mb: dict[str, float] = field(default_factory=dict)
    #: integer grade (as text, JSON keys are strings) -> label letter, e.g. {"3": "E"}.
    labels: dict[str, str] = field(default_factory=dict)
    #: integer grade (as text) -> gain: with ``labels`` the data set's GainMapping, from which the run's
    #: measures are resolved again when an external run is scored beside it (``analyze --run``).
    gains: dict[str, float] = field(default_factory=dict)
    #: grade counted as relevant by the binary measures (R@k curves use it).
    relevant_grade: int | None = None
    git_commit: str = NOT_RECORDED
    git_dirty: bool | None = None
    created: str = NOT_RECORDED
    config_yaml: str = ""
    #: distribution -> version (``python`` too) of the process that ran it; empty for runs recorded before.
    versions: dict[str, str] = field(default_factory=dict)
    #: True once the pipeline finished (written last); a crashed or partial run directory lacks it.
    complete: bool = False

    def label(self, grade: int | None) -> str:
        if grade is None:
            return "unjudged"
        return self.labels.get(str(grade), str(grade))


def git_state(repo: Path | None = None) -> tuple[str, bool | None]:
    """(commit, dirty) of the checkout holding this package; ("not recorded", None) outside git.

    Only a checkout whose top level is the folder above the package counts: an installed wheel lives in
    ``site-packages``, which may sit inside some other project's repository (a ``.venv`` in it), and that
    repository's commit says nothing about this code (the run info records the package version instead)."""
    repo = (repo or Path(__file__).resolve().parents[2]).resolve()
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=repo, capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        if not top or Path(top).resolve() != repo:
            return NOT_RECORDED, None
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                                capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return NOT_RECORDED, None
    return commit or NOT_RECORDED, bool(status.strip())


def package_versions() -> dict[str, str]:
    """The installed versions of :data:`RECORDED_VERSIONS` ("not installed" where missing) and of the
    :data:`OPTIONAL_VERSIONS` that are installed, read from the distributions' metadata (no imports)."""
    out = {"python": platform.python_version()}
    for name in RECORDED_VERSIONS + OPTIONAL_VERSIONS:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            if name not in OPTIONAL_VERSIONS:
                out[name] = "not installed"
    return out


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def save_run_info(run_dir: Path, info: RunInfo) -> Path:
    path = run_dir / FILE
    atomic_write_text(path, json.dumps(asdict(info), indent=1, ensure_ascii=False) + "\n")
    return path


def run_complete(run_dir: Path) -> bool:
    """True if the pipeline finished this run directory (``run_info.json`` says ``"complete": true``)."""
    try:
        raw = json.loads((run_dir / FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(raw, dict) and raw.get("complete") is True


def load_run_info(run_dir: Path, hydra_cfg: dict[str, Any], hydra_yaml: str) -> RunInfo:
    """The run's RunInfo, or one reconstructed from its Hydra config for directories without it."""
    path = run_dir / FILE
    if path.is_file():
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ReportInputError(f"{path}: not readable JSON ({exc})") from None
        known = set(RunInfo.__dataclass_fields__)
        if not isinstance(raw, dict) or not {"title", "experiment", "baseline"} <= set(raw):
            raise ReportInputError(f"{path}: expected an object with at least title, experiment and baseline")
        return RunInfo(**{k: v for k, v in raw.items() if k in known})
    dataset = hydra_cfg.get("dataset") or {}
    source = dataset.get("source") if isinstance(dataset, dict) else None
    experiment = str(hydra_cfg.get("experiment_name", run_dir.parent.name))
    return RunInfo(
        title=f"leser_bench — {experiment}", experiment=experiment,
        dataset_description=f"Data source {source or NOT_RECORDED!s} (this run directory predates run_info.json).",
        dataset_summary={"source": source or NOT_RECORDED},
        generated=True if source == "world" else None, retriever=NOT_RECORDED,
        baseline=str(hydra_cfg.get("baseline", "identity")), config_yaml=hydra_yaml,
    )


def _seed_keys(config: dict[str, Any], prefix: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in config.items():
        path = f"{prefix}{key}"
        if key == "seed" and not isinstance(value, (dict, list)):
            found[path] = value
        elif isinstance(value, dict) and key != "hydra":
            found.update(_seed_keys(value, path + "."))
    return found


#: the value a section's ``seed`` takes when the config sets none: the run's ``seed``, or the default of
#: the dataclass that parses the section ("module:Class"). Methods declare theirs in their MethodKind.
#: run-level sections: dotted key -> where its default comes from.
RUN_SEED_DEFAULTS = {"stats.seed": "leser_bench.stats.config:StatsConfig",
                     "abtest.seed": "leser_bench.abtest.config:ABTestConfig"}


def seeds(config: dict[str, Any]) -> dict[str, Any]:
    """Every seed the run used, by dotted config path: each key named ``seed``, plus, for a seed the
    config leaves out, the value its parser takes (``MethodKind.seeds``: the run's ``seed`` for LLM
    decoding and doc2query's product draw, else the owning dataclass's default).
    ``model.generation.seed`` is left out: every method overrides it."""
    found = _seed_keys(config, "")
    found.pop("model.generation.seed", None)
    run_seed = config.get("seed")
    for key, source in RUN_SEED_DEFAULTS.items():
        if _get(config, key) is None:
            found[key] = _seed_default(source, run_seed)
    for path, m in _methods_by_path(config).items():
        kind = _kind(m)
        for key, source in (kind.seed_sources() if kind is not None else {}).items():
            if _get(m, key) is None:
                found[f"{path}.{key}"] = _seed_default(source, run_seed)
    return found


def _get(config: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(config, dict):
            return None
        config = config.get(part)
    return config


def _seed_default(source: str, run_seed: Any) -> Any:
    if source == RUN_SEED:
        return run_seed
    module_name, class_name = source.split(":")
    return default(getattr(importlib.import_module(module_name), class_name), "seed")


def _kind(method: dict[str, Any]) -> MethodKind | None:
    """The method's kind from the registry; None for a kind this installation does not know (an old run)."""
    try:
        return kind_of(method)
    except ConfigError:
        return None


def _methods_by_path(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {f"methods.{name}": m for name, m in (config.get("methods") or {}).items() if isinstance(m, dict)}
    single = config.get("method")
    if isinstance(single, dict) and single.get("kind"):
        out["method"] = single
    return out


def models(config: dict[str, Any]) -> dict[str, str]:
    """The language models a run used: the ``model`` group (when an LLM method decodes with it, or
    no method is configured) and any method's own ``model``."""
    out: dict[str, str] = {}
    methods = _methods_by_path(config)
    own = [path for path, m in methods.items() if m.get("model")]
    inherits = [path for path, m in methods.items() if (k := _kind(m)) is not None and k.uses_llm and not m.get("model")]
    model = config.get("model")
    if isinstance(model, dict) and (inherits or not methods):
        out["model"] = _describe_model(model)
    for path in own:
        m = methods[path]["model"]
        out[f"{path}.model"] = _describe_model(m) if isinstance(m, dict) else str(m)
    return out


def _describe_model(model: dict[str, Any]) -> str:
    parts = [str(model.get("name") or model.get("path") or "unnamed")]
    for key in ("backend", "path", "gguf_package", "device", "dtype"):
        if model.get(key) not in (None, "", parts[0]):
            parts.append(f"{key}={model[key]}")
    return ", ".join(parts)
