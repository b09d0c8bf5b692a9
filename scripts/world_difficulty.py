"""Print how hard an embedded world is for BM25: no expansion, Pyserini's RM3, the oracle expansion.

The world is a ``conf/dataset`` profile (``world``, the default; ``world_esci``, calibrated to ESCI),
with ``--set`` overrides of its WorldConfig fields. The oracle expansion appends the true synonyms
of each query's product type(s) (``Query.meta["oracle_terms"]``). Figures: R@100 (Exact = relevant)
and nDCG@10 (ESCI gains), overall and per query kind, and what the judgments look like; ``--markdown``
adds the overall row as a docs/world.md table row. Usage::

    python scripts/world_difficulty.py [--profile world_esci] [--seed 13] [--split test]
                                       [--set n_products=2000 n_test=150 ...] [--markdown]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

from leser_bench.config import CONF_DIR
from leser_bench.data.loading import dataset_config
from leser_bench.data.world import WorldConfig, generate_world
from leser_bench.data.world.difficulty import difficulty_table, judgment_stats

CONF_DATASET = CONF_DIR / "dataset"


def profile_config(profile: str, seed: int) -> WorldConfig:
    """The WorldConfig a ``conf/dataset/<profile>.yaml`` file gives, ``${seed}`` set to ``seed``."""
    path = CONF_DATASET / f"{profile}.yaml"
    if not path.is_file():
        sys.exit(f"--profile {profile!r}: no file {path}")
    node = OmegaConf.create({"seed": seed, "node": OmegaConf.load(path)})
    source, config = dataset_config(OmegaConf.to_container(node, resolve=True)["node"])  # type: ignore[index]
    if getattr(source, "name", source) != "world":
        sys.exit(f"--profile {profile!r} is a {getattr(source, 'name', source)!r} data set, not an embedded world")
    return config


def _parse_overrides(pairs: list[str]) -> dict[str, object]:
    fields = {f.name: f for f in dataclasses.fields(WorldConfig)}
    out: dict[str, object] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key not in fields:
            sys.exit(f"unknown WorldConfig field {key!r}; fields: {sorted(fields)}")
        default = getattr(WorldConfig(), key)
        out[key] = tuple(float(v) for v in value.split(",")) if isinstance(default, tuple) else type(default)(value)
    return out


def markdown_row(label: str, table: pd.DataFrame) -> str:
    """``| label | BM25 R@100 | RM3 R@100 | oracle R@100 | BM25 nDCG@10 | RM3 nDCG@10 | oracle nDCG@10 |``"""
    row = table.loc["all"]
    cells = [f"{row[(m, measure)]:.3f}" for measure in ("R@100", "nDCG@10") for m in ("bm25", "bm25+rm3", "bm25+oracle")]
    gains = [f"{row[('rm3 gain', measure)]:+.3f}" for measure in ("R@100", "nDCG@10")]
    return f"| {label} | " + " | ".join(cells[:3] + [gains[0]] + cells[3:] + [gains[1]]) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="world", help="conf/dataset profile: world (default) or world_esci")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--split", default="test")
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE", help="WorldConfig overrides")
    parser.add_argument("--cache", type=Path, default=None, help="index cache root (default: a temp dir)")
    parser.add_argument("--markdown", action="store_true", help="also print the overall row for docs/world.md")
    args = parser.parse_args()

    config = dataclasses.replace(profile_config(args.profile, args.seed), **_parse_overrides(args.set))
    start = time.perf_counter()
    dataset = generate_world(config)
    print(f"generated {len(dataset.products)} products in {time.perf_counter() - start:.2f} s")
    print(dataset.summary())
    stats = judgment_stats(dataset, args.split)
    print("judgments:", ", ".join(f"{k} {v:.3f}" for k, v in stats.items()))
    with tempfile.TemporaryDirectory() as tmp:
        table = difficulty_table(dataset, args.split, args.cache or Path(tmp))
    pd.set_option("display.width", 200)
    print(f"\nBM25 on split {args.split!r} (R@100: Exact = relevant; nDCG@10: E=1, S=0.1, C=0.01, I=0)")
    print(table.round(3).to_string())
    if args.markdown:
        print("\n" + markdown_row(f"{args.profile} (seed {args.seed}, {len(dataset.products)} products)", table))


if __name__ == "__main__":
    main()
