"""Statistics and the A/B simulation on an existing run directory, without recomputing any run.

    python -m leser_bench.analyze <run_dir> [--baseline identity] [--stats-config stats.yaml]
                                  [--abtest-config abtest.yaml] [--all-pairs] [--no-abtest]
                                  [--run NAME=PATH.trec ...]

Reads ``per_query.csv``, ``runs/<method>.trec``, ``qrels.trec`` and (if present)
``.hydra/config.yaml`` — whose ``stats:`` and ``abtest:`` sections are used unless a config file is
given — and writes ``stats.csv``, ``abtest.csv`` and ``analysis.md`` into ``<run_dir>/analysis/<baseline>/``
(``<baseline>-all-pairs`` with ``--all-pairs``): a re-analysis sits beside the run's own results, which
the run's report shows and which are never overwritten. (The pipeline writes the run's own into the run
directory itself.)

``--run NAME=PATH`` scores an external TREC run (another system's, a production log) beside the run's
methods: the same qrels and queries (the run's main table), its measures resolved again from the gains and
relevant grade in ``run_info.json``, each query cut to the run's depth ``retriever.k``, then the same
paired tests, correction and A/B simulation. The file is checked before any work (every line, its query ids
against the run's, some evaluated query answered). The re-analysis goes to ``analysis/<baseline>+NAME/``
with ``per_query.csv`` and ``metrics.csv`` holding the external runs' rows beside the methods'.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from leser_bench.io import trec
from leser_bench.io.runs import read_external_run
from leser_bench.abtest import ABTestConfig, abtest_config_from, interleave, simulate_ab
from leser_bench.stats import StatsConfig, compare, correct, stats_config_from
from leser_bench.stats.chosen import write_pairs
from leser_bench.io.cache import atomic_write_text
from leser_bench.errors import UserError
from leser_bench.stats.render import abtest_markdown, significance_markdown

if TYPE_CHECKING:
    from leser_bench.evaluation.measures import Measure


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
    """The run's composed Hydra config (.hydra/config.yaml); for a run started in-process (no .hydra), the
    resolved config its run_info.json records; else {}."""
    path = run_dir / ".hydra" / "config.yaml"
    if path.is_file():
        loaded = _load_yaml(path)
    else:
        import yaml  # noqa: PLC0415

        try:
            text = json.loads((run_dir / "run_info.json").read_text(encoding="utf-8")).get("config_yaml")
            loaded = yaml.safe_load(text) if isinstance(text, str) else {}
        except (OSError, ValueError, AttributeError, yaml.YAMLError):
            loaded = {}
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


def run_query_ids(run_dir: Path, data: RunDirectory) -> set[str]:
    """Every query id the run knows: its main table's, its judged ones' and every query a method expanded
    (``expansions/<method>.jsonl`` lists the whole split for a method that ran on it, judged or not)."""
    ids = set(data.per_query["query_id"]) | set(data.qrels)
    if (run_dir / "qrels_full.trec").is_file():
        ids |= set(read_qrels(run_dir / "qrels_full.trec"))
    for path in sorted((run_dir / "expansions").glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    ids.add(str(json.loads(line)["query_id"]))
                except (ValueError, KeyError, TypeError):
                    raise AnalyzeError(f"{path}:{number}: not an expansion record with a query_id") from None
    return ids


def _run_info(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "run_info.json"
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AnalyzeError(f"{path}: not readable ({exc}); scoring an external run needs the run's gains") from None
    if not isinstance(info, dict):
        raise AnalyzeError(f"{path}: expected a JSON object")
    return info


def run_measures(run_dir: Path, data: RunDirectory, info: dict[str, Any]) -> list[Measure]:
    """The run's measures (per_query.csv's names, in order) resolved as the run resolved them: against the
    gains, labels and relevant grade its run_info.json records."""
    from leser_bench.data.records import GainMapping  # noqa: PLC0415
    from leser_bench.evaluation.measures import resolve  # noqa: PLC0415 - ir-measures only when needed

    labels, gains, grade = info.get("labels"), info.get("gains"), info.get("relevant_grade")
    if not labels or not gains or grade is None or set(labels) != set(gains):
        raise AnalyzeError(f"{run_dir / 'run_info.json'}: records no gains for the grades {sorted(labels or {})} "
                           "(written before external runs could be scored); run the experiment again to score one")
    mapping = GainMapping(grades={labels[g]: int(g) for g in labels}, gains={labels[g]: float(gains[g]) for g in labels})
    return [resolve(str(name), mapping, int(grade)) for name in dict.fromkeys(data.per_query["measure"])]


def run_depth(run_dir: Path, data: RunDirectory) -> int:
    """The run's ``retriever.k``, the depth to which an external run is cut."""
    k = (data.hydra.get("retriever") or {}).get("k")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise AnalyzeError(f"{run_dir}: neither .hydra/config.yaml nor run_info.json records retriever.k (the "
                           "run's depth, to which an external run is cut)")
    return k


