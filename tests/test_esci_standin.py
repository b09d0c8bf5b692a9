"""The generated ESCI stand-in: real schema, loads through the real loader, says it is generated,
and a damaged or swapped file is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from conftest import REPO, SHARED_DATA
from leser_bench.data.esci import EXAMPLES_FILE, PRODUCTS_FILE, EsciConfig, load_esci
from leser_bench.data.esci_standin import StandinConfig, write_standin
from leser_bench.data.loading import load_dataset
from leser_bench.data.records import DataError
from leser_bench.data.standin_manifest import MANIFEST_FILE

MICRO = SHARED_DATA / "esci_micro"
#: 2,000 products would hold too few Exact products per query for the 65% Exact share.
SMALL = StandinConfig(train_queries=60, test_queries=30, train_judgments=1_200, test_judgments=600, products=6_000)


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("standin")
    write_standin(SMALL, out, progress=False)
    return out


def _load(directory: Path, **kwargs) -> object:
    return load_esci(EsciConfig(cache_dir=str(directory), download=False, **kwargs))


@pytest.mark.skipif(not (MICRO / EXAMPLES_FILE).is_file(), reason=f"ESCI micro sample not found at {MICRO}")
def test_schema_is_exactly_the_real_files(standin: Path) -> None:
    for name in (EXAMPLES_FILE, PRODUCTS_FILE):
        real, ours = pq.read_schema(MICRO / name), pq.read_schema(standin / name)
        assert ours.names == real.names
        assert [str(t) for t in ours.types] == [str(t) for t in real.types]
        assert ours.equals(real, check_metadata=False)


def test_columns_hold_esci_shaped_values(standin: Path) -> None:
    examples = pd.read_parquet(standin / EXAMPLES_FILE)
    assert examples["example_id"].is_unique
    assert set(examples["esci_label"]) <= {"E", "S", "C", "I"}
    assert set(examples["product_locale"]) == {"us"}
    assert (examples["small_version"] == 1).all() and (examples["large_version"] == 1).all()
    assert examples.groupby("split")["query_id"].nunique().to_dict() == {"test": 30, "train": 60}
    assert examples.groupby("split").size().to_dict() == {"test": 600, "train": 1_200}
    assert examples.groupby("query_id")["query"].nunique().eq(1).all()
    assert examples["query"].nunique() == 90  # one text per query, none repeated across splits
    products = pd.read_parquet(standin / PRODUCTS_FILE)
    assert len(products) == 6_000 and products["product_id"].is_unique
    assert products["product_id"].str.fullmatch(r"B0[0-9A-Z]{8}").all()
    assert set(examples["product_id"]) <= set(products["product_id"])


def test_loads_as_generated_with_split_sizes_and_label_shares(standin: Path) -> None:
    data = _load(standin)
    assert data.generated is True
    assert "generated stand-in for esci (not the real data)" in data.description.lower()
    assert {n: len(s.queries) for n, s in data.splits.items()} == {"train": 60, "test": 30}
    grades = [g for s in data.splits.values() for docs in s.qrels.values() for g in docs.values()]
    assert len(grades) == 1_800
    shares = {label: grades.count(grade) / len(grades) for label, grade in {"E": 3, "S": 2, "C": 1, "I": 0}.items()}
    for label, target in {"E": 0.65, "S": 0.22, "C": 0.03, "I": 0.10}.items():
        assert abs(shares[label] - target) < 0.06, shares


def test_load_dataset_with_the_esci_source_config(standin: Path) -> None:
    data = load_dataset({"source": "esci", "cache_dir": str(standin), "download": False, "locale": "us"})
    assert data.generated and data.summary()["generated"] is True


def test_full_catalogue_gives_every_product_judged_only_fewer(standin: Path) -> None:
    judged = _load(standin)
    whole = _load(standin, full_catalogue=True)
    assert len(whole.products) == 6_000
    ids = {pid for s in judged.splits.values() for docs in s.qrels.values() for pid in docs}
    assert {p.id for p in judged.products} == ids and len(ids) < 6_000


def test_same_seed_same_bytes_other_seed_other_data(standin: Path, tmp_path: Path) -> None:
    write_standin(SMALL, tmp_path / "again", progress=False)
    for name in (EXAMPLES_FILE, PRODUCTS_FILE):
        assert (tmp_path / "again" / name).read_bytes() == (standin / name).read_bytes()
    other = StandinConfig(**{**SMALL.__dict__, "seed": 1})
    write_standin(other, tmp_path / "other", progress=False)
    assert (tmp_path / "other" / PRODUCTS_FILE).read_bytes() != (standin / PRODUCTS_FILE).read_bytes()


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for name in (EXAMPLES_FILE, PRODUCTS_FILE, MANIFEST_FILE):
        (dst / name).write_bytes((src / name).read_bytes())
    return dst


def test_tampered_or_swapped_file_is_refused(standin: Path, tmp_path: Path) -> None:
    tampered = _copy(standin, tmp_path / "tampered")
    table = pq.read_table(tampered / EXAMPLES_FILE)
    pq.write_table(table.slice(0, table.num_rows - 1), tampered / EXAMPLES_FILE)  # one judgment dropped
    with pytest.raises(DataError, match=rf"{EXAMPLES_FILE}.*does not match the stand-in manifest"):
        _load(tampered)
    if (MICRO / PRODUCTS_FILE).is_file():  # the real products file swapped in under a stand-in manifest
        swapped = _copy(standin, tmp_path / "swapped")
        (swapped / PRODUCTS_FILE).write_bytes((MICRO / PRODUCTS_FILE).read_bytes())
        with pytest.raises(DataError, match=rf"{PRODUCTS_FILE}.*does not match"):
            _load(swapped)


def test_missing_or_broken_manifest_is_refused(standin: Path, tmp_path: Path) -> None:
    lost = _copy(standin, tmp_path / "lost")
    (lost / MANIFEST_FILE).unlink()
    with pytest.raises(DataError, match="generated ESCI stand-in.*manifest.*missing"):
        _load(lost)
    broken = _copy(standin, tmp_path / "broken")
    (broken / MANIFEST_FILE).write_text("{not json")
    with pytest.raises(DataError, match=f"{MANIFEST_FILE}.*not readable JSON"):
        _load(broken)


@pytest.mark.skipif(not (MICRO / EXAMPLES_FILE).is_file(), reason=f"ESCI micro sample not found at {MICRO}")
def test_real_files_still_load_as_real() -> None:
    data = _load(MICRO, splits=("test",))  # the micro sample holds one test query
    assert data.generated is False and "stand-in" not in data.description


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "leser_bench.data.esci_standin", *args], capture_output=True,
                          text=True, cwd=REPO, env=env, timeout=300)


def test_cli_writes_and_bad_arguments_exit_2_naming_the_option(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    ok = _cli("--out", str(out), "--products", "1000", "--train-queries", "20", "--test-queries", "10",
              "--train-judgments", "300", "--test-judgments", "150", "--seed", "3")
    assert ok.returncode == 0, ok.stderr
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert manifest["generated"] is True and manifest["sizes"]["products"] == 1000
    assert manifest["sizes"]["train_judgments"] == 300 and manifest["parameters"]["seed"] == 3
    for args, option in ((["--products", "-5"], "--products"), (["--test-queries", "-1"], "--test-queries"),
                         (["--label-shares", "E=1,S=x"], "--label-shares"),
                         (["--train-queries", "10", "--train-judgments", "900"], "--train-judgments")):
        bad = _cli("--out", str(tmp_path / "bad"), *args)
        assert bad.returncode == 2, (args, bad.stderr)
        lines = bad.stderr.strip().splitlines()
        assert len(lines) == 1 and option in lines[0] and "Traceback" not in bad.stderr, bad.stderr
    assert not (tmp_path / "bad").exists()


def test_cli_will_not_overwrite_real_files_without_force(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / EXAMPLES_FILE).write_bytes(b"PAR1 pretend real")
    result = _cli("--out", str(real), "--products", "1000", "--train-queries", "5", "--test-queries", "5",
                  "--train-judgments", "50", "--test-judgments", "50")
    assert result.returncode == 2 and "--force" in result.stderr
    assert (real / EXAMPLES_FILE).read_bytes() == b"PAR1 pretend real"


@pytest.mark.slow
def test_amazon_esci_experiment_runs_on_a_standin_and_the_report_says_generated(
        standin: Path, tmp_path: Path) -> None:
    from hydra import compose, initialize_config_dir

    from conftest import CONF_DIR
    from leser_bench.pipeline import run_experiment

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[
            "+experiment=amazon_esci", "suite=prf", f"dataset.cache_dir={standin}", "dataset.download=false",
            f"cache_dir={tmp_path / 'cache'}", "evaluation.measures=[nDCG@10,R@100]",
        ])
    assert sorted(cfg.methods) == ["identity", "rm3"]  # retrieval only: the LLM methods have their own tests
    result = run_experiment(cfg, tmp_path / "run")
    assert set(result.leaderboard.index) == {"identity", "rm3"}
    report = (tmp_path / "run" / "report.md").read_text()
    assert "This data is generated" in report
    assert "GENERATED stand-in for ESCI (not the real data)" in report
