"""``kind: from_file``: another system's expansions scored like any method (issue 16)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from conftest import CONF_DIR
from leser_bench.errors import ConfigError
from leser_bench.methods.from_file import read_expansions


def _compose(*overrides: str):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


@pytest.mark.parametrize(("line", "message"), [
    ("not json", ":1: not valid JSON"),
    ('["q1"]', ":1: expected a JSON object, got list"),
    ('{"query_id": "q1", "expansions": "abc"}', ":1: expansions of 'q1' must be a list of strings"),
    ('{"query_id": 7, "expansions": []}', ":1: query_id must be a non-empty string"),
    ('{"query_id": "q1", "expansions": [], "weights": [1]}', ":1: unknown keys \\['weights'\\]"),
    ('{"query_id": "q1", "expansions": []}\n{"query_id": "q1", "expansions": []}', ":2: query_id 'q1' appears a second time"),
])
def test_bad_lines_are_refused_naming_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(ConfigError, match=message):
        read_expansions(path)


def test_a_missing_path_or_file_is_refused_before_work(tmp_path: Path) -> None:
    from leser_bench.pipeline import validate

    with pytest.raises(ConfigError, match="path is missing"):
        validate(_compose("method=from_file"))
    with pytest.raises(ConfigError, match="no such expansions file"):
        validate(_compose("method=from_file", f"method.path={tmp_path / 'nowhere.jsonl'}"))


@pytest.mark.slow
def test_file_expansions_go_through_rules_retrieval_metrics_and_reports(tmp_path: Path, cache_root: Path) -> None:
    """Empty expansions score exactly as identity; real ones move the numbers and meet the rules."""
    from leser_bench.data.loading import load_dataset
    from leser_bench.pipeline import run_experiment

    base = ["suite=prf", f"cache_dir={cache_root}", "dataset.n_test=30", "retriever.k=100", "retriever.threads=1",
            "abtest.n_users=200", "abtest.interleaving_impressions=200"]
    queries = load_dataset(OmegaConf.to_container(_compose(*base).dataset, resolve=True)).split("test").queries
    empty, real = tmp_path / "empty.jsonl", tmp_path / "real.jsonl"
    empty.write_text("".join(json.dumps({"query_id": q.id, "expansions": []}) + "\n" for q in queries))
    real.write_text("".join(json.dumps({"query_id": q.id, "expansions": [f"{q.text} cheap", q.text.split()[-1] + "s"]})
                            + "\n" for q in queries))
    cfg = _compose(*base, "+method@methods.none=from_file", "methods.none.name=none", f"methods.none.path={empty}",
                   "+method@methods.mine=from_file", "methods.mine.name=mine", f"methods.mine.path={real}")
    result = run_experiment(cfg, tmp_path / "run")
    board = result.leaderboard
    assert board.loc["none"].equals(board.loc["identity"])
    assert not board.loc["mine"].equals(board.loc["identity"])
    records = [json.loads(line) for line in (tmp_path / "run" / "expansions" / "mine.jsonl").read_text().splitlines()]
    assert all(r["violations"].get("banned_term", 0) == 1 for r in records)  # "... cheap" dropped by the rules
    assert all(not any("cheap" in t for t in r["texts"]) for r in records)
    assert {"none", "mine"} <= set(pd.read_csv(tmp_path / "run" / "stats.csv")["method"])
    assert "mine" in (tmp_path / "run" / "report.md").read_text()


def test_a_bad_run_file_is_refused_before_work(tmp_path: Path) -> None:
    from leser_bench.pipeline import validate

    bad = tmp_path / "bad.trec"
    bad.write_text("q1 Q0 p1 1 2.5 x\nq1 Q0 p2 2 oops x\n")
    with pytest.raises(ConfigError, match="bad.trec:2: field 5 'oops' is not a number"):
        validate(_compose("method=run_file", f"method.path={bad}"))
    with pytest.raises(ConfigError, match="path is missing"):
        validate(_compose("method=run_file"))


@pytest.mark.slow
def test_an_external_run_is_scored_like_the_run_it_copies(tmp_path: Path, cache_root: Path) -> None:
    """RM3's own run, given back as an external run (shuffled, with another split's query added), scores
    exactly as RM3 on every measure; a run of another data set is refused."""
    from leser_bench.pipeline import run_experiment

    base = ["suite=prf", f"cache_dir={cache_root}", "dataset.n_test=30", "retriever.k=100", "retriever.threads=1",
            "abtest.n_users=200", "abtest.interleaving_impressions=200"]
    first = run_experiment(_compose(*base), tmp_path / "first")
    lines = (tmp_path / "first" / "runs" / "rm3.trec").read_text().splitlines()
    external = tmp_path / "external.trec"
    external.write_text("\n".join(reversed(lines)) + "\nother-split-q Q0 p1 1 1.0 x\n")
    cfg = _compose(*base, "+method@methods.ext=run_file", "methods.ext.name=ext", f"methods.ext.path={external}")
    second = run_experiment(cfg, tmp_path / "second")
    assert second.leaderboard.loc["ext"].equals(first.leaderboard.loc["rm3"])
    assert "ext" in set(pd.read_csv(tmp_path / "second" / "stats.csv")["method"])
    alien = tmp_path / "alien.trec"
    alien.write_text("zz1 Q0 p1 1 1.0 x\n")
    from leser_bench.errors import UserError

    with pytest.raises(UserError, match="holds none of the 30 evaluated query ids"):
        run_experiment(_compose(*base, "+method@methods.ext=run_file", "methods.ext.name=ext",
                                f"methods.ext.path={alien}"), tmp_path / "third")
