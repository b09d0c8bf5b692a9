"""`python -m leser_bench.analyze` on a small fabricated run directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leser_bench.analyze import analyze, main

SMALL = {"stats": {"n_permutations": 2000, "n_bootstrap": 300},
         "abtest": {"n_users": 3000, "interleaving_impressions": 800}}


def _write_run_dir(root: Path, n_queries: int = 40) -> Path:
    rng = np.random.default_rng(0)
    qids = [f"{i:03d}" for i in range(n_queries)]  # leading zeros must survive as strings
    qrels = {q: {f"p{q}_{j}": int(rng.integers(0, 4)) for j in range(15)} for q in qids}
    runs = {
        "identity": {q: {d: rng.normal() for d in docs} for q, docs in qrels.items()},
        "leser": {q: {d: g + rng.normal(0, 0.5) for d, g in docs.items()} for q, docs in qrels.items()},
    }
    (root / "runs").mkdir(parents=True)
    (root / ".hydra").mkdir()
    rows = []
    for name, run in runs.items():
        with (root / "runs" / f"{name}.trec").open("w") as fh:
            for q, docs in run.items():
                ranked = sorted(docs.items(), key=lambda kv: -kv[1])
                fh.writelines(f"{q} Q0 {d} {r} {s:.6f} {name}\n" for r, (d, s) in enumerate(ranked, 1))
                top = [qrels[q][d] for d, _ in ranked[:10]]
                rows.append((name, q, "P@10", float(np.mean(np.array(top) == 3))))
                rows.append((name, q, "Hit@10", float(3 in top)))
    with (root / "qrels.trec").open("w") as fh:
        fh.writelines(f"{q} 0 {d} {g}\n" for q, docs in qrels.items() for d, g in docs.items())
    pd.DataFrame(rows, columns=["method", "query_id", "measure", "value"]).to_csv(root / "per_query.csv", index=False)
    import yaml

    (root / ".hydra" / "config.yaml").write_text(yaml.safe_dump({"dataset": {"name": "fake"}, **SMALL}))
    return root


def test_analyze_writes_tables_and_markdown(tmp_path):
    run_dir = _write_run_dir(tmp_path / "run")
    assert main([str(run_dir)]) == 0
    out = run_dir / "analysis" / "identity"  # a re-analysis goes beside the run's own results
    stats = pd.read_csv(out / "stats.csv", dtype={"method": str})
    assert set(stats["measure"]) == {"P@10", "Hit@10"} and set(stats["method"]) == {"leser"}
    assert stats["n_bootstrap"].eq(300).all()  # the run's .hydra stats section was used
    assert stats.set_index("measure").loc["P@10", "significant"]
    ab = pd.read_csv(out / "abtest.csv")
    assert set(ab["kind"]) == {"ab", "interleaving"} and ab["control_users"].dropna().eq(1500).all()
    inter = ab[ab["kind"] == "interleaving"].iloc[0]
    assert inter["preference"] > 0 and inter["p_value"] < 0.01
    md = (out / "analysis.md").read_text()
    assert "Holm–Bonferroni" in md and "| P@10 | leser |" in md and "Team-draft interleaving" in md


def test_analyze_uses_given_config_file_and_all_pairs(tmp_path):
    run_dir = _write_run_dir(tmp_path / "run")
    cfg = tmp_path / "stats.yaml"
    cfg.write_text("test: t\ncorrection: bonferroni\nn_bootstrap: 200\n")
    assert main([str(run_dir), "--stats-config", str(cfg), "--no-abtest", "--all-pairs"]) == 0
    out = run_dir / "analysis" / "identity-all-pairs"
    stats = pd.read_csv(out / "stats.csv")
    assert stats["test"].eq("t").all() and stats["correction"].eq("bonferroni").all()
    assert "**Bonferroni**" in (out / "analysis.md").read_text()


@pytest.mark.parametrize(("setup", "message"), [
    (lambda d: None, "not a directory"),
    (lambda d: d.mkdir(), "per_query.csv: missing"),
    (lambda d: (_write_run_dir(d), (d / "runs" / "identity.trec").write_text("001 Q0 p1 1 oops x\n")),
     r"identity.trec:1: field 5 'oops' is not a number"),
    (lambda d: (_write_run_dir(d), (d / "qrels.trec").unlink()), "qrels.trec: missing"),
    (lambda d: (_write_run_dir(d), (d / ".hydra" / "config.yaml").write_text("stats:\n  tests: t\n")),
     "stats: unknown key"),
])
def test_bad_directories_fail_with_a_clear_message(tmp_path, capsys, setup, message):
    run_dir = tmp_path / "run"
    setup(run_dir)
    assert main([str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert pytest.importorskip("re").search(message, err), err


def test_unknown_baseline_is_named(tmp_path, capsys):
    run_dir = _write_run_dir(tmp_path / "run")
    assert main([str(run_dir), "--baseline", "bm25"]) == 2
    assert "'bm25' is not among the methods: identity, leser" in capsys.readouterr().err


def test_module_runs_as_a_command(tmp_path):
    run_dir = _write_run_dir(tmp_path / "run")
    done = subprocess.run([sys.executable, "-m", "leser_bench.analyze", str(run_dir), "--no-abtest"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = run_dir / "analysis" / "identity"
    assert (out / "analysis.md").is_file() and not list(out.glob(".*.md.*"))


def test_analyze_function_returns_tables(tmp_path):
    run_dir = _write_run_dir(tmp_path / "run")
    stats, ab = analyze(run_dir)
    assert len(stats) == 2 and len(ab) == 5
