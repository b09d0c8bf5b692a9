"""Join the parts of a comparison split across jobs into the run directory one process would have written.

    python -m leser_bench.merge <part dir> [<part dir> ...] [--out DIR]
    python -m leser_bench.merge reports/<experiment>/multirun-<time>      # every part of a sweep

A part is a finished run with ``run_only`` set (e.g. ``--multirun run_only=identity,rm3,leser``, one job
per method, on any Hydra launcher). Before anything is written, the parts must agree on everything but
``run_only``: the resolved config, ``qrels.trec`` and the query sets (so every paired test compares
the same queries); each method must come from exactly one part and every configured method must be
there. The merge then puts the parts' per-method files side by side, recomputes ``metrics.csv`` and
the other tables from the per-query values, runs the statistics and the A/B simulation on the joined
directory (:func:`leser_bench.analyze.analyze`, as the pipeline does) and builds both reports.
``metrics.csv``, ``per_query.csv`` and ``stats.csv`` then equal a one-process run's (tested).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from leser_bench.errors import UserError
from leser_bench.io.cache import atomic_write_text

#: per-method files and folders of a run directory, ``{m}`` the method name.
METHOD_FILES = ("runs/{m}.trec", "runs_full/{m}.trec", "expansions/{m}.jsonl", "training/{m}")
#: per-query tables, concatenated in the run's method order.
PER_QUERY = (("per_query.csv", "metrics.csv", True), ("per_query_full.csv", "metrics_full.csv", True),
             ("per_query_expansion.csv", "expansion_metrics.csv", False))
#: files every part must hold identically.
SHARED = ("qrels.trec", "qrels_full.trec", "query_sets.json")


class MergeError(UserError, ValueError):
    """The parts cannot be joined; the message names the directory and the file or key at fault."""


@dataclass(frozen=True)
class Part:
    run_dir: Path
    config: dict[str, Any]
    methods: list[str]
    info: dict[str, Any]


def read_part(run_dir: Path) -> Part:
    info_path = run_dir / "run_info.json"
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MergeError(f"{info_path}: not readable ({exc}); is {run_dir} a finished run?") from None
    if not isinstance(info, dict) or info.get("complete") is not True:
        raise MergeError(f"{info_path}: the run did not finish (no \"complete\": true)")
    config = yaml.safe_load(str(info.get("config_yaml") or "")) or {}
    if config.get("run_only") is None:
        raise MergeError(f"{run_dir}: not a part of a split comparison (run_only is null): nothing to merge")
    try:
        methods = list(dict.fromkeys(pd.read_csv(run_dir / "per_query.csv", usecols=["method"],
                                                 dtype=str)["method"]))
    except (OSError, ValueError) as exc:
        raise MergeError(f"{run_dir / 'per_query.csv'}: not readable ({exc})") from None
    return Part(run_dir, config, methods, info)


def find_parts(paths: Sequence[Path]) -> list[Part]:
    """Each path is a part, or a folder (a multirun sweep) whose sub-folders with run_info.json are."""
    dirs: list[Path] = []
    for path in paths:
        if not path.is_dir():
            raise MergeError(f"{path}: not a directory")
        if (path / "run_info.json").is_file():
            dirs.append(path)
        else:
            found = sorted((p.parent for p in path.glob("*/run_info.json") if not _is_merged(p)),
                           key=lambda p: (len(p.name), p.name))
            if not found:
                raise MergeError(f"{path}: neither a run directory nor a folder of run directories")
            dirs += found
    return [read_part(d) for d in dirs]


def comparisons(sweep_dir: Path) -> list[list[Part]]:
    """The parts of a sweep folder grouped by comparison (equal configs but for ``run_only``), in order."""
    groups: dict[str, list[Part]] = {}
    for part in find_parts([sweep_dir]):
        key = json.dumps({k: v for k, v in part.config.items() if k != "run_only"}, sort_keys=True, default=str)
        groups.setdefault(key, []).append(part)
    return list(groups.values())


def _is_merged(info_path: Path) -> bool:
    """A joined directory left in a sweep folder by an earlier merge (not a part)."""
    try:
        return "merged_from" in json.loads(info_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


def _first_difference(a: Any, b: Any, where: str = "") -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            found = _first_difference(a.get(key), b.get(key), f"{where}.{key}" if where else str(key))
            if found:
                return found
        return None
    return None if a == b else where or "(root)"


def check_parts(parts: list[Part]) -> list[str]:
    """Everything checked before a file is written; returns the run's method order."""
    if len(parts) < 2:
        raise MergeError(f"{len(parts)} part given: a merge joins at least two")
    first = parts[0]
    base = {k: v for k, v in first.config.items() if k != "run_only"}
    for part in parts[1:]:
        other = {k: v for k, v in part.config.items() if k != "run_only"}
        key = _first_difference(base, other)
        if key is not None:
            raise MergeError(f"{part.run_dir} and {first.run_dir} differ in `{key}` (besides run_only): "
                             "only parts of one comparison can be merged")
        for name in SHARED:
            mine, theirs = first.run_dir / name, part.run_dir / name
            if mine.is_file() != theirs.is_file() or (mine.is_file() and mine.read_bytes() != theirs.read_bytes()):
                raise MergeError(f"{theirs} differs from {mine}: the parts evaluated different queries or judgments")
    seen: dict[str, Path] = {}
    for part in parts:
        for method in part.methods:
            if method in seen:
                raise MergeError(f"method {method!r} is in two parts: {seen[method]} and {part.run_dir}")
            seen[method] = part.run_dir
    planned = json.loads((first.run_dir / "query_sets.json").read_text(encoding="utf-8"))["main"]["methods"]
    missing = [m for m in planned if m not in seen]
    if missing:
        raise MergeError(f"no part ran {missing} (the comparison has {planned}); run them with run_only=...")
    return [m for m in planned if m in seen]


