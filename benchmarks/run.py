"""Run every benchmark and print each figure with its target: ``python benchmarks/run.py``.

Each benchmark is its own script (and can be run alone); this one runs them in turn, in separate
processes so that one JVM or torch setting does not leak into the next, then runs the default
experiment end to end and prints its wall time per stage. Results: benchmarks/results/*.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
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


def end_to_end(overrides: list[str]) -> None:
    print("\n== end to end: the default experiment, cold caches ==", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "leser_bench", f"cache_dir={tmp}/cache",
                               f"hydra.run.dir={run_dir}", *overrides], cwd=REPO, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            print(f"failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
            return
        info = json.loads((run_dir / "run_info.json").read_text())
        stages = info.get("stage_seconds", {})
        for stage, seconds in stages.items():
            print(f"  {stage:<45} {seconds:8.1f} s")
        print(f"  {'total wall time (incl. start-up)':<45} {wall:8.1f} s; target < 600 s: "
              f"{'met' if wall < 600 else 'NOT met'}")
        out = HERE / "results" / "end_to_end.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps({"overrides": overrides, "wall_seconds": wall, "stages": stages}, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="titles (substrings) of the benchmarks to run")
    parser.add_argument("--e2e-overrides", nargs="*", default=[], help="Hydra overrides for the end-to-end run")
    args = parser.parse_args()
    for title, argv in SCRIPTS.items():
        if not args.only or any(o in title for o in args.only):
            run_script(title, argv)
    if not args.only or any("end" in o for o in args.only):
        end_to_end(args.e2e_overrides)


if __name__ == "__main__":
    main()
