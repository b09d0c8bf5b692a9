"""Run every benchmark and print each figure with its target: ``python benchmarks/run.py``.

Each benchmark is its own script (and can be run alone); this one runs them in turn, in separate
processes so that one JVM or torch setting does not leak into the next, then runs the default
experiment (the whole comparison) end to end and prints its wall time and peak memory per stage
against its budget. ``--only esci`` runs ``+experiment=amazon_esci`` on the full-size ESCI stand-in
(about an hour). Results: benchmarks/results/*.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SCRIPTS = {
    "retrieval overhead and scaling": ["bench_retrieval.py", "--sizes", "5000", "50000", "500000"],
    "evaluation + statistics (10k queries x 10 methods)": ["bench_eval.py"],
    "statistics alone": ["bench_stats.py"],
    "search-feedback reward in a GRPO step": ["bench_reward.py"],
}


def run_script(title: str, argv: list[str]) -> None:
    print(f"\n== {title} ==", flush=True)
    if not (HERE / argv[0]).exists():
        print(f"(not available: benchmarks/{argv[0]} is missing)")
        return
    subprocess.run([sys.executable, str(HERE / argv[0]), *argv[1:]], cwd=REPO, check=False)


@dataclass(frozen=True)
class Budget:
    """One end-to-end run with its targets: wall time (cold caches) and peak resident memory."""

    title: str
    overrides: tuple[str, ...]
    max_seconds: float
    max_rss_gb: float | None = None
    #: results/<name>.json
    name: str = "end_to_end"


#: the budgets issue 12 states; `--esci-dir` points the ESCI one at real files or a stand-in.
BUDGETS = {
    "default": Budget("the default full comparison (all ten methods, budget=cpu, SFT + GRPO trained), cold caches",
                      (), 20 * 60, None, "end_to_end"),
    "esci": Budget("+experiment=amazon_esci on the full-size ESCI stand-in, budget=cpu, cold caches",
                   ("+experiment=amazon_esci",), 90 * 60, 8.0, "esci_full"),
}


def end_to_end(budget: Budget, extra: list[str]) -> None:
    print(f"\n== end to end: {budget.title} ==", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "leser_bench", *budget.overrides, f"cache_dir={tmp}/cache",
                               f"hydra.run.dir={run_dir}", *extra], cwd=REPO, capture_output=True, text=True)
        wall = time.perf_counter() - start
        peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2  # KiB -> GiB, largest child
        if proc.returncode != 0:
            print(f"failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
            return
        info = json.loads((run_dir / "run_info.json").read_text())
        stages, rss = info.get("stage_seconds", {}), info.get("stage_peak_rss_mb", {})
        print(f"  {'stage':<52} {'seconds':>9} {'peak RSS MB':>12}")
        for stage, seconds in stages.items():
            print(f"  {stage:<52} {seconds:9.1f} {rss.get(stage, float('nan')):12.0f}")
        print(f"  {'total wall time (incl. start-up)':<52} {wall:9.1f} s; target <= {budget.max_seconds:.0f} s: "
              f"{'met' if wall <= budget.max_seconds else 'NOT met'}")
        memory = "" if budget.max_rss_gb is None else (
            f"; target <= {budget.max_rss_gb:g} GB: {'met' if peak_gb <= budget.max_rss_gb else 'NOT met'}")
        print(f"  {'peak resident memory':<52} {peak_gb:9.2f} GB{memory}")
        print(f"  load average now: {os.getloadavg()[0]:.1f} (an idle 2-core machine reads < 0.5 before the run)")
        out = HERE / "results" / f"{budget.name}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps({"overrides": [*budget.overrides, *extra], "wall_seconds": wall,
                                   "peak_rss_gb": peak_gb, "stages": stages, "stage_peak_rss_mb": rss,
                                   "metrics": (run_dir / "metrics.csv").read_text()}, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="titles (substrings) of the benchmarks to run; "
                        "'end' = the default full comparison, 'esci' = the full-size ESCI stand-in")
    parser.add_argument("--e2e-overrides", nargs="*", default=[], help="Hydra overrides for the end-to-end runs")
    parser.add_argument("--esci-dir", type=Path, default=None,
                        help="ESCI files for the 'esci' budget (default: a full-size stand-in written to "
                             "benchmarks/results/esci_standin by python -m leser_bench.data.esci_standin)")
    args = parser.parse_args()
    for title, argv in SCRIPTS.items():
        if not args.only or any(o in title for o in args.only):
            run_script(title, argv)
    if not args.only or any("end" in o for o in args.only):
        end_to_end(BUDGETS["default"], args.e2e_overrides)
    if args.only and any("esci" in o for o in args.only):  # 90 minutes: only when asked for
        esci_dir = args.esci_dir or ensure_standin(HERE / "results" / "esci_standin")
        end_to_end(BUDGETS["esci"], [f"dataset.cache_dir={esci_dir}", "dataset.download=false", *args.e2e_overrides])


def ensure_standin(directory: Path) -> Path:
    """The full-size stand-in at the published US small sizes (written once, ~2 minutes)."""
    if not (directory / "esci_standin.json").is_file():
        subprocess.run([sys.executable, "-m", "leser_bench.data.esci_standin", "--out", str(directory)],
                       cwd=REPO, check=True)
    return directory


if __name__ == "__main__":
    main()
