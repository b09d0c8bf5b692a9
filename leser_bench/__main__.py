"""``python -m leser_bench [overrides]``: run a benchmark experiment (Hydra)."""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from leser_bench.errors import USER_ERRORS


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    from leser_bench.pipeline import run_experiment  # noqa: PLC0415 - keeps --help fast

    out_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        result = run_experiment(cfg, out_dir)
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(result.leaderboard.to_string(float_format=lambda v: f"{v:.4f}"))
    print(f"report: {out_dir / 'report.md'}")
    print(f"report: {out_dir / 'report.html'}")


if __name__ == "__main__":
    main()
