"""A GENERATED stand-in for Amazon ESCI at its real size, for machines without the real files.

Writes ``shopping_queries_dataset_examples.parquet`` and ``shopping_queries_dataset_products.parquet``
with exactly the columns, order and Arrow types of the official release, filled by the embedded
world's generator, so that ``+experiment=amazon_esci`` with ``ESCI_DIR=<dir>`` reads them like the
real files: same loader, same sizes, so the pipeline's cost at ESCI scale can be measured anywhere.
They are NOT the real data: a manifest (:mod:`leser_bench.data.standin_manifest`) marks them and
every report built on them says "generated".

Default sizes are the published ones of the US locale, small version (Task 1):

- queries and judgments: Reddy et al., "Shopping Queries Dataset: A Large-Scale ESCI Benchmark for
  Improving Product Search", arXiv 2206.06588, Table 1 (reduced version; reproduced in the
  amazon-science/esci-data README): English (US) train 20,888 queries / 419,653 judgments,
  test 8,956 queries / 181,701 judgments (29,844 / 601,354 in all, average depth 20.15).
- catalogue: 1,215,854 US-locale products in ``shopping_queries_dataset_products.parquet``. Not
  confirmed from the paper's tables here (they count queries and judgments, not products); this is
  the figure reported by users of the release (e.g. vespa-engine/sample-apps, product search:
  "all (1,215,854) products").
- label shares E 65%, S 22%, C 3%, I 10%: the published shares of the large version (65.16%,
  21.91%, 2.89%, 10.04%); the small version (Task 1) holds fewer Exact labels (43.78%, 34.30%,
  5.15%, 16.76%): pass ``--label-shares`` to follow that. Both from the release's statistics (see
  :mod:`leser_bench.data.world.shares`).

How it scales: one world holds a few thousand unique query texts and judges each query against
its own catalogue, so the stand-in is written in *shards*: each shard is one seeded world of
``shard_products`` products whose queries are kept when their text is new to the whole stand-in.
Product ids are re-issued by a bijection of the global product number (ASIN-like, unique by
construction); query and example ids are global counters (int64, as in the real file). Each shard
is one row group in each file, written as it is made, so memory stays that of one shard.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from leser_bench.io.cache import atomic_write_json, remove_stale_temporaries
from leser_bench.data.esci import EXAMPLE_COLUMNS, EXAMPLES_FILE, PRODUCT_COLUMNS, PRODUCTS_FILE
from leser_bench.data.records import ESCI_GRADES, DataError
from leser_bench.data.standin_manifest import KIND, MANIFEST_FILE, PARQUET_KEY, sha256_file
from leser_bench.data.world import WorldConfig, generate_world
from leser_bench.data.world.products import largest_remainder
from leser_bench.data.world.shares import LABELS, LabelBalancer

GENERATOR_VERSION = 1
#: Reddy et al. 2022 (arXiv 2206.06588), Table 1, English (US), reduced version (Task 1).
US_SMALL_TRAIN_QUERIES, US_SMALL_TRAIN_JUDGMENTS = 20_888, 419_653
US_SMALL_TEST_QUERIES, US_SMALL_TEST_JUDGMENTS = 8_956, 181_701
#: US-locale rows of the products file (reported by users of the release; see the module docstring).
US_PRODUCTS = 1_215_854
DEFAULT_SHARES = {"E": 0.65, "S": 0.22, "C": 0.03, "I": 0.10}
#: the release lists "up to 40 potentially relevant results" per query.
MAX_DEPTH = 40
MIN_SHARD_PRODUCTS = 500  # the world's own minimum
#: query kinds (type, attribute, brand, specific, misspelling, accessory, vague, model) weighted towards
#: the kinds with many distinct texts: 30k unique queries exhaust the few type/accessory/vague
#: texts early (and ESCI's small version keeps the harder, more specific queries anyway).
KIND_WEIGHTS = (0.05, 0.30, 0.16, 0.25, 0.12, 0.05, 0.07, 0.0)
_LETTER = {grade: letter for letter, grade in ESCI_GRADES.items()}
_ID_SPACE = 36**8
_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: odd and not a multiple of 3 (so coprime with 36^8), near 36^8 / golden ratio: neighbours look unrelated.
_ID_STEP = 1_732_050_807_569

EXAMPLE_SCHEMA = pa.schema([(c, pa.int64() if c in ("example_id", "query_id", "small_version", "large_version")
                             else pa.large_string()) for c in EXAMPLE_COLUMNS])
PRODUCT_SCHEMA = pa.schema([(c, pa.large_string()) for c in PRODUCT_COLUMNS])


@dataclass(frozen=True)
class StandinConfig:
    """Sizes and seed of a stand-in; the defaults are ESCI US small (Task 1) as published."""

    train_queries: int = US_SMALL_TRAIN_QUERIES
    test_queries: int = US_SMALL_TEST_QUERIES
    train_judgments: int = US_SMALL_TRAIN_JUDGMENTS
    test_judgments: int = US_SMALL_TEST_JUDGMENTS
    products: int = US_PRODUCTS
    label_shares: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SHARES))
    seed: int = 0
    locale: str = "us"
    #: products per world shard (the last shards take the remainder).
    shard_products: int = 40_000

    def problems(self) -> list[tuple[str, str]]:
        """(option, message) for every bad value; empty when the config can be generated."""
        out: list[tuple[str, str]] = []
        for name in ("train_queries", "test_queries", "train_judgments", "test_judgments", "products"):
            if getattr(self, name) < (1 if name != "train_queries" else 0):
                out.append((name, f"must be >= {1 if name != 'train_queries' else 0}, not {getattr(self, name)}"))
        for split in ("train", "test"):
            q, j = getattr(self, f"{split}_queries"), getattr(self, f"{split}_judgments")
            if q > 0 and not q <= j <= MAX_DEPTH * q:
                out.append((f"{split}_judgments", f"must be between {split}_queries and {MAX_DEPTH}x it "
                                                  f"({q}..{MAX_DEPTH * q}), not {j}"))
        if self.products < MIN_SHARD_PRODUCTS:
            out.append(("products", f"must be >= {MIN_SHARD_PRODUCTS}, not {self.products}"))
        if self.shard_products < MIN_SHARD_PRODUCTS:
            out.append(("shard_products", f"must be >= {MIN_SHARD_PRODUCTS}, not {self.shard_products}"))
        shares = dict(self.label_shares)
        if sorted(shares) != sorted(LABELS) or min(shares.values()) < 0 or sum(shares.values()) <= 0:
            out.append(("label_shares", f"needs non-negative shares for exactly {list(LABELS)}, not {shares}"))
        if not self.locale:
            out.append(("locale", "may not be empty"))
        return out


def _asin(number: int, seed: int) -> str:
    """An ASIN-like id for global product ``number``: an affine bijection of the 36^8 id space."""
    offset = int(hashlib.sha256(f"standin-ids-{seed}".encode()).hexdigest(), 16) % _ID_SPACE
    value = (number * _ID_STEP + offset) % _ID_SPACE
    digits = []
    for _ in range(8):
        value, r = divmod(value, 36)
        digits.append(_ID_ALPHABET[r])
    return "B0" + "".join(reversed(digits))


def _depths(n_queries: int, n_judgments: int, rng: random.Random) -> list[int]:
    """Judgments per query: spread around the mean like ESCI's (1..40), summing exactly to the total."""
    if n_queries == 0:
        return []
    mean = n_judgments / n_queries
    depths = [min(MAX_DEPTH, max(1, round(rng.gauss(mean, 0.3 * mean)))) for _ in range(n_queries)]
    gap = n_judgments - sum(depths)
    while gap:
        i = rng.randrange(n_queries)
        step = 1 if gap > 0 else -1
        if 1 <= depths[i] + step <= MAX_DEPTH:
            depths[i] += step
            gap -= step
    return depths


