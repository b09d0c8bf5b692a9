"""Silent wrong results (issue 14, section 1): each case a careless or hostile user hit, and what the
harness does now. Every test here fails on the code before the fix (3141909), except two guards that
pin what already held: test_edited_cached_run_is_not_trusted (the stage cache's run was already checked
by its sidecar's SHA-256) and test_abtest_auto_labels_keep_the_presets_where_they_fit.

| case | before | now | test |
|---|---|---|---|
| `method=zero-shot` (typo) | silently ignored (`optional method`), the run went on without it | exit 2 before any work, one `error:` line listing leser_bench/conf/method/*.yaml | test_unknown_method_name_stops_before_work |
| several extra methods in one command | undocumented | `+method@methods.<key>=<name>`, repeatable (README, Configuration) | test_several_methods_can_be_added_in_one_command |
| code that produces an artefact edited | stage cache keys unchanged: old numbers | keys hash the sources of `leser_bench` and `baselines` | test_editing_the_code_changes_the_stage_keys |
| a file a method config names edited | keys unchanged | keys hash the content of every file a method config names | test_editing_a_file_a_method_reads_changes_the_key |
| bytes of a Lucene file overwritten in place | `_COMPLETE` checks names and sizes: different metrics, no word | per-file SHA-256 stored at build, checked on reuse; rebuilt with a warning | test_damaged_index_is_rebuilt_with_a_warning |
| index built before checksums existed | trusted | rebuilt once (no checksums to verify) | test_index_without_checksums_is_rebuilt |
| cached expansion without `term_weights` | KeyError on every rerun | record refused, entry discarded with a warning, recomputed | test_cached_expansion_missing_a_field_is_discarded |
| cached expansion with `"texts": "abc"` | became `["a", "b", "c"]` | refused as above | test_cached_expansion_with_a_string_for_texts_is_discarded |
| cached run edited but still a valid TREC file | (checked) | SHA-256 in the sidecar: re-searched | test_edited_cached_run_is_not_trusted |
| `evaluation.relevant_grade=9` on 0..3 data | R/P/RR = 0.0 reported | error before the index is built, naming the key and the grades | test_relevant_grade_above_the_data_is_an_error |
| all-zero qrels | every measure 0 | error before the index is built | test_all_zero_qrels_are_an_error |
| per-rule columns for methods without rules | `nan` | 0 | test_rule_columns_show_zero_for_methods_without_rules |
| `regress --run-dir` on a crashed run | accepted, checks pass | refused (exit 2, one line) unless run_info.json says complete | test_regress_refuses_an_unfinished_run |
| `analyze <run> --baseline rm3` | overwrote the run's stats.csv | writes analysis/rm3/, keeps the run's own | test_reanalysis_writes_beside_the_run_results |
| A/B `labels: auto` on 0..2 or 0..4 data | ESCI preset on 0..2; crash on 0..4 after all the work | presets only where their grades fit, else tables derived from the grade scale (nDCG's exponential gain); checked before the index; recorded in abtest.csv and the report | test_abtest_auto_labels_* |
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CONF_DIR, REPO

PY = sys.executable


def cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PY, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


# --- unknown method names ---------------------------------------------------------------------------


def test_unknown_method_name_stops_before_work(tmp_path: Path) -> None:
    out = cli("-m", "leser_bench", "method=zero-shot", "suite=none", f"hydra.run.dir={tmp_path / 'run'}",
              f"cache_dir={tmp_path / 'cache'}")
    assert out.returncode == 2, out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert "'zero-shot'" in lines[0] and "zero_shot" in lines[0] and "rm3" in lines[0]
    assert not (tmp_path / "cache").exists()  # nothing built


def test_several_methods_can_be_added_in_one_command() -> None:
    out = cli("-m", "leser_bench", "suite=none", "+method@methods.a=rm3", "+method@methods.b=rocchio", "baseline=a",
              "--cfg", "job")
    assert out.returncode == 0, out.stderr
    import yaml

    methods = yaml.safe_load(out.stdout)["methods"]
    assert {k: v["kind"] for k, v in methods.items()} == {"a": "rm3", "b": "rocchio"}
    assert "+method@methods.<key>=<name>" in (REPO / "README.md").read_text(encoding="utf-8")


# --- stale stage caches -----------------------------------------------------------------------------


def _queries() -> list:
    from leser_bench.data.records import Query

    return [Query(id="q1", text="grey sofa"), Query(id="q2", text="oak table")]


def test_editing_the_code_changes_the_stage_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A copy of the prompt builder stands for the package source: editing it changes both keys."""
    from leser_bench.io import artefacts

    package = tmp_path / "leser_bench"
    (package / "policy").mkdir(parents=True)
    prompting = package / "policy" / "prompting.py"
    prompting.write_text((REPO / "leser_bench" / "policy" / "prompting.py").read_text(encoding="utf-8"))
    monkeypatch.setattr(artefacts, "source_roots", lambda: [package])
    index = tmp_path / "index" / "abc" / "lucene"
    method = {"name": "zero_shot", "kind": "zero_shot"}

    def keys() -> tuple[str, str]:
        artefacts.source_hash.cache_clear()
        exp = artefacts.expansions_key(method, {"seed": 13}, index, _queries())
        return exp, artefacts.run_key(exp, {"k1": 0.9}, index, 100)

    before = keys()
    assert keys() == before  # stable
    prompting.write_text(prompting.read_text(encoding="utf-8").replace('"', "'", 1))
    after = keys()
    assert after[0] != before[0] and after[1] != before[1]
    # the run key alone also follows the code (a retriever change with the same expansions key)
    artefacts.source_hash.cache_clear()
    run_before = artefacts.run_key("same", {"k1": 0.9}, index, 100)
    (package / "retriever.py").write_text("# changed\n")
    artefacts.source_hash.cache_clear()
    assert artefacts.run_key("same", {"k1": 0.9}, index, 100) != run_before


