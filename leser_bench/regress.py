"""Regression checks: expected results as data, compared with a run (Anserini's rule).

    python -m leser_bench.regress regressions/regression.yaml [--run-dir DIR] [--write-expected] [OVERRIDE ...]

The YAML names the experiment, optional Hydra overrides, a default tolerance and the checks::

    experiment: regression
    overrides: []
    tolerance: 0.005
    checks:
      - {method: rm3, measure: R@100, expected: 0.8606}
      - {method: rm3, measure: Violated, expected: 0.0, direction: lower, tolerance: 0.0}

A ``--run-dir`` must be a finished run (its ``run_info.json`` says ``"complete": true``, written
last by the pipeline); a crashed or partial one is refused (exit 2). Without ``--run-dir`` the experiment is run through the normal pipeline (with any extra
OVERRIDEs) into ``reports/<experiment>/regress-<time>/`` under the working directory (as a run's own
directory; ``--out-dir`` chooses another). A value within ``tolerance`` of the
expected one passes; a better one passes and is reported (refresh the expected values if the
change was intended); a worse one fails. Exit status: 0 pass, 1 a check failed, 2 bad input.
``--write-expected`` stores the run's values as the new expected ones (all measures of all
methods when the file has no checks yet).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from leser_bench.io.cache import atomic_write_text
from leser_bench.config import CONF_DIR, check_keys

#: higher/lower: Anserini's one-sided rule; both: any move beyond the tolerance fails (for values that
#: guard code rather than rank methods -- a rule checker that stops finding violations must not pass
#: as "better").
DIRECTIONS = ("higher", "lower", "both")


class RegressionSpecError(ValueError):
    """The regression YAML is malformed (the message names the file and the check)."""


@dataclass(frozen=True)
class Check:
    method: str
    measure: str
    expected: float
    tolerance: float
    direction: str = "higher"


@dataclass(frozen=True)
class RegressionSpec:
    path: Path
    experiment: str
    overrides: list[str] = field(default_factory=list)
    tolerance: float = 0.005
    checks: list[Check] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    check: Check
    actual: float
    #: "pass" (within tolerance), "better" (passes, reported) or "FAIL".
    status: str

    @property
    def delta(self) -> float:
        d = self.actual - self.check.expected
        return 0.0 if abs(d) < 5e-7 else d  # no "-0.0000" for float noise


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise RegressionSpecError(f"{where}: expected a finite number, got {value!r}")
    return float(value)


def load_spec(path: Path) -> RegressionSpec:
    if not path.is_file():
        raise RegressionSpecError(f"{path}: regression file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RegressionSpecError(f"{path}: not readable YAML ({exc})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("experiment"), str):
        raise RegressionSpecError(f"{path}: expected a mapping with 'experiment: <name>' "
                                  "(a leser_bench/conf/experiment/ file)")
    check_keys(raw, ("experiment", "overrides", "tolerance", "checks"), str(path), error=RegressionSpecError)
    overrides = raw.get("overrides") or []
    if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
        raise RegressionSpecError(f"{path}: overrides must be a list of Hydra override strings")
    default_tol = _number(raw.get("tolerance", 0.005), f"{path}: tolerance")
    checks = []
    for i, item in enumerate(raw.get("checks") or []):
        where = f"{path}: checks[{i}]"
        if not isinstance(item, dict) or not {"method", "measure", "expected"} <= set(item):
            raise RegressionSpecError(f"{where}: needs method, measure and expected (got {item!r})")
        check_keys(item, ("method", "measure", "expected", "tolerance", "direction"), where, error=RegressionSpecError)
        direction = item.get("direction", "higher")
        if direction not in DIRECTIONS:
            raise RegressionSpecError(f"{where}: direction {direction!r} is not one of {DIRECTIONS}")
        tolerance = _number(item.get("tolerance", default_tol), f"{where}.tolerance")
        if tolerance < 0:
            raise RegressionSpecError(f"{where}.tolerance: must be >= 0, got {tolerance}")
        checks.append(Check(str(item["method"]), str(item["measure"]), _number(item["expected"], f"{where}.expected"),
                            tolerance, direction))
    return RegressionSpec(path, raw["experiment"], list(overrides), default_tol, checks)


#: checkable training values: measure name -> column of training/<method>/curves.csv, averaged over
#: the logged steps. A broken reward or trainer moves them even when a few steps barely move the ranking.
TRAINING_MEASURES = {"train:reward": "reward", "train:relevance": "rewards/relevance/mean",
                     "train:compliance": "rewards/compliance/mean"}


def training_values(run_dir: Path) -> pd.DataFrame | None:
    """methods x training measures from every ``training/<method>/curves.csv`` of the run."""
    rows = {}
    for path in sorted((run_dir / "training").glob("*/curves.csv")):
        curves = pd.read_csv(path)
        rows[path.parent.name] = {m: float(curves[c].mean()) for m, c in TRAINING_MEASURES.items()
                                  if c in curves.columns}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("method") if rows else None


def run_values(run_dir: Path) -> pd.DataFrame:
    """methods x measures of a run: metrics.csv joined with expansion_metrics.csv and training values."""
    frames = []
    for name in ("metrics.csv", "expansion_metrics.csv"):
        path = run_dir / name
        if path.is_file():
            frame = pd.read_csv(path)
            if "method" not in frame.columns:
                raise RegressionSpecError(f"{path}: no `method` column (columns: {list(frame.columns)}); "
                                          "is it a leser_bench metrics file?")
            frames.append(frame.astype({"method": str}).set_index("method"))
        elif name == "metrics.csv":
            raise RegressionSpecError(f"{path}: missing; is {run_dir} a finished run directory?")
    training = training_values(run_dir)
    if training is not None:
        frames.append(training)
    return pd.concat(frames, axis=1)


def judge(check: Check, actual: float) -> Outcome:
    """Anserini's rule: within tolerance passes, better passes (reported), worse fails."""
    gain = (actual - check.expected) * (1 if check.direction == "higher" else -1)
    if abs(actual - check.expected) <= check.tolerance + 1e-12:
        return Outcome(check, actual, "pass")
    if check.direction == "both":
        return Outcome(check, actual, "FAIL")
    return Outcome(check, actual, "better" if gain > 0 else "FAIL")


