"""Training curves: a TRL/transformers callback that records every logged step, step times, CSV and PNG.

Rows are what the trainer logs (``reward``, ``rewards/<component>/mean``, ``kl``,
``completions/mean_length``, ``loss`` …) plus what the search reward logs through ``log_metric``
(``violation_rate``, ``fallback_rate``, ``reward_seconds``) and the wall time of each optimizer
step (``step_seconds``, measured here between ``on_step_begin`` and ``on_step_end``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from leser_bench.io.cache import atomic_write_text

#: the panels of the PNG: (title, columns); columns missing from a run are skipped.
PANELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("reward (weighted sum)", ("reward",)),
    ("reward components (unweighted means)", ("rewards/relevance/mean", "rewards/coverage/mean",
                                              "rewards/compliance/mean", "rewards/format/mean")),
    ("KL to the reference", ("kl",)),
    ("completion length (tokens)", ("completions/mean_length",)),
    ("violation / fallback rate", ("violation_rate", "fallback_rate")),
    ("training loss", ("loss",)),
    ("validation (train.validation, held-out queries)", ("valid/R@100", "valid/nDCG@10")),
    ("validation violation / fallback rate", ("valid/violation_rate", "valid/fallback_rate")),
)


def _callback_base() -> type:
    from transformers import TrainerCallback  # noqa: PLC0415 - keeps this module import-light

    return TrainerCallback


class CurveRecorder:
    """Collects per-step logs; ``callback()`` returns the transformers callback feeding it."""

    def __init__(self) -> None:
        self.rows: list[dict[str, float]] = []
        self.step_seconds: dict[int, float] = {}
        self._step_started: float | None = None

    def callback(self) -> Any:
        recorder = self

        class _Callback(_callback_base()):  # type: ignore[misc]
            def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
                recorder._step_started = time.perf_counter()

            def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
                if recorder._step_started is not None:
                    recorder.step_seconds[int(state.global_step)] = time.perf_counter() - recorder._step_started
                    recorder._step_started = None

            def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kwargs: Any) -> None:
                recorder.add(int(state.global_step), logs or {})

        return _Callback()

    def add(self, step: int, logs: dict[str, Any]) -> None:
        row: dict[str, float] = {"step": float(step)}
        for key, value in logs.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                row[key] = float(value)
        if len(row) > 1:
            self.rows.append(row)

    def frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.rows)
        if frame.empty:
            return frame
        # the final summary log (train_runtime, …) has its own columns; keep per-step rows only
        frame = frame[frame.get("train_runtime", pd.Series(index=frame.index, dtype=float)).isna()]
        frame = frame.drop(columns=[c for c in frame.columns if frame[c].isna().all()])
        frame = frame.groupby("step", as_index=False).last()
        frame["step_seconds"] = frame["step"].map(lambda s: self.step_seconds.get(int(s), math.nan))
        return frame

    def summary(self) -> dict[str, float]:
        """Step time, reward time and the reward's share of a step, over the recorded steps."""
        frame = self.frame()
        if frame.empty:
            return {}
        out = {"steps": float(len(frame)), "step_seconds_mean": float(frame["step_seconds"].mean())}
        if "reward_seconds" in frame:
            reward = float(frame["reward_seconds"].sum())
            total = float(frame["step_seconds"].sum())
            out.update(reward_seconds_mean=float(frame["reward_seconds"].mean()),
                       reward_share=reward / total if total else math.nan)
        return out

    def save(self, directory: Path, title: str = "training") -> tuple[Path, Path | None]:
        """Write ``curves.csv`` and (when there is anything to plot) ``curves.png``."""
        directory.mkdir(parents=True, exist_ok=True)
        frame = self.frame()
        csv_path = directory / "curves.csv"
        atomic_write_text(csv_path, frame.to_csv(index=False))
        png = plot_curves(frame, directory / "curves.png", title) if not frame.empty else None
        return csv_path, png


def plot_curves(frame: pd.DataFrame, path: Path, title: str, panels: Sequence = PANELS) -> Path | None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    shown = [(name, [c for c in cols if c in frame]) for name, cols in panels]
    shown = [(name, cols) for name, cols in shown if cols]
    if not shown:
        return None
    columns = 2
    rows = math.ceil(len(shown) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(11, 3.2 * rows), squeeze=False)
    for ax, (name, cols) in zip(axes.flat, shown):
        for col in cols:
            series = frame[["step", col]].dropna()
            (line,) = ax.plot(series["step"], series[col], label=col.replace("rewards/", "").replace("/mean", ""),
                              lw=1, alpha=0.6)
            if len(series) >= 10:  # a moving average (same colour, thicker) shows the trend of noisy steps
                ax.plot(series["step"], series[col].rolling(5, min_periods=1).mean(), lw=2.2, color=line.get_color())
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("step")
        if len(cols) > 1:
            ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(shown):]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    tmp.replace(path)
    return path
