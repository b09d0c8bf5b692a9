"""Statistics and the A/B simulation on an existing run directory, without recomputing any run.

    python -m leser_bench.analyze <run_dir> [--baseline identity] [--stats-config stats.yaml]
                                  [--abtest-config abtest.yaml] [--all-pairs] [--no-abtest]

Reads ``per_query.csv``, ``runs/<method>.trec``, ``qrels.trec`` and (if present)
``.hydra/config.yaml`` — whose ``stats:`` and ``abtest:`` sections are used unless a config file is
given — and writes ``stats.csv``, ``abtest.csv`` and ``analysis.md`` into ``<run_dir>/analysis/<baseline>/``
(``<baseline>-all-pairs`` with ``--all-pairs``): a re-analysis sits beside the run's own results, which
the run's report shows and which are never overwritten. (The pipeline writes the run's own into the run
directory itself.)
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from leser_bench.io import trec
from leser_bench.abtest import ABTestConfig, abtest_config_from, interleave, simulate_ab
from leser_bench.stats import StatsConfig, compare, correct, stats_config_from
from leser_bench.io.cache import atomic_write_text
from leser_bench.errors import UserError
from leser_bench.stats.render import abtest_markdown, significance_markdown


class AnalyzeError(UserError, ValueError):
    """The run directory or one of its files cannot be analysed; the message names the file."""


@dataclass(frozen=True)
class RunDirectory:
    per_query: pd.DataFrame
    runs: dict[str, dict[str, dict[str, float]]]
    qrels: dict[str, dict[str, int]]
    hydra: dict[str, Any]


def read_run(path: Path) -> dict[str, dict[str, float]]:
    try:
        return trec.read_run(path)
    except ValueError as exc:
        raise AnalyzeError(str(exc)) from None


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    try:
        return trec.read_qrels(path)
    except ValueError as exc:
        raise AnalyzeError(str(exc)) from None


def load_run_directory(run_dir: Path, need_runs: bool = True) -> RunDirectory:
    """Read a finished run directory; every missing or malformed file is an AnalyzeError naming it."""
    if not run_dir.is_dir():
        raise AnalyzeError(f"{run_dir}: not a directory (expected a finished run directory)")
    pq = run_dir / "per_query.csv"
    if not pq.is_file():
        raise AnalyzeError(f"{pq}: missing; is {run_dir} a finished run directory?")
    try:
        per_query = pd.read_csv(pq, dtype={"method": str, "query_id": str, "measure": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise AnalyzeError(f"{pq}: not a readable CSV ({exc})") from None
    runs: dict[str, dict[str, dict[str, float]]] = {}
    qrels: dict[str, dict[str, int]] = {}
    if need_runs:
        run_files = sorted((run_dir / "runs").glob("*.trec"))
        if not run_files:
            raise AnalyzeError(f"{run_dir / 'runs'}: no <method>.trec run files (needed by the A/B simulation; "
                               f"use --no-abtest to skip it)")
        runs = {p.stem: read_run(p) for p in run_files}
        qrels_path = run_dir / "qrels.trec"
        if not qrels_path.is_file():
            raise AnalyzeError(f"{qrels_path}: missing (needed by the A/B simulation; use --no-abtest to skip it)")
        qrels = read_qrels(qrels_path)
    return RunDirectory(per_query, runs, qrels, read_hydra(run_dir))


def _load_yaml(path: Path) -> Any:
    from omegaconf import OmegaConf

    try:
        return OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    except Exception as exc:  # omegaconf/yaml raise many kinds
        raise AnalyzeError(f"{path}: not readable YAML ({exc})") from None


def read_hydra(run_dir: Path) -> dict[str, Any]:
    """The run's composed Hydra config (.hydra/config.yaml), or {} when there is none."""
    path = run_dir / ".hydra" / "config.yaml"
    loaded = _load_yaml(path) if path.is_file() else {}
    return loaded if isinstance(loaded, dict) else {}


def _config_section(path: str | None, run_dir: Path, key: str) -> Any:
    if path is None:
        return read_hydra(run_dir).get(key)
    if not Path(path).is_file():
        raise AnalyzeError(f"{path}: {key} config file not found")
    return _load_yaml(Path(path))