def compare(spec: RegressionSpec, values: pd.DataFrame) -> list[Outcome]:
    """One outcome per check; a method or measure the run lacks is a failure ("missing")."""
    outcomes = []
    for check in spec.checks:
        present = check.method in values.index and check.measure in values.columns
        actual = float(values.at[check.method, check.measure]) if present else math.nan
        outcomes.append(judge(check, actual) if math.isfinite(actual) else Outcome(check, actual, "FAIL"))
    return outcomes


def table(outcomes: Sequence[Outcome]) -> str:
    header = ("method", "measure", "expected", "actual", "delta", "tolerance", "direction", "result")
    rows = [(o.check.method, o.check.measure, f"{o.check.expected:.4f}", f"{o.actual:.4f}",
             f"{o.delta:+.4f}" if math.isfinite(o.delta) else "—", f"{o.check.tolerance:g}", o.check.direction,
             o.status if math.isfinite(o.actual) else "FAIL (missing)") for o in outcomes]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(tuple("-" * w for w in widths)), *(line(r) for r in rows)])


def messages(outcomes: Sequence[Outcome]) -> list[str]:
    out = []
    for o in outcomes:
        c = o.check
        actual = f"actual {o.actual:.4f} (delta {o.delta:+.4f})" if math.isfinite(o.actual) else "missing from the run"
        how = "must not move" if c.direction == "both" else f"{c.direction} is better"
        what = f"{c.method} {c.measure}: expected {c.expected:.4f} ± {c.tolerance:g} ({how}), {actual}"
        if o.status == "FAIL":
            out.append(f"REGRESSION {what}")
        elif o.status == "better":
            out.append(f"NOTE better than expected: {what}; if intended, refresh with --write-expected")
    return out


def run_experiment_for(spec: RegressionSpec, extra: Sequence[str], out_dir: Path | None) -> Path:
    """Run the spec's experiment through the normal pipeline; returns the run directory."""
    from hydra import compose, initialize_config_dir  # noqa: PLC0415
    from hydra.errors import HydraException  # noqa: PLC0415

    from leser_bench.pipeline import run_experiment  # noqa: PLC0415

    overrides = [f"+experiment={spec.experiment}", *spec.overrides, *extra]
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose(config_name="config", overrides=overrides)
    except HydraException as exc:  # a bad extra override: Hydra's message, in one line
        message = " ".join(str(exc).split())
        raise RegressionSpecError(f"overrides {list(extra)}: {message}") from None
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    out_dir = out_dir or Path("reports") / str(cfg.experiment_name) / f"regress-{stamp}"  # as Hydra's runs: cwd
    print(f"running +experiment={spec.experiment} {' '.join(overrides[1:])} -> {out_dir}", flush=True)
    run_experiment(cfg, out_dir)
    return out_dir


