"""Plugins (issue 16): method kinds and data sources from ``module:ATTRIBUTE``, from :func:`register`, and
from the entry points of installed packages -- here a real distribution on ``sys.path`` (a
``<name>.dist-info`` folder with METADATA and entry_points.txt), read by the real importlib.metadata."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from conftest import CONF_DIR, REPO
from leser_bench.data.loading import dataset_config, known_sources, load_dataset, register_source, source_of
from leser_bench.data.records import DataError
from leser_bench.data.source import DataSource
from leser_bench.errors import ConfigError
from leser_bench.methods import MethodKind, kind_of, known_kinds, register

PLUGIN_CONF = REPO / "tests" / "plugins" / "conf"


@pytest.fixture
def plugins_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(REPO / "tests"))


def install(root: Path, name: str, entry_points: str, version: str = "0.1") -> Path:
    """A distribution as pip leaves it in site-packages: ``<name>-<version>.dist-info`` with its metadata."""
    info = root / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(entry_points)
    return root


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, plugins_importable: None) -> Path:
    """A package 'toyplug' declaring a method kind, a data source and some broken entry points."""
    install(tmp_path / "site", "toyplug", (
        "[leser_bench.methods]\n"
        "toy_ep = plugins.toy_kind:TOY\n"
        "broken = plugins.not_a_module:KIND\n"
        "wrong_type = plugins.toy_kind:RepeatExpander\n"
        "[leser_bench.sources]\n"
        "toy_ep = plugins.toy_source:TOY\n"
        "raising = plugins.raising_plugin:SOURCE\n"
    ))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    return tmp_path / "site"


def _compose(*overrides: str):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def test_a_data_source_from_a_plugin_module_is_named_in_the_config(plugins_importable: None) -> None:
    """tests/plugins/toy_source.py + tests/plugins/conf/dataset/toy.yaml: ``source: plugins.toy_source:TOY``."""
    from leser_bench.pipeline import validate

    cfg = _compose(f"hydra.searchpath=[file://{PLUGIN_CONF}]", "dataset=toy", "suite=prf")
    validate(cfg)
    data = load_dataset(OmegaConf.to_container(cfg.dataset, resolve=True))
    assert data.name == "toy" and len(data.products) == 6 * 5 * 3 and len(data.split("test").queries) == 30
    with pytest.raises(DataError, match="dataset.copies must be >= 1, got 0"):  # the source's own check
        validate(_compose(f"hydra.searchpath=[file://{PLUGIN_CONF}]", "dataset=toy", "dataset.copies=0"))
    with pytest.raises(DataError, match=r"dataset \(toy\): unknown keys \['colours'\]; allowed keys: name, copies"):
        validate(_compose(f"hydra.searchpath=[file://{PLUGIN_CONF}]", "dataset=toy", "+dataset.colours=3"))
    with pytest.raises(DataError, match="cannot load the data source 'plugins.toy_source:NOPE'"):
        dataset_config({"source": "plugins.toy_source:NOPE"})
    with pytest.raises(DataError, match="'plugins.toy_source:ToyConfig' is a type, not a DataSource"):
        dataset_config({"source": "plugins.toy_source:ToyConfig"})


def test_an_unknown_source_lists_built_ins_registered_and_entry_points(installed: Path) -> None:
    from plugins.toy_source import ToyConfig, load_toy

    mine = register_source(DataSource("mine", ToyConfig, load_toy))
    try:
        assert source_of("mine") is mine and "mine" in known_sources()
        with pytest.raises(DataError) as caught:
            dataset_config({"source": "nowhere"})
        message = str(caught.value)
        assert message.startswith("dataset.source='nowhere' is not a known data source; allowed: [")
        assert "built in: ['esci', 'files', 'ir_datasets', 'world']" in message
        assert "registered: ['mine']" in message
        assert "entry points of group 'leser_bench.sources': ['raising', 'toy_ep']" in message
        with pytest.raises(DataError, match="data source 'files' is built in; choose another name"):
            register_source(DataSource("files", ToyConfig, load_toy))
    finally:
        from leser_bench.data import loading

        loading._TABLE.registered.pop("mine")


def test_entry_points_of_an_installed_package_are_found_by_name(installed: Path) -> None:
    import plugins.toy_kind
    import plugins.toy_source

    assert kind_of({"kind": "toy_ep", "name": "t"}) is plugins.toy_kind.TOY
    assert "toy_ep" in known_kinds() and "broken" in known_kinds()
    source, config = dataset_config({"source": "toy_ep", "copies": 1})
    assert source is plugins.toy_source.TOY and config.copies == 1


def test_a_broken_entry_point_names_itself_and_its_package(installed: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        kind_of({"kind": "broken", "name": "b"})
    assert str(caught.value) == (
        "methods.b.kind: the entry point 'broken' = 'plugins.not_a_module:KIND' (group 'leser_bench.methods') "
        "of package 'toyplug' 0.1 cannot be loaded: ModuleNotFoundError: No module named 'plugins.not_a_module'")
    with pytest.raises(ConfigError, match="entry point 'wrong_type' .* of package 'toyplug' 0.1 is a type, "
                                          "not a MethodKind"):
        kind_of({"kind": "wrong_type", "name": "w"})
    with pytest.raises(DataError, match="dataset.source: the entry point 'raising' = 'plugins.raising_plugin:SOURCE' "
                                        ".* of package 'toyplug' 0.1 cannot be loaded: ModuleNotFoundError"):
        dataset_config({"source": "raising"})


def test_an_entry_point_raising_at_import_is_reported_not_raised(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "gpu_only_plugin.py").write_text("raise RuntimeError('CUDA is not available')\n")
    install(tmp_path, "gpu-plug", "[leser_bench.methods]\ngpu = gpu_only_plugin:KIND\n", version="2.0")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match="entry point 'gpu' = 'gpu_only_plugin:KIND' \\(group 'leser_bench.methods'\\) "
                                          "of package 'gpu-plug' 2.0 cannot be loaded: RuntimeError: CUDA is not available"):
        kind_of({"kind": "gpu", "name": "g"})


def test_two_packages_declaring_one_name_are_both_named(installed: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    install(tmp_path / "other", "otherplug", "[leser_bench.methods]\ntoy_ep = plugins.toy_kind:build_toy\n")
    monkeypatch.syspath_prepend(str(tmp_path / "other"))
    with pytest.raises(ConfigError, match="2 installed packages declare the method kind 'toy_ep'.*'otherplug' 0.1 "
                                          "\\(plugins.toy_kind:build_toy\\).*'toyplug' 0.1 \\(plugins.toy_kind:TOY\\)"):
        kind_of({"kind": "toy_ep", "name": "t"})


def test_entry_points_are_read_when_a_name_is_looked_up_not_at_import(installed: Path) -> None:
    """Nothing is imported for a built-in name, even with broken entry points installed; an entry point
    added after leser_bench was imported is found."""
    import sys

    assert kind_of({"kind": "identity", "name": "identity"}).name == "identity"
    assert "plugins.not_a_module" not in sys.modules
    install(installed, "lateplug", "[leser_bench.methods]\nlate = plugins.toy_kind:TOY\n")
    assert kind_of({"kind": "late", "name": "l"}).name == "toy"


def test_register_makes_a_kind_known_for_the_process(plugins_importable: None) -> None:
    from plugins.toy_kind import build_toy

    kind = register(MethodKind("registered_toy", build=build_toy))
    try:
        assert kind_of({"kind": "registered_toy", "name": "r"}) is kind
        with pytest.raises(ConfigError, match="method kind 'rm3' is built in"):
            register(MethodKind("rm3", build=build_toy))
    finally:
        from leser_bench.methods import registry

        registry._TABLE.registered.pop("registered_toy")


@pytest.mark.slow
def test_a_plugin_source_runs_through_the_pipeline(tmp_path: Path, cache_root: Path, plugins_importable: None) -> None:
    from leser_bench.pipeline import run_experiment

    cfg = _compose(f"hydra.searchpath=[file://{PLUGIN_CONF}]", "dataset=toy", "suite=prf", f"cache_dir={cache_root}",
                   "retriever.k=20", "retriever.threads=1", "abtest.n_users=200", "abtest.interleaving_impressions=200",
                   "evaluation.measures=[nDCG@10,R@10]")
    result = run_experiment(cfg, tmp_path / "run")
    assert list(result.leaderboard.index) == ["identity", "rm3"]
    assert result.leaderboard.loc["identity", "R@10"] == pytest.approx(1.0)  # "red lamp" finds its 3 red lamps
    assert "a toy catalogue from a plugin module" in (tmp_path / "run" / "report.md").read_text()
