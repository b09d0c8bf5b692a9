"""``stats.pairs``: comparisons chosen by name (e.g. LESER vs the SFT model it starts from, LESER vs RM3),
tested as their own family beside the run's comparisons with its baseline.

They go to ``stats_pairs.csv`` with the correction applied across those tests only, so adding a pair
never moves a number of ``stats.csv``; the report shows them in a section of their own.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from leser_bench.io.cache import atomic_write_text
from leser_bench.stats.compare import compare
from leser_bench.stats.config import StatsConfig

PAIRS_FILE = "stats_pairs.csv"


def write_pairs(per_query: pd.DataFrame, config: StatsConfig, out_dir: Path) -> pd.DataFrame | None:
    """Write ``stats_pairs.csv`` (None, and no file, when ``config.pairs`` is empty)."""
    path = out_dir / PAIRS_FILE
    if not config.pairs:
        path.unlink(missing_ok=True)  # never a stale table from an earlier analysis in the same folder
        return None
    table = compare(per_query, None, config, pairs=config.pairs)
    atomic_write_text(path, table.to_csv(index=False))
    return table