def add_external_runs(run_dir: Path, data: RunDirectory, external: dict[str, Path]) -> RunDirectory:
    """``data`` with each external run's per-query rows and run added; every file is checked first."""
    from leser_bench.evaluation import Evaluator  # noqa: PLC0415

    methods = set(data.per_query["method"])
    for name in external:
        if name in methods:
            raise AnalyzeError(f"--run {name}=…: {name!r} is already a method of this run; give the run another name")
    info = _run_info(run_dir)
    k, measures = run_depth(run_dir, data), run_measures(run_dir, data, info)
    qrels = data.qrels or read_qrels(_required(run_dir / "qrels.trec"))
    evaluated = sorted(set(data.per_query["query_id"]))
    known = run_query_ids(run_dir, RunDirectory(data.per_query, data.runs, qrels, data.hydra))
    try:
        runs = {name: read_external_run(path, evaluated, known, k, name) for name, path in external.items()}
    except UserError as exc:
        raise AnalyzeError(str(exc)) from None
    evaluator = Evaluator({q: qrels[q] for q in evaluated if q in qrels}, measures)
    frames = [data.per_query, *(evaluator.evaluate(run, name, query_ids=evaluated) for name, run in runs.items())]
    return RunDirectory(pd.concat(frames, ignore_index=True), {**data.runs, **runs}, qrels, data.hydra)


def _required(path: Path) -> Path:
    if not path.is_file():
        raise AnalyzeError(f"{path}: missing; is {path.parent} a finished run directory?")
    return path