def test_editing_a_file_a_method_reads_changes_the_key(tmp_path: Path) -> None:
    from leser_bench.io.artefacts import expansions_key

    examples = tmp_path / "examples.jsonl"
    examples.write_text('{"query": "sofa", "rewrite": "couch"}\n')
    method = {"name": "few_shot", "kind": "few_shot", "examples_file": str(examples)}
    index = tmp_path / "index" / "abc" / "lucene"
    before = expansions_key(method, {}, index, _queries())
    examples.write_text('{"query": "sofa", "rewrite": "settee"}\n')
    assert expansions_key(method, {}, index, _queries()) != before


# --- damaged artefacts: cached expansions ------------------------------------------------------------


def _cached_expansions(tmp_path: Path) -> Path:
    from leser_bench.expansion import Expansion
    from leser_bench.io.artefacts import load_expansions, save_expansions

    path = tmp_path / "expansions-k.jsonl"
    save_expansions(path, [Expansion(query=q, texts=["couch"], term_weights={"couch": 0.5}) for q in _queries()])
    assert [e.texts for e in load_expansions(path, _queries())] == [["couch"], ["couch"]]  # the valid round trip
    return path


def _edit_record(path: Path, line: int, edit) -> None:
    import json

    lines = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[line])
    edit(record)
    lines[line] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_cached_expansion_missing_a_field_is_discarded(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from leser_bench.io.artefacts import load_expansions

    path = _cached_expansions(tmp_path)
    _edit_record(path, 2, lambda r: r.pop("term_weights"))
    with caplog.at_level("WARNING"):
        assert load_expansions(path, _queries()) is None
    assert "term_weights" in caplog.text and "discarded" in caplog.text


def test_cached_expansion_with_a_string_for_texts_is_discarded(tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    from leser_bench.io.artefacts import load_expansions

    path = _cached_expansions(tmp_path)
    _edit_record(path, 1, lambda r: r.update(texts="abc"))
    with caplog.at_level("WARNING"):
        assert load_expansions(path, _queries()) is None
    assert "'texts'" in caplog.text


# --- damaged artefacts: the index --------------------------------------------------------------------


def _small_catalogue() -> list:
    from leser_bench.data.records import Product

    return [Product(id=f"p{i}", title=f"grey sofa {i}", description=f"seat {i} " * (i + 1)) for i in range(30)]


def test_damaged_index_is_rebuilt_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from leser_bench.io.cache import directory_complete
    from leser_bench.retrieval import IndexConfig, build_index
    from leser_bench.retrieval.index import index_damage

    lucene = build_index(_small_catalogue(), IndexConfig(threads=1), tmp_path)
    victim = max((p for p in lucene.iterdir() if p.suffix in (".doc", ".tim", ".pos")), key=lambda p: p.stat().st_size)
    original = victim.read_bytes()
    damaged = bytearray(original)
    damaged[len(damaged) // 2 : len(damaged) // 2 + 6] = bytes(b ^ 0xFF for b in damaged[len(damaged) // 2 : len(damaged) // 2 + 6])
    victim.write_bytes(bytes(damaged))  # same name, same size: the _COMPLETE marker alone still vouches for it
    assert directory_complete(lucene.parent)
    with caplog.at_level("WARNING"):
        again = build_index(_small_catalogue(), IndexConfig(threads=1), tmp_path)
    assert "damaged" in caplog.text and victim.name in caplog.text
    assert again == lucene and index_damage(lucene.parent) is None
    assert victim.read_bytes() != bytes(damaged)  # rebuilt (not byte-identical: Lucene writes segment ids)


def test_index_without_checksums_is_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from leser_bench.io.cache import COMPLETE_MARKER, _tree_checksum, atomic_write_json
    from leser_bench.retrieval import IndexConfig, build_index
    from leser_bench.retrieval.index import CHECKSUMS, index_damage

    lucene = build_index(_small_catalogue()[:10], IndexConfig(threads=1), tmp_path)
    (lucene.parent / CHECKSUMS).unlink()  # an index as the old code left it: a marker over names and sizes
    atomic_write_json(lucene.parent / COMPLETE_MARKER, {"checksum": _tree_checksum(lucene.parent)})
    with caplog.at_level("WARNING"):
        build_index(_small_catalogue()[:10], IndexConfig(threads=1), tmp_path)
    assert "no checksums.json" in caplog.text and index_damage(lucene.parent) is None


def test_edited_cached_run_is_not_trusted(tmp_path: Path) -> None:
    """Checked, not changed: the stage cache's run is verified by the SHA-256 of its sidecar on reuse."""
    from leser_bench.io.runs import RunFileWriter, run_file_valid

    path = tmp_path / "run-k.trec"
    with RunFileWriter(path, "m") as writer:
        writer.append({"q1": {"p1": 2.5, "p2": 1.25}, "q2": {"p3": 1.0}}, ["q1", "q2"])
    assert run_file_valid(path, ["q1", "q2"])
    path.write_text(path.read_text().replace("p1 1", "p9 1"))  # still a valid TREC run, same size
    assert not run_file_valid(path, ["q1", "q2"])


# --- judgments that make measures silently 0 ----------------------------------------------------------


def _run_until_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *overrides: str, dataset=None):
    """run_experiment up to the index build, which here fails the test: the error must come before it."""
    from hydra import compose, initialize_config_dir

    from leser_bench.pipeline import run as run_module

    def no_index(*_a, **_k):
        raise AssertionError("the index was built: the check came after work")

    monkeypatch.setattr(run_module, "build_index", no_index)
    if dataset is not None:
        monkeypatch.setattr(run_module, "load_dataset", lambda _cfg: dataset)
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=["suite=prf", "budget=tiny", f"cache_dir={tmp_path}", *overrides])
    return run_module.run_experiment(cfg, tmp_path / "run")


def test_relevant_grade_above_the_data_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from leser_bench.errors import ConfigError

    with pytest.raises(ConfigError, match=r"evaluation\.relevant_grade=9 .*\[0, 1, 2, 3\]"):
        _run_until_index(tmp_path, monkeypatch, "evaluation.relevant_grade=9")


def test_all_zero_qrels_are_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Decision: an error, not a note -- every measure of every method would be 0, nothing can be compared."""
    from dataclasses import replace

    from leser_bench.data.loading import load_dataset
    from leser_bench.errors import UserError

    world = load_dataset({"source": "world"})
    zero = replace(world, splits={name: replace(s, qrels={q: {d: 0 for d in docs} for q, docs in s.qrels.items()})
                                  for name, s in world.splits.items()})
    with pytest.raises(UserError, match="only grade"):
        _run_until_index(tmp_path, monkeypatch, dataset=zero)


# --- reports and run directories (the hostile report fixture: identity/prf have no rules, llm has one) ------


@pytest.fixture(scope="module")
def built_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from report_fixture import build_run_dir

    return build_run_dir(tmp_path_factory.mktemp("silent") / "run")


@pytest.fixture
def run_copy(built_run: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(built_run, tmp_path / "run"))


def test_rule_columns_show_zero_for_methods_without_rules(run_copy: Path) -> None:
    import re

    from leser_bench.report.__main__ import main as report_main

    report_main([str(run_copy)])  # the rebuilt report (what python -m leser_bench.report writes)
    md = (run_copy / "report.md").read_text(encoding="utf-8")
    section = md.split("## Rule violations", 1)[1].split("\n## ", 1)[0]
    assert "nan" not in section.lower()
    identity = next(line for line in section.splitlines() if line.startswith("| identity |"))
    assert re.fullmatch(r"\| identity \|( 0\.0000 \|)+", identity), identity
    html = (run_copy / "report.html").read_text(encoding="utf-8")
    assert ">nan<" not in html.lower()


def test_regress_refuses_an_unfinished_run(run_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import json

    import yaml

    from leser_bench.regress import main as regress_main

    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"experiment": "regression", "checks": [
        {"method": "identity", "measure": "nDCG@10", "expected": 0.0}]}))
    info = json.loads((run_copy / "run_info.json").read_text(encoding="utf-8"))
    assert info["complete"] is True  # the pipeline's report step marks the run finished, last
    assert regress_main([str(spec), "--run-dir", str(run_copy)]) == 0
    capsys.readouterr()
    for partial in ({**info, "complete": False}, None):  # crashed before the end / before run_info.json
        if partial is None:
            (run_copy / "run_info.json").unlink()
        else:
            (run_copy / "run_info.json").write_text(json.dumps(partial))
        assert regress_main([str(spec), "--run-dir", str(run_copy)]) == 2
        err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        assert len(err) == 1 and err[0].startswith("error: ") and "not a finished run" in err[0], err


def test_reanalysis_writes_beside_the_run_results(run_copy: Path) -> None:
    from leser_bench.analyze import main as analyze_main
    import pandas as pd

    from leser_bench.report.__main__ import main as report_main

    own = (run_copy / "stats.csv").read_bytes()
    assert analyze_main([str(run_copy), "--baseline", "prf", "--no-abtest"]) == 0
    assert (run_copy / "stats.csv").read_bytes() == own  # the run's own results are kept
    again = pd.read_csv(run_copy / "analysis" / "prf" / "stats.csv")
    assert set(again["baseline"]) == {"prf"}
    assert report_main([str(run_copy)]) == 0
    md = (run_copy / "report.md").read_text(encoding="utf-8")
    assert "## Significance vs the baseline" in md and "analysis/prf/analysis.md" in md


# --- A/B simulation: labels: auto on grade scales without a preset -----------------------------------------


def _graded(top: int) -> tuple[dict, dict, dict]:
    """Two runs and qrels with grades 0..top: the treatment ranks the top grade first."""
    qrels = {f"q{i}": {f"d{g}": g for g in range(top + 1)} for i in range(30)}
    control = {q: {f"d{g}": float(g + 1) for g in range(top + 1)} for q in qrels}
    treatment = {q: {f"d{g}": float(top + 1 - g) for g in range(top + 1)} for q in qrels}
    return control, treatment, qrels


@pytest.mark.parametrize("top", [2, 4])
def test_abtest_auto_labels_fit_any_grade_scale(top: int) -> None:
    """0..2 got the ESCI preset (purchase grade 3: no purchase ever); 0..4 crashed. Both now derive tables."""
    from leser_bench.abtest import ABTestConfig, simulate_ab

    config = ABTestConfig(n_users=2000, depth=top + 1)
    assert config.click.preset_name(top) == "derived" and config.purchase_threshold(top) == top
    config.check_grades(top)
    control, treatment, qrels = _graded(top)
    table = simulate_ab(treatment, control, qrels, config).set_index("metric")
    assert table.loc["purchase_rate", "control"] > 0 and table.loc["purchase_rate", "treatment"] > 0, table
    assert "derived" in table["click_probabilities"].iloc[0]


def test_abtest_auto_labels_keep_the_presets_where_they_fit() -> None:
    from leser_bench.abtest.config import PRESETS, ClickModelConfig

    cfg = ClickModelConfig()
    assert cfg.preset_name(3) == "esci" and cfg.preset_name(1) == "binary"
    assert cfg.probabilities(3)[0].tolist() == [*PRESETS["esci"]["attraction"].values(), 0.0]


def test_abtest_auto_labels_are_checked_before_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A click table that does not fit the data's grades stops the run before the index, not after it."""
    from leser_bench.errors import ConfigError

    with pytest.raises(ConfigError, match="abtest.click"):
        _run_until_index(tmp_path, monkeypatch, "abtest.click.labels=binary")


def test_abtest_auto_labels_are_recorded_in_the_report(run_copy: Path) -> None:
    from leser_bench.report.__main__ import main as report_main

    assert report_main([str(run_copy)]) == 0
    md = (run_copy / "report.md").read_text(encoding="utf-8")
    assert "Click probabilities: labels=auto: attraction {0: 0.05, 1: 0.15, 2: 0.35, 3: 0.7} (esci)" in md


# --- acceptance: damage is detected, rebuilt, and the numbers equal an uninterrupted run's ----------


@pytest.mark.slow
def test_damaged_index_and_edited_cached_run_give_the_uninterrupted_runs_metrics(tmp_path: Path) -> None:
    """Run once (cold), rerun on the warm cache, then damage the index (bytes overwritten in place, same
    size) and edit a cached run (a score changed, still a valid TREC file) and rerun: the three
    metrics.csv are byte-identical (the warm rerun also checks that cached runs score as fresh ones)."""
    cache = tmp_path / "cache"
    common = ["-m", "leser_bench", "suite=prf", "dataset.n_test=40", "retriever.threads=1",
              "abtest.n_users=200", "abtest.interleaving_impressions=200", f"cache_dir={cache}"]
    runs = []
    for name in ("cold", "warm", "damaged"):
        if name == "damaged":
            lucene = max((p for p in cache.rglob("*") if p.is_file() and p.suffix in {".doc", ".tim", ".pos"}),
                         key=lambda p: p.stat().st_size)
            data = bytearray(lucene.read_bytes())
            data[len(data) // 2 : len(data) // 2 + 6] = b"\x00\x01\x02\x03\x04\x05"
            lucene.write_bytes(bytes(data))
            cached_run = next((cache / "stages").glob("run-*.trec"))
            lines = cached_run.read_text().splitlines(keepends=True)
            parts = lines[0].split(" ")
            parts[4] = repr(float(parts[4]) + 1.0)
            cached_run.write_text(" ".join(parts) + "".join(lines[1:]))
        out = cli(*common, f"hydra.run.dir={tmp_path / name}")
        assert out.returncode == 0, out.stderr[-3000:]
        runs.append((tmp_path / name / "metrics.csv").read_text())
    log = (tmp_path / "damaged" / "__main__.log").read_text()
    assert "is damaged" in log and "rebuilding it" in log and "does not match its checksum" in log
    assert runs[0] == runs[1] == runs[2]
