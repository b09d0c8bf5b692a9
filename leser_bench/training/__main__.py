"""``python -m leser_bench.training [overrides]``: train only (no evaluation), e.g. on a GPU node.

Composes the same Hydra config as ``python -m leser_bench`` and trains the method named by
``+train_method=<key of methods>`` (default: ``leser``), writing to ``<hydra run dir>/training/<name>``.
Under ``accelerate launch`` every process runs this; TRL shares the work and only the main process
writes the final model and curves (give all processes the same ``hydra.run.dir``). Evaluate the
result afterwards with ``python -m leser_bench +experiment=leser methods.leser.checkpoint=<dir>``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from leser_bench.config import CONF_DIR


@hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig  # noqa: PLC0415

    from leser_bench.data.loading import load_dataset  # noqa: PLC0415
    from leser_bench.errors import USER_ERRORS, ConfigError  # noqa: PLC0415
    from leser_bench.methods import kind_of  # noqa: PLC0415
    from leser_bench.pipeline import method_configs, validate  # noqa: PLC0415
    from leser_bench.pipeline.run import method_context  # noqa: PLC0415

    try:
        validate(cfg)
        name = str(cfg.get("train_method") or "leser")
        methods = method_configs(cfg)
        trainable = sorted(key for key, m in methods.items() if kind_of(m, key).train is not None)
        if name not in trainable:
            raise ConfigError(f"train_method={name!r}: no method of that name that trains; trainable: {trainable}")
        dataset = load_dataset(OmegaConf.to_container(cfg.dataset, resolve=True))
        context = method_context(cfg, dataset, Path(HydraConfig.get().runtime.output_dir))
        final = kind_of(methods[name], name).train(methods[name], context)  # type: ignore[misc]
        context.retriever.close()
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(f"trained model: {final}")


if __name__ == "__main__":
    main()