def merge(parts: list[Part], out_dir: Path) -> Path:
    """Write the joined run directory; returns it."""
    order = check_parts(parts)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise MergeError(f"{out_dir}: exists and is not empty; give a new --out")
    owner = {m: p for p in parts for m in p.methods}
    out_dir.mkdir(parents=True, exist_ok=True)
    first = parts[0]
    for name in SHARED:
        if (first.run_dir / name).is_file():
            shutil.copyfile(first.run_dir / name, out_dir / name)
    for method in order:
        for pattern in METHOD_FILES:
            source = owner[method].run_dir / pattern.format(m=method)
            target = out_dir / pattern.format(m=method)
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target)
            elif source.is_file():
                shutil.copyfile(source, target)
    _join_tables(parts, order, out_dir)
    _join_shown_products(parts, out_dir)
    config = {**first.config, "run_only": None}
    _write_hydra(first.run_dir, out_dir, config)
    _finish(parts, order, out_dir, config)
    return out_dir


def _join_tables(parts: list[Part], order: list[str], out_dir: Path) -> None:
    from leser_bench.evaluation import aggregate  # noqa: PLC0415

    measure_order = list(pd.read_csv(parts[0].run_dir / "metrics.csv", index_col=0, nrows=0).columns)
    for table, board, ordered in PER_QUERY:
        frames = [pd.read_csv(p.run_dir / table, dtype={"method": str, "query_id": str, "measure": str})
                  for p in parts if (p.run_dir / table).is_file()]
        if not frames:
            continue
        joined = pd.concat(frames, ignore_index=True)
        rank = {m: i for i, m in enumerate(order)}
        joined = joined.iloc[joined["method"].map(rank).argsort(kind="stable")].reset_index(drop=True)
        atomic_write_text(out_dir / table, joined.to_csv(index=False))
        atomic_write_text(out_dir / board, aggregate(joined, measure_order if ordered else None).to_csv())


def _join_shown_products(parts: list[Part], out_dir: Path) -> None:
    from leser_bench.report.inputs import PRODUCTS_FILE  # noqa: PLC0415

    lines = {line for p in parts if (p.run_dir / PRODUCTS_FILE).is_file()
             for line in (p.run_dir / PRODUCTS_FILE).read_text(encoding="utf-8").splitlines() if line}
    atomic_write_text(out_dir / PRODUCTS_FILE, "\n".join(sorted(lines)) + "\n")


