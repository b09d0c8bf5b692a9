"""The README's "Bring your own" commands, run exactly as written (issue 16).

Each command is the ```bash block after a ``<!-- readme-example: NAME -->`` line in README.md. The test runs
it with bash from the repository root, adding only where to write (``hydra.run.dir=<tmp>``) and, through
the environment, the test session's cache and HF_HUB_OFFLINE=1; then it checks the methods in metrics.csv.
The sample files the commands name are in examples/; the data is ../shared/data/vaswani."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO, shared_data

#: example -> the methods its metrics.csv holds, in order.
EXAMPLES: dict[str, list[str]] = {
    "own-files": ["identity", "rm3"],
    "own-expansions": ["identity", "rm3", "mine"],
    "own-run": ["identity", "rm3", "tfidf"],
    "config-dir": ["identity", "rm3"],
}
MARKED = re.compile(r"^<!-- readme-example: ([\w-]+) -->\n```bash\n(.*?)^```", re.S | re.M)
PYTHON = ".venv/bin/python"


def readme_examples() -> dict[str, str]:
    """name -> the command of its block (continuation lines as written: bash joins them)."""
    found: dict[str, str] = {}
    for name, block in MARKED.findall((REPO / "README.md").read_text(encoding="utf-8")):
        assert name not in found, f"two README blocks are marked {name!r}"
        found[name] = block.strip()
    return found


def test_the_readme_marks_each_example_once() -> None:
    examples = readme_examples()
    assert sorted(examples) == sorted(EXAMPLES)
    for command in examples.values():
        assert command.startswith(f"{PYTHON} -m leser_bench ") and "\n" not in command.replace("\\\n", "")


def test_the_sample_files_fit_the_data() -> None:
    """Every expanded query and every query of the sample run is a Vaswani query; every run docid a document."""
    from leser_bench.data.loading import load_dataset
    from leser_bench.methods.from_file import read_expansions

    data = shared_data("vaswani")
    dataset = load_dataset({"source": "files", "name": "vaswani", "root": str(data), "queries": "query-text.trec",
                            "catalogue": "doc-text.trec", "qrels": "qrels"})
    query_ids = {q.id for q in dataset.split("test").queries}
    expansions = read_expansions(REPO / "examples" / "vaswani_expansions.jsonl")
    assert len(expansions) == 12 and set(expansions) <= query_ids
    run = [line.split() for line in (REPO / "examples" / "vaswani_tfidf.trec").read_text().splitlines()]
    assert {r[0] for r in run} == query_ids and {r[2] for r in run} <= {p.id for p in dataset.products}
    assert all(len(r) == 6 and r[1] == "Q0" for r in run)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EXAMPLES))
def test_a_readme_example_runs_as_written(name: str, tmp_path: Path, cache_root: Path) -> None:
    shared_data("vaswani")
    command = readme_examples()[name]
    if not (REPO / PYTHON).exists():  # an install without the README's .venv: the interpreter running the tests
        command = command.replace(PYTHON, sys.executable, 1)
    run_dir = tmp_path / "run"
    env = dict(os.environ, HF_HUB_OFFLINE="1", LESER_BENCH_CACHE=str(cache_root))
    result = subprocess.run(["bash", "-c", f"{command} hydra.run.dir={run_dir}"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    board = pd.read_csv(run_dir / "metrics.csv", index_col="method")
    assert list(board.index) == EXAMPLES[name]
    assert {"nDCG@10", "R@100"} <= set(board.columns)
    if name == "own-expansions":  # 12 queries expanded from the file, the other 81 searched as they are
        records = [json.loads(line) for line in (run_dir / "expansions" / "mine.jsonl").read_text().splitlines()]
        assert len(records) == 93 and sum(bool(r["texts"]) for r in records) == 12
        assert not board.loc["mine"].equals(board.loc["identity"])
    if name == "own-run":
        assert not board.loc["tfidf"].equals(board.loc["identity"])
