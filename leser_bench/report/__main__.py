"""``python -m leser_bench.report <run_dir> [--training-csv FILE]``: rebuild report.html and report.md.

Works on any finished run directory, including ones written before report.html existed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    from leser_bench.report.build import build_reports  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="python -m leser_bench.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dirs", nargs="+", type=Path, help="finished run directories")
    parser.add_argument("--training-csv", type=Path, default=None,
                        help="per-step training log (columns: step, reward, rewards/* or reward_*, kl, …); "
                             "default: training/curves.csv or curves.csv in the run directory")
    args = parser.parse_args(argv)
    for run_dir in args.run_dirs:
        try:
            html, md = build_reports(run_dir, args.training_csv)
        except (ValueError, OSError) as exc:  # our errors are ValueError subclasses naming the file
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(html)
        print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
