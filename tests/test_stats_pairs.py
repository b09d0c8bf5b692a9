"""stats.pairs (issue 15): chosen comparisons (LESER vs SFT, LESER vs RM3) as their own family; the run's
stats.csv does not move, and the pairs equal an all-pairs comparison restricted to them when uncorrected."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leser_bench.errors import ConfigError
from leser_bench.stats import compare, stats_config_from
from leser_bench.stats.chosen import PAIRS_FILE, write_pairs


def per_query() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    for method, shift in (("identity", 0.0), ("rm3", 0.05), ("sft", 0.02), ("leser", 0.08)):
        for q in range(40):
            for measure in ("nDCG@10", "R@100"):
                rows.append((method, f"q{q}", measure, float(np.clip(0.4 + shift + rng.normal(0, 0.1), 0, 1))))
    return pd.DataFrame(rows, columns=["method", "query_id", "measure", "value"])


def test_chosen_pairs_are_their_own_family(tmp_path) -> None:
    config = stats_config_from({"pairs": [["leser", "sft"], ["leser", "rm3"]], "n_permutations": 2000,
                                "n_bootstrap": 200, "correction": "none"})
    table = write_pairs(per_query(), config, tmp_path)
    assert (tmp_path / PAIRS_FILE).is_file()
    assert list(zip(table["method"], table["baseline"])) == [("leser", "sft"), ("leser", "rm3")] * 2
    everything = compare(per_query(), None, config, all_pairs=True)
    for row in table.itertuples():
        same = everything[(everything["method"] == row.method) & (everything["baseline"] == row.baseline)
                          & (everything["measure"] == row.measure)]
        assert len(same) == 1 and same["diff"].iloc[0] == pytest.approx(row.diff)
    holm = write_pairs(per_query(), stats_config_from({**config.__dict__, "correction": "holm"}), tmp_path)
    assert (holm["p_corrected"] >= holm["p_value"]).all() and (holm["p_corrected"] > holm["p_value"]).any()
    assert write_pairs(per_query(), stats_config_from({}), tmp_path) is None
    assert not (tmp_path / PAIRS_FILE).exists()  # no stale table left behind


@pytest.mark.parametrize("pairs", [[["leser"]], [["leser", "leser"]], ["leser"], [["leser", 3]]])
def test_bad_pairs_are_refused(pairs) -> None:
    with pytest.raises(ConfigError, match="stats.pairs"):
        stats_config_from({"pairs": pairs})


def test_a_pair_naming_a_method_the_run_lacks_stops_the_run_before_work() -> None:
    import subprocess
    import sys

    from conftest import REPO

    done = subprocess.run([sys.executable, "-m", "leser_bench", "suite=prf", "stats.pairs=[[leser,rm3]]"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "stats.pairs names ['leser']" in done.stderr and "Traceback" not in done.stderr
