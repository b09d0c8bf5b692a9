"""``dataset=ir_datasets`` (issue 16): a collection registered with the real ir_datasets package from local
files (Vaswani, written as JSONL documents, TSV queries and its TREC qrels) loads exactly as ``dataset=files``
loads the same files, and scores the same through the whole pipeline; ids that are not on this machine are
refused before any work, naming the id and IR_DATASETS_HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from conftest import CONF_DIR, REPO, shared_data
from leser_bench.data.files import FilesConfig, load_files
from leser_bench.data.loading import dataset_config, load_dataset
from leser_bench.data.records import DataError

ir_datasets = pytest.importorskip("ir_datasets")


def register(docs, queries, qrels) -> str:  # noqa: ANN001 - ir_datasets handlers
    """A fresh ir_datasets id for a collection of these handlers (ir_datasets refuses a name twice)."""
    from ir_datasets.datasets.base import Dataset

    name = f"leser-test/{uuid.uuid4().hex[:8]}"
    ir_datasets.registry.register(name, Dataset(docs, queries, qrels))
    return name


@pytest.fixture(scope="module")
def local_vaswani(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """Vaswani as docs.jsonl + queries.tsv + its qrels, registered in ir_datasets; (id, folder of the files)."""
    from ir_datasets.formats import JsonlDocs, TrecQrels, TsvQueries
    from ir_datasets.util import LocalDownload

    source = shared_data("vaswani")
    original = load_files(FilesConfig(root=str(source), catalogue="doc-text.trec", queries="query-text.trec",
                                      qrels="qrels"))
    folder = tmp_path_factory.mktemp("vaswani_irds")
    with (folder / "docs.jsonl").open("w") as out:
        out.writelines(json.dumps({"doc_id": p.id, "text": p.description}) + "\n" for p in original.products)
    with (folder / "queries.tsv").open("w") as out:
        out.writelines(f"{q.id}\t{q.text}\n" for q in original.split("test").queries)
    (folder / "qrels").write_bytes((source / "qrels").read_bytes())
    name = register(JsonlDocs(LocalDownload(folder / "docs.jsonl")), TsvQueries(LocalDownload(folder / "queries.tsv")),
                    TrecQrels(LocalDownload(folder / "qrels"), {0: "not relevant", 1: "relevant"}))
    return name, folder


def _files_dataset(folder: Path) -> dict:
    return {"source": "files", "name": "vaswani", "root": str(folder), "catalogue": "docs.jsonl", "id_field": "doc_id",
            "fields": {"description": "text"}, "queries": "queries.tsv", "qrels": "qrels"}


def test_the_collection_loads_as_the_files_loader_loads_the_same_files(local_vaswani: tuple[str, Path]) -> None:
    name, folder = local_vaswani
    mine = load_dataset({"source": "ir_datasets", "id": name, "name": "vaswani"})
    files = load_dataset(_files_dataset(folder))
    assert mine.products == files.products and len(mine.products) == 11429
    assert mine.split("test").queries == files.split("test").queries and len(mine.split("test").queries) == 93
    assert mine.split("test").qrels == files.split("test").qrels
    assert mine.gains == files.gains and mine.name == "vaswani"
    renamed = load_dataset({"source": "ir_datasets", "id": name, "split": "eval", "fields": {"title": "text"}})
    assert list(renamed.splits) == ["eval"] and renamed.name == name
    assert renamed.products[0].title == files.products[0].description and not renamed.products[0].description


def test_impossible_settings_are_refused_before_any_work(local_vaswani: tuple[str, Path]) -> None:
    name, _ = local_vaswani
    cases = [
        ({}, "dataset.id is missing"),
        ({"id": "vaswanii"}, "dataset.id='vaswanii' is not an ir_datasets id; did you mean \\['vaswani'\\]"),
        ({"id": name, "fields": {"title": "title"}}, "dataset.fields: .* GenericDoc records have no field \\['title'\\]; "
                                                     "they have \\['doc_id', 'text'\\]"),
        ({"id": name, "fields": {"name": "text"}}, "catalogue fields \\['name'\\] are not Product fields"),
        ({"id": name, "query_text_field": "title"}, "dataset.query_text_field: .* no field \\['title'\\]"),
        ({"id": "beir/scifact"}, "has no qrels; pick an id with documents, queries and qrels"),
        ({"id": name, "gain": {}}, "unknown keys \\['gain'\\]"),
    ]
    for values, message in cases:
        with pytest.raises(DataError, match=message):
            dataset_config({"source": "ir_datasets", **values})
    with pytest.raises(DataError, match=f"{name}' qrels, query '1': grade 1 is not in the gains mapping"):
        load_dataset({"source": "ir_datasets", "id": name, "gains": {0: 0.0}})


def test_files_that_are_not_here_are_named_before_any_work(tmp_path: Path) -> None:
    """A local file that is absent, and a download that would be needed: the walk over ir_datasets' own
    Download and LocalDownload objects finds both without fetching anything."""
    from ir_datasets.formats import TrecQrels, TsvDocs, TsvQueries
    from ir_datasets.util import Download, LocalDownload, RequestsDownload

    (tmp_path / "queries.tsv").write_text("1\tmicrowave\n")
    remote = Download([RequestsDownload("http://127.0.0.1:9/docs.tsv")], cache_path=str(tmp_path / "cache" / "docs.tsv"))
    name = register(TsvDocs(remote), TsvQueries(LocalDownload(tmp_path / "queries.tsv")),
                    TrecQrels(LocalDownload(tmp_path / "absent-qrels"), {1: "relevant"}))
    with pytest.raises(DataError) as caught:
        dataset_config({"source": "ir_datasets", "id": name})
    message = str(caught.value)
    assert message.startswith(f"dataset.id={name!r} is not in ir_datasets' local cache (IR_DATASETS_HOME=")
    assert f"{tmp_path / 'cache' / 'docs.tsv'} (from http://127.0.0.1:9/docs.tsv) for docs" in message
    assert f"{tmp_path / 'absent-qrels'} for qrels" in message and "queries.tsv" not in message
    assert not (tmp_path / "cache" / "docs.tsv").exists()
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "docs.tsv").write_text("d1\tmicrowave oven\n")
    (tmp_path / "absent-qrels").write_text("1 0 d1 1\n")
    data = load_dataset({"source": "ir_datasets", "id": name})  # once the files are there, it loads
    assert [p.description for p in data.products] == ["microwave oven"]


def test_a_built_in_id_not_cached_fails_on_the_command_line_naming_id_and_home(tmp_path: Path) -> None:
    home = tmp_path / "irds_home"
    env = dict(os.environ, HF_HUB_OFFLINE="1", IR_DATASETS_HOME=str(home))
    done = subprocess.run([sys.executable, "-m", "leser_bench", "dataset=ir_datasets", "dataset.id=vaswani",
                           "suite=prf", f"hydra.run.dir={tmp_path / 'run'}", f"cache_dir={tmp_path / 'cache'}"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "dataset.id='vaswani' is not in ir_datasets' local cache" in done.stderr
    assert f"IR_DATASETS_HOME={home}" in done.stderr and str(home / "vaswani" / "npl.tar.gz") in done.stderr
    assert "ir_datasets export vaswani docs" in done.stderr
    assert not (tmp_path / "cache").exists()  # refused before any work


@pytest.mark.slow
def test_the_pipeline_scores_it_as_the_same_files(local_vaswani: tuple[str, Path], tmp_path: Path) -> None:
    """identity + RM3 on the registered collection and on dataset=files over the same files, each with its
    own cache (nothing reused between them): every per-query value is equal."""
    from leser_bench.pipeline import run_experiment

    name, folder = local_vaswani
    base = ["suite=prf", "retriever.k=100", "retriever.threads=1", "evaluation.measures=[AP,nDCG@10,R@100,P@10]",
            "abtest.n_users=200", "abtest.interleaving_impressions=200", "stats.n_permutations=200",
            "stats.n_bootstrap=100"]
    files = _files_dataset(folder)
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        by_files = compose(config_name="config", overrides=[*base, "dataset=files", f"cache_dir={tmp_path / 'c1'}",
                                                            *(f"dataset.{k}={v}" for k, v in files.items()
                                                              if k not in ("source", "fields")),
                                                            "~dataset.fields", "+dataset.fields={description: text}"])
        by_irds = compose(config_name="config", overrides=[*base, "dataset=ir_datasets", f"dataset.id={name}",
                                                           "dataset.name=vaswani", f"cache_dir={tmp_path / 'c2'}"])
    assert OmegaConf.to_container(by_files.dataset)["fields"] == {"description": "text"}
    first = run_experiment(by_files, tmp_path / "files")
    second = run_experiment(by_irds, tmp_path / "irds")
    assert first.per_query.equals(second.per_query)
    assert first.leaderboard.equals(second.leaderboard)
    assert 0.25 <= second.leaderboard.loc["identity", "AP"] <= 0.35  # published BM25 MAP on Vaswani is about 0.30
    assert (tmp_path / "files" / "runs" / "rm3.trec").read_text() == (tmp_path / "irds" / "runs" / "rm3.trec").read_text()