def write_expected(spec: RegressionSpec, values: pd.DataFrame, run_dir: Path) -> int:
    """Store the run's values as the expected ones; returns how many checks were written."""
    checks = spec.checks or [Check(str(m), str(s), 0.0, spec.tolerance) for m in values.index
                             for s in pd.read_csv(run_dir / "metrics.csv").columns if s != "method"]
    rows = []
    for c in checks:
        if c.method not in values.index or c.measure not in values.columns:
            raise RegressionSpecError(f"{spec.path}: {c.method} {c.measure} is not in the run {run_dir} "
                                      f"(methods: {', '.join(values.index)}; measures: {', '.join(values.columns)})")
        row: dict[str, Any] = {"method": c.method, "measure": c.measure,
                               "expected": round(float(values.at[c.method, c.measure]), 6)}
        if c.tolerance != spec.tolerance:
            row["tolerance"] = c.tolerance
        if c.direction != "higher":
            row["direction"] = c.direction
        rows.append(row)
    header = (f"# Expected results of `python -m leser_bench +experiment={spec.experiment}`, checked by\n"
              f"#   python -m leser_bench.regress {spec.path}\n"
              f"# Refreshed from {run_dir} on {datetime.now():%Y-%m-%d %H:%M}. After an intended change, refresh with\n"
              f"#   python -m leser_bench.regress {spec.path} --write-expected\n"
              f"# Rule (Anserini): |actual - expected| <= tolerance passes; better passes and is reported; worse fails.\n")
    body = {"experiment": spec.experiment, "overrides": spec.overrides, "tolerance": spec.tolerance}
    text = yaml.safe_dump(body, sort_keys=False) + "checks:\n"
    text += "".join("  - " + yaml.safe_dump(r, default_flow_style=True, sort_keys=False, width=200) for r in rows)
    atomic_write_text(spec.path, header + text)
    return len(rows)


def require_complete(run_dir: Path) -> None:
    """A ``--run-dir`` must be a run the pipeline finished: its run_info.json is written complete last."""
    from leser_bench.report.runinfo import FILE, run_complete  # noqa: PLC0415

    if not run_complete(run_dir):
        raise RegressionSpecError(f"{run_dir} is not a finished run: {FILE} does not say \"complete\": true "
                                  "(the run crashed, was stopped, or predates the marker); rerun it")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leser_bench.regress", description=__doc__.split("\n\n")[0],
                                     epilog="Exit status: 0 pass, 1 regression, 2 bad input.")
    parser.add_argument("spec", type=Path, help="regressions/<experiment>.yaml")
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides for the run (not with --run-dir)")
    parser.add_argument("--run-dir", type=Path, help="compare this finished run instead of running the experiment")
    parser.add_argument("--out-dir", type=Path, help="where the run goes (default reports/<exp>/regress-<time>)")
    parser.add_argument("--write-expected", action="store_true", help="store the run's values as expected")
    args = parser.parse_intermixed_args(argv)  # overrides may follow options
    try:
        spec = load_spec(args.spec)
        if args.run_dir and args.overrides:
            raise RegressionSpecError("overrides apply to a new run; they cannot change an existing --run-dir")
        run_dir = args.run_dir or run_experiment_for(spec, args.overrides, args.out_dir)
        values = run_values(run_dir)
        if args.run_dir:
            require_complete(args.run_dir)
        if args.write_expected:
            print(f"wrote {write_expected(spec, values, run_dir)} expected values to {spec.path} from {run_dir}")
            return 0
        if not spec.checks:
            raise RegressionSpecError(f"{spec.path}: no checks; create them with --write-expected")
        outcomes = compare(spec, values)
    except (ValueError, OSError) as exc:  # ours are ValueError subclasses naming the file or key
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"regression {spec.path} on {run_dir}")
    print(table(outcomes))
    for message in messages(outcomes):
        print(message)
    failed = sum(o.status == "FAIL" for o in outcomes)
    better = sum(o.status == "better" for o in outcomes)
    print(f"{len(outcomes) - failed}/{len(outcomes)} checks pass ({better} better than expected); "
          f"{failed} regression{'s' if failed != 1 else ''}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
