"""Errors found by trying to break a run (issue 14, sections 2-4): each is refused *before* any work
(exit 2, one line naming the key, file:line or id), or no longer happens. One test per case:

| case | before | now |
|---|---|---|
| `seed=abc` | ValueError traceback | `error: seed='abc' …`, exit 2 |
| `retriever.k1=-1`, `retriever.b=2` | Java error after the index is built | refused by validation |
| `report.product_url=javascript:…` | refused at report time (report.md without report.html) | refused by validation |
| `abtest.n_users=-1`, `abtest.depth=0` | (already refused by validation; pinned here) | exit 2 naming the key |
| one method (`suite=none method=identity`) | traceback in the paired tests after all the work | refused by validation |
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


def test_a_run_with_one_method_is_refused_before_work() -> None:
    with pytest.raises(ConfigError, match="only one method"):
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
