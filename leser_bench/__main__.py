"""``python -m leser_bench [overrides]``: run a benchmark experiment (Hydra)."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from leser_bench.config import CONF_DIR
from leser_bench.errors import USER_ERRORS

#: written into the run directory of a run that did not finish: the error, so a directory holding only
#: ``.hydra/`` and a log says why (``regress --run-dir`` and the leaderboard can tell it from a finished run).
FAILED_MARKER = "FAILED"


def mark_failed(out_dir: Path, message: str) -> Path | None:
    """Write ``FAILED`` (the error) into ``out_dir``; None when the directory cannot be written."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        marker = out_dir / FAILED_MARKER
        marker.write_text(message.rstrip("\n") + "\n", encoding="utf-8")
        return marker
    except OSError:
        return None


@hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    from leser_bench.pipeline import run_experiment  # noqa: PLC0415 - keeps --help fast

    out_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        result = run_experiment(cfg, out_dir)
    except USER_ERRORS as exc:
        marker = mark_failed(out_dir, f"error: {exc}")
        if marker is not None:  # stdout: stderr keeps the one error line
            print(f"failed run: {out_dir} (see {marker.name})")
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except BaseException as exc:  # a bug or an interruption: say so in the run directory, keep the traceback
        marker = mark_failed(out_dir, "".join(traceback.format_exception(exc)))
        if marker is not None:
            print(f"failed run: {out_dir} (see {marker.name})")
        raise
    print(result.leaderboard.to_string(float_format=lambda v: f"{v:.4f}"))
    print(f"report: {out_dir / 'report.md'}")
    print(f"report: {out_dir / 'report.html'}")


def check_shown_config(argv: list[str]) -> None:
    """``--cfg job|hydra|all`` prints the config inside Hydra without calling :func:`main`: apply the same
    validation first, so a config that would fail the run fails the same way (one line, exit 2)."""
    from hydra._internal.utils import get_args_parser  # noqa: PLC0415 - Hydra's own command-line parser

    args, _ = get_args_parser().parse_known_args(argv)
    if not args.cfg or args.config_dir or args.config_path:  # another primary config: Hydra's alone
        return
    from hydra import compose, initialize_config_dir  # noqa: PLC0415
    from hydra.errors import HydraException  # noqa: PLC0415

    from leser_bench.pipeline import validate  # noqa: PLC0415

    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose(config_name=args.config_name or "config", overrides=args.overrides, return_hydra_config=True)
    except HydraException:
        return  # Hydra reports composition errors itself
    HydraConfig.instance().set_config(cfg)  # what a run sees (the method choice, the run directory)
    with open_dict(cfg):
        del cfg["hydra"]
    try:
        validate(cfg)
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


def check_modes(argv: list[str]) -> None:
    """Hydra raises a bare ValueError (a traceback) for two of --run/--multirun/--cfg/--info together:
    say it in one line instead, with exit status 2 like every other usage error."""
    from hydra._internal.utils import get_args_parser  # noqa: PLC0415 - Hydra's own command-line parser

    args, _ = get_args_parser().parse_known_args(argv)
    given = [flag for flag, value in (("--run", args.run), ("--multirun", args.multirun), ("--cfg", args.cfg),
                                      ("--info", args.info), ("--shell-completion", args.shell_completion)) if value]
    if len(given) > 1:
        print(f"error: {' and '.join(given)} cannot be given together: choose one (a run, a multirun, "
              "or showing the config/info)", file=sys.stderr)
        sys.exit(2)


def cli() -> None:
    """The command (``python -m leser_bench``, the ``leser-bench`` script)."""
    check_modes(sys.argv[1:])
    check_shown_config(sys.argv[1:])
    main()


if __name__ == "__main__":
    cli()