def analyze(run_dir: Path, baseline: str = "identity", stats_config: StatsConfig | None = None,
            abtest_config: ABTestConfig | None = None, all_pairs: bool = False,
            with_abtest: bool = True, out_dir: Path | None = None,
            external: Mapping[str, Path] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write stats.csv, abtest.csv and analysis.md into ``out_dir`` (default ``run_dir``: the run's own
    results); returns (stats, abtest) tables. ``external`` (name -> TREC run file) scores those runs beside
    the methods, and adds per_query.csv and metrics.csv (every method and external run) to ``out_dir``.

    A config left as None comes from the run's .hydra/config.yaml section, else the defaults.
    """
    out_dir = out_dir or run_dir
    data = load_run_directory(run_dir, need_runs=with_abtest)
    if external:
        if out_dir == run_dir:
            raise AnalyzeError("external runs are scored into a re-analysis directory, never the run's own")
        data = add_external_runs(run_dir, data, dict(external))
    stats_config = stats_config or stats_config_from(data.hydra.get("stats"))
    abtest_config = abtest_config or abtest_config_from(data.hydra.get("abtest"))
    stats_table = compare(data.per_query, baseline, stats_config, all_pairs=all_pairs)
    ab_table, notes = run_abtests(data, baseline, abtest_config) if with_abtest else (pd.DataFrame(), [])
    atomic_write_text(out_dir / "stats.csv", stats_table.to_csv(index=False))
    pairs_table = write_pairs(data.per_query, stats_config, out_dir)
    atomic_write_text(out_dir / "abtest.csv", ab_table.to_csv(index=False))
    md = ["# Analysis", "", f"Run directory: `{run_dir}`; baseline: `{baseline}`.", ""]
    if external:
        from leser_bench.evaluation import aggregate  # noqa: PLC0415

        metrics = aggregate(data.per_query, list(dict.fromkeys(data.per_query["measure"])))
        atomic_write_text(out_dir / "per_query.csv", data.per_query.to_csv(index=False))
        atomic_write_text(out_dir / "metrics.csv", metrics.to_csv())
        md += ["External runs scored beside the run's methods (same qrels, queries and measures, cut to the "
               "run's depth): " + ", ".join(f"`{name}` (`{path}`)" for name, path in external.items()) + ".", ""]
    md += ["## Significance", "", significance_markdown(stats_table)]
    if pairs_table is not None:
        md += ["## Chosen pairs (`stats.pairs`, corrected among themselves)", "", significance_markdown(pairs_table)]
    if with_abtest:
        md += ["## Simulated online evaluation", "", abtest_markdown(ab_table) if not ab_table.empty
               else "_No method besides the baseline has a run file._\n"]
        md += [f"- {note}" for note in notes]
    atomic_write_text(out_dir / "analysis.md", "\n".join(md).rstrip() + "\n")
    return stats_table, ab_table


def reanalysis_dir(run_dir: Path, baseline: str, all_pairs: bool = False, external: Sequence[str] = ()) -> Path:
    """Where ``python -m leser_bench.analyze`` writes: ``<run_dir>/analysis/<baseline>[+<run>…][-all-pairs]/``."""
    name = "+".join(re.sub(r"[^\w.-]", "_", part).strip(".") or "_" for part in (baseline, *external))
    return run_dir / "analysis" / (f"{name}-all-pairs" if all_pairs else name)


def parse_external(values: Sequence[str]) -> dict[str, Path]:
    """``NAME=PATH`` arguments of ``--run``: names usable as method names, unique; files that exist."""
    runs: dict[str, Path] = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not path:
            raise AnalyzeError(f"--run {value!r}: expected NAME=PATH (e.g. --run bm25_prod=runs/prod.trec)")
        if not _RUN_NAME.fullmatch(name):
            raise AnalyzeError(f"--run {value!r}: the name {name!r} must be letters, digits, '_', '-' or '.'")
        if name in runs:
            raise AnalyzeError(f"--run {value!r}: the name {name!r} is given twice")
        if not Path(path).expanduser().is_file():
            raise AnalyzeError(f"--run {value!r}: {path}: no such run file")
        runs[name] = Path(path).expanduser()
    return runs


_RUN_NAME = re.compile(r"[A-Za-z0-9_][\w.-]*")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leser_bench.analyze", description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path, help="a finished run directory")
    parser.add_argument("--baseline", default="identity", help="method every other is compared with")
    parser.add_argument("--stats-config", help="YAML file with StatsConfig keys (default: the run's stats section)")
    parser.add_argument("--abtest-config", help="YAML file with ABTestConfig keys (default: the run's abtest section)")
    parser.add_argument("--all-pairs", action="store_true", help="test every pair of methods, not only vs the baseline")
    parser.add_argument("--no-abtest", action="store_true", help="skip the A/B simulation and interleaving")
    parser.add_argument("--run", action="append", default=[], metavar="NAME=PATH",
                        help="score an external TREC run beside the methods (repeatable)")
    args = parser.parse_args(argv)
    try:
        external = parse_external(args.run)
        stats_cfg = stats_config_from(_config_section(args.stats_config, args.run_dir, "stats"))
        abtest_cfg = abtest_config_from(_config_section(args.abtest_config, args.run_dir, "abtest"))
        out_dir = reanalysis_dir(args.run_dir, args.baseline, args.all_pairs, list(external))
        analyze(args.run_dir, args.baseline, stats_cfg, abtest_cfg, args.all_pairs, not args.no_abtest,
                out_dir=out_dir, external=external)
    except (ValueError, OSError) as exc:  # every error of ours is a ValueError subclass
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for name in ("stats.csv", "abtest.csv", "analysis.md", *(("per_query.csv", "metrics.csv") if external else ())):
        print(out_dir / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