@dataclass
class _SplitState:
    name: str
    depths: list[int]
    balancer: LabelBalancer
    made: int = 0
    judgments: int = 0
    carry: int = 0  # judgments a too-small pool could not give, passed to the next query

    @property
    def remaining(self) -> int:
        return len(self.depths) - self.made

    @property
    def last_target(self) -> int:
        return min(MAX_DEPTH, self.depths[-1] + self.carry)


@dataclass
class _Writer:
    """Both files, streamed one row group per shard into temporaries beside their final names."""

    out_dir: Path
    config: StandinConfig
    next_query: int = 0
    next_example: int = 0
    next_product: int = 0
    seen_texts: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        marker = {PARQUET_KEY: _params_json(self.config).encode()}
        self.paths = {name: self._temporary(name) for name in (EXAMPLES_FILE, PRODUCTS_FILE)}
        self.examples = pq.ParquetWriter(self.paths[EXAMPLES_FILE], EXAMPLE_SCHEMA.with_metadata(marker))
        self.products = pq.ParquetWriter(self.paths[PRODUCTS_FILE], PRODUCT_SCHEMA.with_metadata(marker))

    def _temporary(self, name: str) -> Path:
        remove_stale_temporaries(self.out_dir / name)
        fd, tmp = tempfile.mkstemp(dir=self.out_dir, prefix=f".{name}.", suffix=".tmp")
        os.close(fd)
        return Path(tmp)

    def shard(self, world_seed: int, n_products: int, splits: Sequence[_SplitState], overshoot: float) -> float:
        """Write one world's products and its new queries; returns the share of its queries that were new."""
        cap = max(1, n_products // 16)  # one world makes a few thousand unique texts at most
        wanted = {s.name: min(cap, math.ceil(s.remaining * overshoot)) for s in splits}
        world = self._world(world_seed, n_products, wanted)
        pid = {}
        for product in world.products:
            pid[product.id] = _asin(self.next_product, self.config.seed)
            self.next_product += 1
        self.products.write_table(pa.table({
            "product_id": [pid[p.id] for p in world.products],
            "product_title": [p.title for p in world.products],
            "product_description": [p.description or None for p in world.products],
            "product_bullet_point": [p.bullets or None for p in world.products],
            "product_brand": [p.brand or None for p in world.products],
            "product_color": [p.color or None for p in world.products],
            "product_locale": [self.config.locale] * len(world.products),
        }, schema=PRODUCT_SCHEMA))
        rows: dict[str, list[Any]] = {c: [] for c in EXAMPLE_COLUMNS}
        offered = new = 0
        for state in splits:
            split = world.splits.get(state.name)
            for query in split.queries if split else []:
                if state.remaining == 0:
                    break
                offered += 1
                pool = split.qrels[query.id]
                if query.text in self.seen_texts or (state.remaining == 1 and len(pool) < state.last_target):
                    continue  # a repeated text; or the last query, which must take every judgment left
                new += 1
                self.seen_texts.add(query.text)
                self._query(state, query.text, {pid[p]: g for p, g in pool.items()}, rows)
        self.examples.write_table(pa.table(rows, schema=EXAMPLE_SCHEMA))
        return new / offered if offered else 0.0

    def _world(self, seed: int, n_products: int, wanted: Mapping[str, int]) -> Any:
        """One world; when its query space runs dry (it says so), ask it for fewer queries."""
        attempt = 0
        while True:
            n_train, n_test = (wanted[k] >> attempt for k in ("train", "test"))
            try:
                return generate_world(WorldConfig(
                    seed=seed, n_products=n_products, n_train=n_train, n_test=max(1, n_test),
                    kind_weights=KIND_WEIGHTS, max_exact=MAX_DEPTH, n_substitute=12, n_complement=6, n_irrelevant=10))
            except DataError:
                attempt += 1
                if attempt == 6:
                    raise

    def _query(self, state: _SplitState, text: str, pool: Mapping[str, int], rows: dict[str, list[Any]]) -> None:
        rng = random.Random(f"standin-judge-{self.config.seed}-{self.next_query}")
        by_label: dict[str, list[str]] = {l: [] for l in LABELS}
        for product_id, grade in pool.items():
            by_label[_LETTER[grade]].append(product_id)
        target = state.depths[state.made] + state.carry
        counts = state.balancer.counts(min(MAX_DEPTH, target), {l: len(v) for l, v in by_label.items()})
        chosen = [(p, l) for l in LABELS for p in rng.sample(by_label[l], counts[l])]
        rng.shuffle(chosen)
        state.carry = target - len(chosen)
        for product_id, label in chosen:
            for column, value in zip(EXAMPLE_COLUMNS, (self.next_example, text, self.next_query, product_id,
                                     self.config.locale, label, 1, 1, state.name), strict=True):
                rows[column].append(value)
            self.next_example += 1
        state.made += 1
        state.judgments += len(chosen)
        self.next_query += 1

    def close(self) -> None:
        self.examples.close()
        self.products.close()

    def discard(self) -> None:
        for path in self.paths.values():
            path.unlink(missing_ok=True)


def _params_json(config: StandinConfig) -> str:
    return json.dumps({"kind": KIND, "generator_version": GENERATOR_VERSION, **asdict(config)}, sort_keys=True)


def write_standin(config: StandinConfig, out_dir: Path, progress: bool = True) -> dict[str, Any]:
    """Write both files and the manifest into ``out_dir``; returns the manifest.

    Both files are written to temporaries; the manifest (with their checksums) is written before
    they are renamed into place, so an interrupted run leaves either the old state or files that
    fail their checksum, never generated files that pass as real ones."""
    problems = config.problems()
    if problems:
        raise DataError("; ".join(f"{name}: {message}" for name, message in problems))
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"standin-depths-{config.seed}")
    splits = [_SplitState(name, _depths(getattr(config, f"{name}_queries"), getattr(config, f"{name}_judgments"), rng),
                          LabelBalancer(config.label_shares)) for name in ("test", "train")]
    n_shards = max(1, config.products // config.shard_products)
    sizes = largest_remainder([1.0] * n_shards, config.products)
    writer = _Writer(out_dir, config)
    closed = False
    try:
        rate = 1.0
        bar = tqdm(total=config.products, desc="ESCI stand-in", unit="product", disable=None if progress else True)
        for shard, size in enumerate(sizes):
            left = n_shards - shard
            overshoot = 1.25 / max(rate, 0.05) / left  # ask for more than needed: repeated texts are dropped
            rate = writer.shard(config.seed * 100_003 + shard, size, splits, overshoot) or rate
            bar.update(size)
            bar.set_postfix(queries=writer.next_query, judgments=writer.next_example)
        bar.close()
        writer.close()
        closed = True
        short = {s.name: s.remaining for s in splits if s.remaining}
        if short:
            raise DataError(f"ESCI stand-in: {short} queries could not be made with new texts from "
                            f"{config.products} products; use more products or fewer queries")
        files = {name: {"sha256": sha256_file(path), "bytes": path.stat().st_size}
                 for name, path in writer.paths.items()}
        manifest = {
            "kind": KIND, "generated": True, "generator": "leser_bench.data.esci_standin",
            "generator_version": GENERATOR_VERSION, "parameters": asdict(config),
            "sizes": {"products": writer.next_product, "shards": n_shards,
                      **{f"{s.name}_queries": s.made for s in splits},
                      **{f"{s.name}_judgments": s.judgments for s in splits},
                      "labels": {l: sum(s.balancer.assigned[l] for s in splits) for l in LABELS}},
            "files": files,
        }
        atomic_write_json(out_dir / MANIFEST_FILE, manifest)
        for name, path in writer.paths.items():
            os.chmod(path, 0o644)
            os.replace(path, out_dir / name)
        return manifest
    finally:
        if not closed:
            writer.close()
        writer.discard()


def _shares(text: str) -> dict[str, float]:
    try:
        pairs = [part.split("=", 1) for part in text.split(",")]
        return {label.strip(): float(value) for label, value in pairs}
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected E=..,S=..,C=..,I=.., not {text!r}") from None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse would print the usage first)
        self.exit(2, f"{self.prog}: error: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    d = StandinConfig()
    parser = _Parser(
        prog="python -m leser_bench.data.esci_standin",
        description="Write a GENERATED stand-in for Amazon ESCI (the two official parquet files, same schema, "
                    "filled by the embedded world's generator) plus the manifest esci_standin.json that makes "
                    "every report built on it say 'generated'. Defaults: ESCI US small version (Task 1) as "
                    "published in Reddy et al., arXiv 2206.06588, Table 1 (queries, judgments); catalogue size "
                    "as reported for the release's US locale. Not the real data.")
    parser.add_argument("--out", type=Path, required=True, help="directory to write into (use it as ESCI_DIR)")
    for option in ("train_queries", "test_queries", "train_judgments", "test_judgments"):
        split, what = option.split("_")
        parser.add_argument(f"--{split}-{what}", type=int, default=getattr(d, option),
                            help=f"paper Table 1, US {split} {what}: %(default)s")
    parser.add_argument("--products", type=int, default=d.products,
                        help="US catalogue size (as reported for the release; not in the paper's tables): %(default)s")
    parser.add_argument("--label-shares", type=_shares, default=dict(d.label_shares),
                        help="target label shares, default E=0.65,S=0.22,C=0.03,I=0.10 (approximate published shares)")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--locale", default=d.locale)
    parser.add_argument("--shard-products", type=int, default=d.shard_products, help="products per world shard")
    parser.add_argument("--force", action="store_true", help="overwrite ESCI files that have no stand-in manifest")
    args = parser.parse_args(argv)
    config = StandinConfig(args.train_queries, args.test_queries, args.train_judgments, args.test_judgments,
                           args.products, args.label_shares, args.seed, args.locale, args.shard_products)
    for name, message in config.problems():
        parser.error(f"argument --{name.replace('_', '-')}: {message}")
    real = [n for n in (EXAMPLES_FILE, PRODUCTS_FILE) if (args.out / n).exists()]
    if real and not (args.out / MANIFEST_FILE).exists() and not args.force:
        parser.error(f"argument --out: {args.out} already holds {real[0]} without a stand-in manifest "
                     f"(real ESCI files?); pass --force to overwrite")
    try:
        manifest = write_standin(config, args.out)
    except (DataError, OSError) as exc:
        print(f"{parser.prog}: {exc}", file=sys.stderr)
        return 1
    sizes = manifest["sizes"]
    print(f"wrote a GENERATED ESCI stand-in to {args.out}: {sizes['products']} products, "
          f"train {sizes['train_queries']} queries / {sizes['train_judgments']} judgments, "
          f"test {sizes['test_queries']} / {sizes['test_judgments']}; labels {sizes['labels']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
