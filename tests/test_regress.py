"""Regression checks: Anserini's rule on hand-made runs, and end to end on a real (small) pipeline run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from leser_bench.regress import Check, RegressionSpecError, judge, load_spec, main


def test_rule_within_tolerance_passes_better_is_reported_worse_fails() -> None:
    up = Check("m", "nDCG@10", expected=0.50, tolerance=0.01)
    assert judge(up, 0.505).status == "pass" and judge(up, 0.49).status == "pass"
    assert judge(up, 0.52).status == "better"
    assert judge(up, 0.48).status == "FAIL"
    down = Check("m", "Violated", expected=0.10, tolerance=0.0, direction="lower")
    assert judge(down, 0.10).status == "pass"
    assert judge(down, 0.05).status == "better" and judge(down, 0.11).status == "FAIL"
    guard = Check("m", "Violated", expected=0.60, tolerance=0.01, direction="both")
    assert judge(guard, 0.605).status == "pass"
    assert judge(guard, 0.0).status == "FAIL" and judge(guard, 0.9).status == "FAIL"  # a checker that stops finding


def test_training_curves_are_checkable_values(tmp_path: Path) -> None:
    from leser_bench.regress import run_values

    run = tmp_path / "run"
    (run / "training" / "leser").mkdir(parents=True)
    pd.DataFrame({"method": ["leser"], "nDCG@10": [0.5]}).to_csv(run / "metrics.csv", index=False)
    pd.DataFrame({"step": [1, 2], "reward": [-0.5, 0.1], "rewards/relevance/mean": [0.0, 0.2],
                  "rewards/compliance/mean": [-1.0, -0.5]}).to_csv(run / "training" / "leser" / "curves.csv",
                                                                    index=False)
    values = run_values(run)
    assert values.loc["leser", "train:reward"] == pytest.approx(-0.2)
    assert values.loc["leser", "train:relevance"] == pytest.approx(0.1)
    assert values.loc["leser", "train:compliance"] == pytest.approx(-0.75)
    assert values.loc["leser", "nDCG@10"] == 0.5


@pytest.mark.parametrize(("text", "message"), [
    ("experiment: [1]", "experiment"),
    ("experiment: x\nchecks:\n  - {method: a, measure: b}", r"checks\[0\]: needs method, measure and expected"),
    ("experiment: x\nchecks:\n  - {method: a, measure: b, expected: high}", r"checks\[0\].expected"),
    ("experiment: x\nchecks:\n  - {method: a, measure: b, expected: 1, direction: up}", "direction 'up'"),
    ("experiment: x\nchecks:\n  - {method: a, measure: b, expected: 1, tolerance: -1}", "tolerance"),
    ("experiment: x\nfoo: 1", "unknown keys"),
    ("experiment: x\n  bad: [", "not readable YAML"),
])
def test_bad_spec_names_file_and_check(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    with pytest.raises(RegressionSpecError, match=message) as info:
        load_spec(path)
    assert str(path) in str(info.value)


@pytest.fixture
def fake_run(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    pd.DataFrame({"method": ["identity", "rm3"], "nDCG@10": [0.40, 0.45], "R@100": [0.60, 0.70]}).to_csv(
        run / "metrics.csv", index=False)
    pd.DataFrame({"method": ["identity", "rm3"], "Violated": [0.0, 0.0]}).to_csv(
        run / "expansion_metrics.csv", index=False)
    (run / "run_info.json").write_text('{"complete": true}\n')  # a finished run (regress refuses others)
    return run


def _spec(tmp_path: Path, checks: list[dict]) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump({"experiment": "regression", "tolerance": 0.005, "checks": checks}))
    return path


def test_cli_fails_naming_measure_expected_and_actual(tmp_path: Path, fake_run: Path, capsys) -> None:
    spec = _spec(tmp_path, [{"method": "rm3", "measure": "R@100", "expected": 0.80},
                            {"method": "rm3", "measure": "nDCG@10", "expected": 0.452},
                            {"method": "rm3", "measure": "Violated", "expected": 0.0, "direction": "lower"}])
    assert main([str(spec), "--run-dir", str(fake_run)]) == 1
    out = capsys.readouterr().out
    assert "REGRESSION rm3 R@100: expected 0.8000" in out and "actual 0.7000" in out
    assert "2/3 checks pass" in out and "1 regression" in out


def test_cli_improvement_passes_with_a_note(tmp_path: Path, fake_run: Path, capsys) -> None:
    spec = _spec(tmp_path, [{"method": "rm3", "measure": "R@100", "expected": 0.65}])
    assert main([str(spec), "--run-dir", str(fake_run)]) == 0
    out = capsys.readouterr().out
    assert "NOTE better than expected: rm3 R@100: expected 0.6500" in out and "actual 0.7000" in out
    assert "--write-expected" in out


def test_cli_missing_measure_fails_and_bad_input_exits_2(tmp_path: Path, fake_run: Path, capsys) -> None:
    spec = _spec(tmp_path, [{"method": "rm3", "measure": "R@1000", "expected": 0.9}])
    assert main([str(spec), "--run-dir", str(fake_run)]) == 1
    assert "rm3 R@1000: expected 0.9000" in capsys.readouterr().out
    assert main([str(spec), "--run-dir", str(tmp_path / "nowhere")]) == 2
    assert "metrics.csv: missing" in capsys.readouterr().err


def test_write_expected_then_pass(tmp_path: Path, fake_run: Path, capsys) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("experiment: regression\ntolerance: 0.001\nchecks: []\n")
    assert main([str(spec), "--run-dir", str(fake_run), "--write-expected"]) == 0
    written = load_spec(spec)
    assert {(c.method, c.measure): c.expected for c in written.checks} == {
        ("identity", "nDCG@10"): 0.40, ("identity", "R@100"): 0.60, ("rm3", "nDCG@10"): 0.45, ("rm3", "R@100"): 0.70}
    assert main([str(spec), "--run-dir", str(fake_run)]) == 0
    assert "4/4 checks pass" in capsys.readouterr().out


@pytest.mark.slow
def test_real_run_degraded_fails_improved_and_unchanged_pass(tmp_path: Path, cache_root: Path, capsys) -> None:
    """The regression experiment, shrunk: expected values from one run; a truncated run (k=5) must fail.

    AP and nDCG have no cutoff, so they are computed on the truncated run (and drop); nDCG@10's cutoff
    exceeds k=5, so the pipeline skips it and the check reports it missing.
    """
    spec = tmp_path / "regression.yaml"
    small = ["dataset.n_products=800", "dataset.n_train=0", "dataset.n_test=30", f"cache_dir={cache_root}",
             "evaluation.measures=[AP,nDCG,nDCG@10]",
             "stats.n_permutations=200", "stats.n_bootstrap=100", "abtest.n_users=400",
             "abtest.interleaving_impressions=100"]
    spec.write_text(yaml.safe_dump({"experiment": "regression", "overrides": small, "tolerance": 0.002,
                                    "checks": [{"method": m, "measure": s, "expected": 0.0}
                                               for m in ("identity", "rm3") for s in ("AP", "nDCG", "nDCG@10")]}))
    good = tmp_path / "good"
    assert main([str(spec), "--out-dir", str(good), "--write-expected"]) == 0
    assert (good / "report.html").is_file() and (good / "report.md").is_file()
    expected = {(c.method, c.measure): c.expected for c in load_spec(spec).checks}
    assert 0 < expected[("rm3", "AP")] <= 1

    # unchanged: the same run passes
    assert main([str(spec), "--run-dir", str(good)]) == 0
    # degraded: a run truncated at k=5 fails, naming measure, expected and actual values
    bad = tmp_path / "bad"
    assert main([str(spec), "--out-dir", str(bad), "retriever.k=5"]) == 1
    out = capsys.readouterr().out
    degraded = pd.read_csv(bad / "metrics.csv", index_col="method")
    actual = degraded.loc["rm3", "AP"]
    assert actual < expected[("rm3", "AP")] - 0.002
    assert f"REGRESSION rm3 AP: expected {expected[('rm3', 'AP')]:.4f}" in out and f"actual {actual:.4f}" in out
    assert "REGRESSION rm3 nDCG@10: expected" in out and "missing from the run" in out

    # improved: with a lower expectation the same good run passes and says so
    text = spec.read_text().replace(f"expected: {expected[('rm3', 'AP')]}",
                                    f"expected: {round(expected[('rm3', 'AP')] - 0.05, 6)}")
    assert text != spec.read_text()
    spec.write_text(text)
    assert main([str(spec), "--run-dir", str(good)]) == 0
    assert "NOTE better than expected: rm3 AP" in capsys.readouterr().out


def test_metrics_without_a_method_column_exit_2_naming_the_file(tmp_path: Path, fake_run: Path, capsys) -> None:
    """issue 14: a metrics.csv without `method` was a KeyError traceback."""
    pd.DataFrame({"name": ["identity"], "nDCG@10": [0.4]}).to_csv(fake_run / "metrics.csv", index=False)
    spec = _spec(tmp_path, [{"method": "identity", "measure": "nDCG@10", "expected": 0.4}])
    assert main([str(spec), "--run-dir", str(fake_run)]) == 2
    err = capsys.readouterr().err
    assert "metrics.csv: no `method` column" in err and "Traceback" not in err


def test_a_bad_extra_override_exits_2_in_one_line(tmp_path: Path, capsys) -> None:
    """issue 14: an extra CLI override Hydra cannot apply was a 60-line traceback."""
    spec = _spec(tmp_path, [{"method": "identity", "measure": "nDCG@10", "expected": 0.4}])
    assert main([str(spec), "retriever.nonexistent_key=1"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "retriever.nonexistent_key=1" in err[0], err
