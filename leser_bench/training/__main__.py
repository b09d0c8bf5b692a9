"""``python -m leser_bench.training [overrides]``: train only (no evaluation), e.g. on a GPU node.

Composes the same Hydra config as ``python -m leser_bench`` and trains the method named by
``+train_method=<key of methods>`` (default: ``leser``), writing to ``<hydra run dir>/training/<name>``.
Under ``accelerate launch`` every process runs this; TRL shares the work and only the main process
writes the final model and curves (give all processes the same ``hydra.run.dir``). Evaluate the
result afterwards with ``python -m leser_bench +experiment=leser methods.leser.checkpoint=<dir>``.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger("leser_bench.training")


@hydra.main(config_path="../../conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    from leser_bench.data.loading import load_dataset  # noqa: PLC0415
    from leser_bench.errors import USER_ERRORS  # noqa: PLC0415
    from leser_bench.methods import ConfigError, MethodContext  # noqa: PLC0415
    from leser_bench.pipeline import method_configs, retriever_config  # noqa: PLC0415
    from leser_bench.retrieval import IndexConfig, Retriever, build_index  # noqa: PLC0415

    try:
        name = str(cfg.get("train_method") or "leser")
        methods = method_configs(cfg)
        if name not in methods or methods[name].get("kind") not in ("leser", "sft"):
            raise ConfigError(f"train_method={name!r}: no LESER/SFT method of that name in {sorted(methods)}")
        dataset = load_dataset(OmegaConf.to_container(cfg.dataset, resolve=True))
        ret_cfg, _ = retriever_config(OmegaConf.to_container(cfg.retriever, resolve=True))
        cache_dir = Path(cfg.cache_dir)
        retriever = Retriever(build_index(dataset.products, IndexConfig(threads=ret_cfg.threads), cache_dir), ret_cfg)
        context = MethodContext(dataset=dataset, retriever=retriever, cache_dir=cache_dir, seed=int(cfg.seed),
                                config=OmegaConf.to_container(cfg, resolve=True))
        if methods[name]["kind"] == "leser":
            from leser_bench.leser import train_leser  # noqa: PLC0415

            final = train_leser(methods[name], context)
        else:
            from baselines.sft import train_sft_method  # noqa: PLC0415

            final = train_sft_method(methods[name], context)
        retriever.close()
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(f"trained model: {final}")


if __name__ == "__main__":
    main()