def _write_hydra(source: Path, out_dir: Path, config: dict[str, Any]) -> None:
    """``.hydra/``: the first part's, with ``run_only`` null and its override dropped."""
    hydra_dir = out_dir / ".hydra"
    hydra_dir.mkdir(parents=True, exist_ok=True)
    composed = yaml.safe_load((source / ".hydra" / "config.yaml").read_text(encoding="utf-8")) \
        if (source / ".hydra" / "config.yaml").is_file() else dict(config)
    composed["run_only"] = None
    atomic_write_text(hydra_dir / "config.yaml", yaml.safe_dump(composed, sort_keys=False))
    overrides_path = source / ".hydra" / "overrides.yaml"
    overrides = yaml.safe_load(overrides_path.read_text(encoding="utf-8")) if overrides_path.is_file() else []
    kept = [o for o in overrides or [] if not str(o).lstrip("+~").startswith("run_only=")]
    atomic_write_text(hydra_dir / "overrides.yaml", yaml.safe_dump(kept))


def _finish(parts: list[Part], order: list[str], out_dir: Path, config: dict[str, Any]) -> None:
    """Statistics, A/B simulation and reports on the joined directory, run_info.json marked complete last."""
    from leser_bench.abtest import abtest_config_from  # noqa: PLC0415
    from leser_bench.analyze import analyze  # noqa: PLC0415
    from leser_bench.pipeline.planning import too_few_for_tests  # noqa: PLC0415
    from leser_bench.pipeline.run import PART_NOTE  # noqa: PLC0415
    from leser_bench.report.build import build_reports  # noqa: PLC0415
    from leser_bench.stats import stats_config_from  # noqa: PLC0415

    info = dict(parts[0].info)
    notes = [n for n in info.get("measure_notes", []) if n != PART_NOTE]
    n_judged = len(json.loads((out_dir / "query_sets.json").read_text(encoding="utf-8"))["main"]["query_ids"])
    no_tests = too_few_for_tests(n_judged, len(order))
    if no_tests is None:
        analyze(out_dir, str(config.get("baseline", "identity")), stats_config_from(config.get("stats")),
                abtest_config_from(config.get("abtest")))
    else:
        notes.append(no_tests)
    seconds: dict[str, float] = {}
    peaks: dict[str, float] = {}
    for part in parts:  # a stage every part ran (load, index): the longest
        for stage, value in (part.info.get("stage_seconds") or {}).items():
            seconds[stage] = max(seconds.get(stage, 0.0), float(value))
        for stage, value in (part.info.get("stage_peak_rss_mb") or {}).items():
            peaks[stage] = max(peaks.get(stage, 0.0), float(value))
    info.update(measure_notes=notes + [f"Merged from {len(parts)} parts: "
                                       + ", ".join(f"`{p.run_dir}` ({', '.join(p.methods)})" for p in parts)],
                stage_seconds=seconds, stage_peak_rss_mb=peaks, complete=False,
                config_yaml=yaml.safe_dump(config, sort_keys=False),
                created=datetime.now().astimezone().isoformat(timespec="seconds"),
                merged_from=[str(p.run_dir) for p in parts])
    atomic_write_text(out_dir / "run_info.json", json.dumps(info, indent=1, ensure_ascii=False) + "\n")
    build_reports(out_dir)
    info["complete"] = True
    atomic_write_text(out_dir / "run_info.json", json.dumps(info, indent=1, ensure_ascii=False) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leser_bench.merge", description=__doc__.split("\n\n")[0])
    parser.add_argument("parts", nargs="+", type=Path, help="part run directories, or a multirun folder")
    parser.add_argument("--out", type=Path, default=None,
                        help="the joined run directory (default: <parent of the first part>/merged)")
    args = parser.parse_args(argv)
    try:
        parts = find_parts(args.parts)
        out = args.out or (parts[0].run_dir.parent / "merged" if parts else Path("merged"))
        merged = merge(parts, out)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"merged {len(parts)} parts into {merged}")
    for name in ("report.md", "report.html"):
        print(f"report: {merged / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