def run_abtests(data: RunDirectory, baseline: str, config: ABTestConfig) -> tuple[pd.DataFrame, list[str]]:
    """A/B and interleaving rows for every method with a run file vs the baseline; notes on skipped ones."""
    from tqdm import tqdm

    if baseline not in data.runs:
        raise AnalyzeError(f"runs/{baseline}.trec: missing; the baseline needs a run file "
                           f"(found: {', '.join(sorted(data.runs))})")
    methods = list(dict.fromkeys(data.per_query["method"]))
    skipped = [m for m in methods if m not in data.runs]
    qids = sorted(set(data.per_query["query_id"]))
    tables = []
    for method in tqdm([m for m in methods if m in data.runs and m != baseline], desc="A/B simulation",
                       disable=None):
        names = (baseline, method)
        tables.append(simulate_ab(data.runs[baseline], data.runs[method], data.qrels, config, qids, names=names))
        tables.append(interleave(data.runs[baseline], data.runs[method], data.qrels, config, qids, names=names))
    notes = [f"no run file for {m!r}: left out of the A/B simulation" for m in skipped]
    if not tables:
        return pd.DataFrame(), notes
    table = pd.concat(tables, ignore_index=True)
    ab = table["kind"] == "ab"
    p_corr, reject = correct(table.loc[ab, "p_value"].to_numpy(), config.alpha, config.correction)
    table.loc[ab, "p_corrected"], table.loc[ab, "significant"] = p_corr, reject
    return table, notes


def analyze(run_dir: Path, baseline: str = "identity", stats_config: StatsConfig | None = None,
            abtest_config: ABTestConfig | None = None, all_pairs: bool = False,
            with_abtest: bool = True, out_dir: Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write stats.csv, abtest.csv and analysis.md into ``out_dir`` (default ``run_dir``: the run's own
    results); returns (stats, abtest) tables.

    A config left as None comes from the run's .hydra/config.yaml section, else the defaults.
    """
    out_dir = out_dir or run_dir
    data = load_run_directory(run_dir, need_runs=with_abtest)
    stats_config = stats_config or stats_config_from(data.hydra.get("stats"))
    abtest_config = abtest_config or abtest_config_from(data.hydra.get("abtest"))
    stats_table = compare(data.per_query, baseline, stats_config, all_pairs=all_pairs)
    ab_table, notes = run_abtests(data, baseline, abtest_config) if with_abtest else (pd.DataFrame(), [])
    atomic_write_text(out_dir / "stats.csv", stats_table.to_csv(index=False))
    atomic_write_text(out_dir / "abtest.csv", ab_table.to_csv(index=False))
    md = ["# Analysis", "", f"Run directory: `{run_dir}`; baseline: `{baseline}`.", "",
          "## Significance", "", significance_markdown(stats_table)]
    if with_abtest:
        md += ["## Simulated online evaluation", "", abtest_markdown(ab_table) if not ab_table.empty
               else "_No method besides the baseline has a run file._\n"]
        md += [f"- {note}" for note in notes]
    atomic_write_text(out_dir / "analysis.md", "\n".join(md).rstrip() + "\n")
    return stats_table, ab_table


def reanalysis_dir(run_dir: Path, baseline: str, all_pairs: bool = False) -> Path:
    """Where ``python -m leser_bench.analyze`` writes: ``<run_dir>/analysis/<baseline>[-all-pairs]/``."""
    name = re.sub(r"[^\w.-]", "_", baseline).strip(".") or "_"
    return run_dir / "analysis" / (f"{name}-all-pairs" if all_pairs else name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leser_bench.analyze", description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path, help="a finished run directory")
    parser.add_argument("--baseline", default="identity", help="method every other is compared with")
    parser.add_argument("--stats-config", help="YAML file with StatsConfig keys (default: the run's stats section)")
    parser.add_argument("--abtest-config", help="YAML file with ABTestConfig keys (default: the run's abtest section)")
    parser.add_argument("--all-pairs", action="store_true", help="test every pair of methods, not only vs the baseline")
    parser.add_argument("--no-abtest", action="store_true", help="skip the A/B simulation and interleaving")
    args = parser.parse_args(argv)
    try:
        stats_cfg = stats_config_from(_config_section(args.stats_config, args.run_dir, "stats"))
        abtest_cfg = abtest_config_from(_config_section(args.abtest_config, args.run_dir, "abtest"))
        out_dir = reanalysis_dir(args.run_dir, args.baseline, args.all_pairs)
        analyze(args.run_dir, args.baseline, stats_cfg, abtest_cfg, args.all_pairs, not args.no_abtest,
                out_dir=out_dir)
    except (ValueError, OSError) as exc:  # every error of ours is a ValueError subclass
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for name in ("stats.csv", "abtest.csv", "analysis.md"):
        print(out_dir / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
