"""What a Hydra multirun ends with (a Hydra callback, ``hydra.callbacks.sweep_end`` in conf/config.yaml).

When every job of the sweep was a part of a split comparison (``run_only``), the parts are merged into
``<sweep dir>/merged`` (:mod:`leser_bench.merge`; one ``merged-<n>`` per comparison when the sweep varied
more than ``run_only``, e.g. seeds, then the leaderboard over them); otherwise the runs get the cross-run leaderboard with
paired tests across runs (:mod:`leser_bench.report.leaderboard`) in the sweep directory. The jobs have
finished by then: a failure here is logged with the command that redoes it, never raised.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

log = logging.getLogger(__name__)


def sweep_parts(sweep_dir: Path) -> tuple[list[Path], bool]:
    """The finished job directories of a sweep, and whether every one is a part (``run_only`` set)."""
    import yaml  # noqa: PLC0415

    runs, parts = [], []
    for info_path in sorted(sweep_dir.glob("*/run_info.json")):
        try:
            info = json.loads(info_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if "merged_from" in info:
            continue
        runs.append(info_path.parent)
        parts.append((yaml.safe_load(str(info.get("config_yaml") or "")) or {}).get("run_only") is not None)
    return runs, bool(runs) and all(parts)


def finish_sweep(sweep_dir: Path) -> Path | None:
    """Merge the parts, or write the leaderboard; returns what was written (None: nothing to do)."""
    from leser_bench.errors import UserError  # noqa: PLC0415

    runs, all_parts = sweep_parts(sweep_dir)
    if not runs:
        return None
    try:
        if all_parts:
            return _merge_comparisons(sweep_dir)
        from leser_bench.report.leaderboard import write_leaderboard  # noqa: PLC0415

        html, _ = write_leaderboard([sweep_dir], sweep_dir)
        log.info("cross-run leaderboard: %s", html)
        return html
    except (UserError, ValueError, OSError) as exc:
        redo = "python -m leser_bench.merge" if all_parts else "python -m leser_bench.report.leaderboard"
        log.warning("the sweep's %s failed: %s (redo it with `%s %s`)",
                    "merge" if all_parts else "leaderboard", exc, redo, sweep_dir)
        return None


def _merge_comparisons(sweep_dir: Path) -> Path:
    """Merge the parts of each comparison of the sweep: one (``merged/``), or several when the sweep also
    varied something else, e.g. ``seed=1,2`` (``merged-1/``, ``merged-2/`` …, then the cross-run
    leaderboard over them, with paired tests across the comparisons)."""
    from leser_bench.merge import comparisons, merge  # noqa: PLC0415
    from leser_bench.report.leaderboard import write_leaderboard  # noqa: PLC0415

    groups = comparisons(sweep_dir)
    if len(groups) == 1:
        merged = merge(groups[0], sweep_dir / "merged")
        log.info("merged %d parts into %s", len(groups[0]), merged)
        return merged
    outs = [merge(parts, sweep_dir / f"merged-{n}") for n, parts in enumerate(groups, start=1)]
    log.info("merged %d comparisons: %s", len(outs), ", ".join(str(o) for o in outs))
    html, _ = write_leaderboard(outs, sweep_dir)
    return html


class SweepEnd(Callback):
    """Hydra callback: :func:`finish_sweep` on the sweep directory once every job has returned."""

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        finish_sweep(Path(str(config.hydra.sweep.dir)))
