"""Errors found by trying to break a run (issue 14, sections 2-4): each is refused *before* any work
(exit 2, one line naming the key, file:line or id), or no longer happens. One test per case:

| case | before | now |
|---|---|---|
| `seed=abc` | ValueError traceback | `error: seed='abc' …`, exit 2 |
| `retriever.k1=-1`, `retriever.b=2` | Java error after the index is built | refused by validation |
| `report.product_url=javascript:…` | refused at report time (report.md without report.html) | refused by validation |
| `abtest.n_users=-1`, `abtest.depth=0` | (already refused by validation; pinned here) | exit 2 naming the key |
| one method (`suite=none method=identity`) | traceback in the paired tests after all the work | runs, without paired tests or A/B, and the report says why |
| a split with one judged query | traceback in the paired tests after all the work | judged queries counted: runs without paired tests, the report says why |
| `method.name=../../../x` | files written outside the run directory | refused: a method name is a safe file name |
| query/product id with a space, tab, NBSP | crash in the TREC export after everything ran | DataError at load time, file:line and id |
| `AT&amp;T-1`, `P<b>2</b>` ids | rewritten (`AT&T-1`, `P 2`), two ids became one "duplicate" | kept exactly as written |
| a failed run | a run directory with only `.hydra/` and a log | `FAILED` in the run directory, path printed |
| two identical runs on one cache | the second deletes the first's index build | one builds (lock), the other waits and reuses |
| two runs in the same second | one run directory, results overwritten | unique run directories |
| leaderboard over runs of two data sets | one table, a "best" across data sets | grouped by data set, data set shown |
| Markdown payloads in queries/titles | rendered as images/links; a backtick broke code spans | escaped, rendered as text |
| explorer ids `__proto__`, `constructor` | started expanded; `__proto__` could not collapse | a `Map` holds the expanded ids |
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from conftest import CONF_DIR, REPO
from leser_bench.errors import ConfigError
from leser_bench.pipeline import validate


def compose_config(*overrides: str) -> DictConfig:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def refused(*overrides: str) -> str:
    with pytest.raises(ConfigError) as info:
        validate(compose_config("suite=prf", *overrides))
    return str(info.value)


def cli(*args: str, cwd: Path = REPO, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env, check=False)


# --- section 2: config errors before work -------------------------------------------------------------------


def test_seed_that_is_not_an_integer_is_refused() -> None:
    assert "seed='abc'" in refused("seed=abc")


def test_negative_bm25_k1_is_refused_before_the_index_is_built() -> None:
    assert "retriever.k1=-1" in refused("retriever.k1=-1")


def test_bm25_b_outside_unit_interval_is_refused() -> None:
    assert "retriever.b=2" in refused("retriever.b=2")


def test_product_url_that_is_not_http_is_refused_before_work() -> None:
    assert "report.product_url" in refused("report.product_url='javascript:alert(1)//{id}'")


def test_abtest_n_users_negative_is_refused() -> None:
    assert "abtest.n_users" in refused("abtest.n_users=-1")


def test_abtest_depth_zero_is_refused() -> None:
    assert "abtest.depth" in refused("abtest.depth=0")


def test_a_run_with_one_method_is_valid() -> None:
    """One method is a valid run (a single row, e.g. to score a new method's files); it has no paired
    tests (see test_a_run_with_one_method_runs_without_tests_and_says_so)."""
    validate(compose_config("suite=none", "method=identity"))


@pytest.mark.parametrize("name", ["../../../x", "a/b", ".hidden", "-x", "a b", ""])
def test_unsafe_method_name_is_refused(name: str) -> None:
    assert "method.name" in refused("method=rm3", f"method.name='{name}'")


def test_unsafe_method_key_is_refused() -> None:
    assert "methods.x" in refused("+method@methods.x=rm3", "methods.x.name='../x'")


def test_cli_config_error_is_one_line_exit_2_and_leaves_no_run(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    result = cli("leser_bench", "suite=prf", "seed=abc", f"hydra.run.dir={run_dir}", f"cache_dir={tmp_path / 'c'}",
                 timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-1] == "error: seed='abc' is not allowed; it must be an integer >= 0"
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "c").exists()  # nothing was built


def test_a_failed_run_says_so_in_its_run_directory(tmp_path: Path) -> None:
    """The run directory of a failed run held only ``.hydra/`` and a log; now ``FAILED`` holds the error
    and the path is printed (stdout: stderr keeps its one error line)."""
    run_dir = tmp_path / "run"
    result = cli("leser_bench", "suite=prf", "retriever.k1=-1", f"hydra.run.dir={run_dir}",
                 f"cache_dir={tmp_path / 'c'}", timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    assert (run_dir / "FAILED").read_text(encoding="utf-8").startswith("error: retriever.k1=-1")
    assert f"failed run: {run_dir}" in result.stdout
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1


# --- section 2: ids that cannot be written to a TREC file, refused at load time; ids kept as written ----------

from test_hostile_datasets import CATALOGUE, esci, files, jsonl, set_cell  # noqa: E402

from leser_bench.data.loading import load_dataset  # noqa: E402
from leser_bench.data.records import DataError  # noqa: E402

BAD_IDS = {"space": "q 1", "tab": "q\t1", "nbsp": "q\u00a01", "line separator": "q\u20281", "control": "q\x001"}


@pytest.mark.parametrize("bad", list(BAD_IDS.values()), ids=list(BAD_IDS))
def test_query_id_with_whitespace_is_refused_at_load_naming_file_line_and_id(tmp_path: Path, bad: str) -> None:
    cfg = files(tmp_path, {"queries.jsonl": jsonl({"id": "q0", "text": "oak"}, {"id": bad, "text": "grey sofa"}),
                           "qrels.txt": "q0 0 p3 1\n"}, queries="queries.jsonl")
    with pytest.raises(DataError) as info:
        load_dataset(cfg)
    assert "queries.jsonl:2: query id " + repr(bad) in str(info.value)


@pytest.mark.parametrize("bad", list(BAD_IDS.values()), ids=list(BAD_IDS))
def test_product_id_with_whitespace_is_refused_at_load_naming_file_line_and_id(tmp_path: Path, bad: str) -> None:
    rows = [*CATALOGUE, {"id": bad, "title": "Lamp"}]
    with pytest.raises(DataError) as info:
        load_dataset(files(tmp_path, {"catalogue.jsonl": jsonl(*rows)}))
    assert "catalogue.jsonl:4: product id " + repr(bad) in str(info.value)


def test_tsv_query_id_with_trailing_space_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"queries\.tsv:2: query id 'q2 '"):
        load_dataset(files(tmp_path, {"queries.tsv": "q1\tgrey sofa\nq2 \trunning shoes\n"}))


def test_esci_product_id_with_nbsp_is_refused_at_load(tmp_path: Path) -> None:
    cfg = esci(tmp_path, examples=set_cell("product_id", 1, "B\u00a003"), products=set_cell("product_id", 2, "B\u00a003"))
    with pytest.raises(DataError, match=r"product id 'B\\xa003' contains NO-BREAK SPACE"):
        load_dataset(cfg)


def test_esci_query_id_with_space_is_refused_at_load(tmp_path: Path) -> None:
    cfg = esci(tmp_path, examples=lambda df: df.assign(query_id=df["query_id"].astype(str).replace("2", "2 x")))
    with pytest.raises(DataError, match=r"example 2: query id '2 x' contains SPACE"):
        load_dataset(cfg)


def test_ids_are_kept_exactly_as_written(tmp_path: Path) -> None:
    rows = [*CATALOGUE, {"id": "AT&amp;T-1", "title": "Phone"}, {"id": "AT&T-1", "title": "Phone too"},
            {"id": "P<b>2</b>", "title": "Bold"}]
    cfg = files(tmp_path, {"catalogue.jsonl": jsonl(*rows), "queries.tsv": "q1\tgrey sofa\nq&amp;2\tphone\n",
                           "qrels.txt": "q1 0 p1 1\nq&amp;2 0 AT&amp;T-1 1\nq&amp;2 0 AT&T-1 0\n"})
    dataset = load_dataset(cfg)
    assert [p.id for p in dataset.products][3:] == ["AT&amp;T-1", "AT&T-1", "P<b>2</b>"]
    test = dataset.split("test")
    assert [q.id for q in test.queries] == ["q1", "q&amp;2"]
    assert test.qrels["q&amp;2"] == {"AT&amp;T-1": 1, "AT&T-1": 0}


def test_trec_docno_and_topic_ids_keep_entities_and_lose_only_layout(tmp_path: Path) -> None:
    trec = "<DOC>\n<DOCNO> AT&amp;T-1 </DOCNO>\nPhone\n</DOC>\n<DOC><DOCNO>p1</DOCNO>Grey sofa</DOC>\n"
    topics = "<top>\n<num> Number: q&amp;1\n<title> phone\n</top>\n"
    cfg = files(tmp_path, {"cat.trec": trec, "topics.trec": topics, "qrels.txt": "q&amp;1 0 AT&amp;T-1 1\n"},
                catalogue="cat.trec", queries="topics.trec")
    dataset = load_dataset(cfg)
    assert [p.id for p in dataset.products] == ["AT&amp;T-1", "p1"]
    assert [q.id for q in dataset.split("test").queries] == ["q&amp;1"]


# --- section 3: concurrent runs on one cache ----------------------------------------------------------------

from leser_bench.io.cache import atomic_write_text, cached_directory, directory_complete, remove_stale_temporaries  # noqa: E402,I001

BUILD_SCRIPT = """
import sys, time
from pathlib import Path
from leser_bench.io.cache import cached_directory
target, log = Path(sys.argv[1]), Path(sys.argv[2])
def build(tmp):
    with log.open("a") as fh:
        fh.write("built\\n")
    time.sleep(1.5)
    (tmp / "data.txt").write_text("payload")
print(cached_directory(target, build))
"""


def test_a_live_writers_temporary_is_kept_and_a_dead_ones_removed(tmp_path: Path) -> None:
    target = tmp_path / "index" / "abc"
    target.parent.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                              check=True)
        live_tmp = target.parent / f".abc.{sleeper.pid}.x1y2z3.tmp"
        dead_tmp = target.parent / f".abc.{int(dead.stdout)}.q9w8e7.tmp"
        other = target.parent / f".abc.meta.json.{int(dead.stdout)}.k1k2.tmp"  # another artefact's
        for path in (live_tmp, dead_tmp):
            path.mkdir()
            (path / "meta.json").write_text("{}")
        other.write_text("x")
        remove_stale_temporaries(target)
        assert (live_tmp / "meta.json").is_file()  # another run's index build in progress survives
        assert not dead_tmp.exists()
        assert other.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_two_processes_building_one_artefact_build_it_once(tmp_path: Path) -> None:
    target, log = tmp_path / "cache" / "index" / "k", tmp_path / "builds.log"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([sys.executable, "-c", BUILD_SCRIPT, str(target), str(log)], env=env, cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    assert log.read_text().count("built") == 1
    assert directory_complete(target) and (target / "data.txt").read_text() == "payload"
    assert not list(target.parent.glob("*.tmp"))


def test_rebuilding_a_damaged_directory_never_leaves_the_name_missing_or_mixed(tmp_path: Path) -> None:
    target = tmp_path / "art"

    def build(text: str):  # noqa: ANN202
        return lambda tmp: (tmp / "f.txt").write_text(text)

    cached_directory(target, build("one"))
    atomic_write_text(target / "f.txt", "damaged!")  # same name, another size: the checksum no longer matches
    assert not directory_complete(target)
    cached_directory(target, build("two"))
    assert (target / "f.txt").read_text() == "two" and directory_complete(target)
    assert not list(tmp_path.glob(".art.*.tmp"))


TWO_RUNS = ["suite=prf", "dataset.n_products=500", "dataset.n_train=10", "dataset.n_test=20", "budget=tiny",
            "experiment_name=twin", "abtest.n_users=400", "abtest.interleaving_impressions=200",
            "stats.n_permutations=200", "stats.n_bootstrap=50", "retriever.k=100",
            "evaluation.measures=[nDCG@10,R@100]"]


@pytest.mark.slow  # about 35 s on two cores
def test_two_identical_runs_started_together_on_one_cache_both_succeed(tmp_path: Path) -> None:
    """Started in the same second from the same directory with the default ``hydra.run.dir``: two run
    directories, the index built once, identical metrics. Before: the second run deleted the first one's
    index build (``No such file or directory … .tmp/meta.json``) or both wrote one run directory."""
    cache = tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "leser_bench", *TWO_RUNS, f"cache_dir={cache}"]
    procs = [subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[-3000:] for o in outs]
    runs = sorted((tmp_path / "reports" / "twin").iterdir())
    assert len(runs) == 2, runs
    first, second = ((r / "metrics.csv").read_text() for r in runs)
    assert first == second
    assert len([d for d in (cache / "index").iterdir() if not d.name.startswith(".")]) == 1
    assert sum(o.count("indexing products") > 0 for o in outs) == 1  # one process built, the other reused
    assert not list(cache.rglob("*.tmp"))


def test_leaderboard_groups_runs_by_data_set_and_never_picks_a_best_across_them(tmp_path: Path) -> None:
    import json
    import shutil

    import pandas as pd

    from leser_bench.report.leaderboard import main as leaderboard_main
    from report_fixture import build_run_dir

    base = build_run_dir(tmp_path / "base", training=False)
    sweep = tmp_path / "sweep"
    for n, (name, scale) in enumerate((("small-set", 1.0), ("other-set", 0.5))):
        run = shutil.copytree(base, sweep / str(n))
        info = json.loads((run / "run_info.json").read_text(encoding="utf-8"))
        info["dataset_summary"]["name"] = name
        (run / "run_info.json").write_text(json.dumps(info), encoding="utf-8")
        metrics = pd.read_csv(run / "metrics.csv", index_col="method")
        (metrics * scale).to_csv(run / "metrics.csv")
    assert leaderboard_main([str(sweep)]) == 0
    md = (sweep / "leaderboard.md").read_text(encoding="utf-8")
    assert "2 different data sets" in md
    rows = [line for line in md.splitlines() if line.startswith("| small-set") or line.startswith("| other-set")]
    assert len(rows) == 6
    best_small = pd.read_csv(sweep / "0" / "metrics.csv", index_col="method")["nDCG@10"].max()
    best_other = pd.read_csv(sweep / "1" / "metrics.csv", index_col="method")["nDCG@10"].max()
    # each data set has its own best; the lower data set's best is still marked
    assert any(f"**{best_small:.4f}**" in r for r in rows if r.startswith("| small-set"))
    assert any(f"**{best_other:.4f}**" in r for r in rows if r.startswith("| other-set"))
    page = (sweep / "leaderboard.html").read_text(encoding="utf-8")
    assert 'id="mixed-datasets"' in page and "other-set" in page


# --- section 4: Markdown reports that could be injected ------------------------------------------------------

IMAGE, LINK, TICK = "![x](http://evil.example/track.png)", "[click](https://evil.example)", "a `tick` b`"


def _render_md(text: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough").render(text)


def _report_md(tmp_path: Path) -> str:
    import pandas as pd

    from leser_bench.report.markdown import ReportData, render

    board = pd.DataFrame({"nDCG@10": [0.5, 0.6]}, index=pd.Index(["identity", f"m {LINK}"], name="method"))
    data = ReportData(
        title=f"t {IMAGE}", dataset_summary={"name": f"{LINK} *x*"}, dataset_description=f"# {IMAGE} ~~s~~",
        generated=False, retriever="bm25", leaderboard=board, measure_notes=[f"note {IMAGE}"],
        examples={"identity": [(f"{IMAGE} {TICK}", f"{LINK} **bold** _em_ x|y")]}, stage_seconds={f"s {LINK}": 1.0},
        config_yaml="a: 1", baseline="identity",
    )
    return render(data)


def test_markdown_report_renders_payloads_in_queries_and_titles_as_text(tmp_path: Path) -> None:
    html = _render_md(_report_md(tmp_path))
    assert "<img" not in html and "<a " not in html and "<strong>bold" not in html and "<em>em" not in html
    assert "<del>" not in html and "<h1>![x]" not in html
    assert "![x](http://evil.example/track.png)" in html and "[click](https://evil.example)" in html


def test_a_backtick_in_a_query_does_not_break_out_of_text(tmp_path: Path) -> None:
    html = _render_md(_report_md(tmp_path))
    assert "a `tick` b`" in html and "<code>tick</code>" not in html


def test_code_span_holds_any_backticks() -> None:
    from leser_bench.report.markdown import code_span

    for text in ("plain", "a`b", "`start", "end`", "x `` y"):
        assert _render_md(code_span(text)).strip() == f"<p><code>{text}</code></p>"


def test_leaderboard_markdown_renders_payloads_as_text(tmp_path: Path) -> None:
    import shutil

    from leser_bench.report.leaderboard import main as leaderboard_main
    from report_fixture import build_run_dir

    base = build_run_dir(tmp_path / "base", training=False)
    sweep = tmp_path / "sweep"
    for n, value in enumerate((IMAGE, LINK)):
        run = shutil.copytree(base, sweep / str(n))
        (run / ".hydra").mkdir(exist_ok=True)
        (run / ".hydra" / "overrides.yaml").write_text(f"- '+note={value} {TICK}'\n", encoding="utf-8")
    assert leaderboard_main([str(sweep)]) == 0
    html = _render_md((sweep / "leaderboard.md").read_text(encoding="utf-8"))
    assert "<img" not in html and "<a " not in html and "<code>tick</code>" not in html
    assert IMAGE in html and LINK in html


EXPLORER_PROBE = """<script>
window.addEventListener("load", function () {
  var out = {};
  var details = function () { return document.querySelectorAll("#explorer tr.detail").length; };
  var toggle = function (id) {
    document.querySelector('#explorer tr[data-query-id="' + id + '"] button.toggle').click();
  };
  out.initial = details();
  out.initialLabels = Array.prototype.map.call(document.querySelectorAll("#explorer button.toggle"),
                                               function (b) { return b.textContent; });
  toggle("__proto__");
  out.opened = details();
  out.openedText = document.querySelector("#explorer tr.detail").textContent;
  toggle("__proto__");
  out.closed = details();
  var pre = document.createElement("pre");
  pre.id = "probe-result";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def test_explorer_query_ids_like_proto_start_collapsed_and_toggle(tmp_path: Path) -> None:
    import json

    import lxml.html

    from leser_bench.report.browser import chromium_path, dump_dom
    from leser_bench.report.explorer import script_json

    if chromium_path() is None:
        pytest.skip("Chromium not found")
    ids = ["__proto__", "constructor", "toString", "q1"]
    rows = [{"id": q, "query": f"query {q}", "values": {"identity": [0.5], "rm3": [0.6]},
             "deltas": {"rm3": [0.1]}, "expansions": {"identity": "", "rm3": "more"},
             "violations": {"identity": [], "rm3": []}, "top": {"identity": [["P1", "title", "E"]], "rm3": []}}
            for q in ids]
    data = {"methods": ["identity", "rm3"], "baseline": "identity", "measures": ["nDCG@10"], "primary": "nDCG@10",
            "product_url": None, "total_queries": len(rows), "rows": rows}
    js = (REPO / "leser_bench" / "report" / "templates" / "explorer.js").read_text(encoding="utf-8")
    page = tmp_path / "explorer.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
        "<input id='explorer-filter'><select id='explorer-measure'></select><div id='explorer-count'></div>"
        "<table id='explorer'><thead></thead><tbody></tbody></table>"
        f"<script type='application/json' id='explorer-data'>{script_json(data)}</script>"
        f"<script>{js}</script>{EXPLORER_PROBE}</body></html>", encoding="utf-8")
    doc = lxml.html.document_fromstring(dump_dom(page))
    out = json.loads(doc.get_element_by_id("probe-result").text_content())
    assert out["initial"] == 0 and out["initialLabels"] == ["show"] * 4
    assert out["opened"] == 1 and "title" in out["openedText"]
    assert out["closed"] == 0


def _tiny_files(tmp_path: Path) -> list[str]:
    """Three queries over 30 products, one judged query: the files loader's overrides."""
    import json

    data = tmp_path / "data"
    data.mkdir()
    (data / "catalogue.jsonl").write_text("".join(json.dumps({"id": f"p{i}", "title": f"grey sofa {i} oak table"})
                                                  + "\n" for i in range(30)))
    (data / "queries.tsv").write_text("q1\tgrey sofa\nq2\toak table\nq3\trunning\n")
    (data / "qrels.txt").write_text("q1 0 p1 1\nq1 0 p2 0\n")
    return ["dataset=vaswani", f"+dataset.root={data}", "dataset.catalogue=catalogue.jsonl",
            "dataset.queries=queries.tsv", "dataset.qrels=qrels.txt", f"cache_dir={tmp_path / 'c'}", "budget=tiny"]


def test_a_split_with_one_judged_query_runs_without_tests_and_says_so(tmp_path: Path) -> None:
    """Three queries, one judged: the paired tests raised a traceback after all the work. Now the judged
    queries are counted: the run finishes, without stats.csv, and the report says why."""
    run_dir = tmp_path / "run"
    result = cli("leser_bench", "suite=prf", *_tiny_files(tmp_path), f"hydra.run.dir={run_dir}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert not (run_dir / "stats.csv").exists() and not (run_dir / "FAILED").exists()
    assert "the main table has 1 judged query, and paired tests need at least 2" in (run_dir / "report.md").read_text()


def test_a_run_with_one_method_runs_without_tests_and_says_so(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    result = cli("leser_bench", "suite=none", "method=identity", *_tiny_files(tmp_path), f"hydra.run.dir={run_dir}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert not (run_dir / "stats.csv").exists()
    assert "one method ran" in (run_dir / "report.md").read_text()


def test_a_mapping_override_that_hydra_would_merge_is_refused_with_the_replacing_spelling() -> None:
    """issue 16: `retriever.field_weights={contents: 1.0}` silently kept `title` (Hydra merges mappings)."""
    result = cli("leser_bench", "suite=prf", "retriever.field_weights={contents: 1.0}", "--cfg", "job", timeout=120)
    assert result.returncode == 2
    assert "['title'] would be kept" in result.stderr and "~retriever.field_weights" in result.stderr
    replaced = cli("leser_bench", "suite=prf", "~retriever.field_weights", "+retriever.field_weights={contents: 1.0}",
                   "--cfg", "job", timeout=120)
    assert replaced.returncode == 0 and "title: 1.0" not in replaced.stdout, replaced.stderr


def test_two_hydra_modes_together_are_one_error_line_not_a_traceback() -> None:
    result = cli("leser_bench", "--cfg", "job", "--multirun", "suite=prf", timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: --multirun and --cfg cannot be given together: choose one (a run, a multirun, or showing the "
        "config/info)"]
