"""Print how hard the embedded world is for BM25, with and without the oracle expansion.

The oracle expansion appends the true synonyms of each query's product type(s)
(``Query.meta["oracle_terms"]``). Figures: R@100 (Exact = relevant) and nDCG@10 (ESCI gains),
overall and per query kind. Usage::

    python scripts/world_difficulty.py [--seed 13] [--split test] [--set desc_synonym_p=0.3 ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from leser_bench.data.world import WorldConfig, generate_world
from leser_bench.data.world.difficulty import difficulty_table


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--split", default="test")
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE", help="WorldConfig overrides")
    parser.add_argument("--cache", type=Path, default=None, help="index cache root (default: a temp dir)")
    args = parser.parse_args()

    config = WorldConfig(seed=args.seed, **_parse_overrides(args.set))
    start = time.perf_counter()
    dataset = generate_world(config)
    print(f"generated {len(dataset.products)} products in {time.perf_counter() - start:.2f} s")
    print(dataset.summary())
    with tempfile.TemporaryDirectory() as tmp:
        table = difficulty_table(dataset, args.split, args.cache or Path(tmp))
    pd.set_option("display.width", 160)
    print(f"\nBM25 on split {args.split!r} (R@100: Exact = relevant; nDCG@10: E=1, S=0.1, C=0.01, I=0)")
    print(table.round(3).to_string())


if __name__ == "__main__":
    main()
