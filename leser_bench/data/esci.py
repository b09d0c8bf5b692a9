"""Amazon Shopping Queries Dataset (ESCI) loader.

Reads the two official parquet files from a cache directory (downloading them from the official
release when missing and allowed), keeps one locale and one task version (small = Task 1), and
returns a :class:`Dataset` whose qrels hold ESCI grades (E=3, S=2, C=1, I=0) and whose gain
mapping is configurable (default E=1.0, S=0.1, C=0.01, I=0).

Files written by :mod:`leser_bench.data.esci_standin` (a GENERATED stand-in at ESCI's size) carry a
manifest; they are checked against it on every load and come back with ``generated=True``.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from leser_bench.data.download import DownloadError, check_parquet_magic, download_file, record_download
from leser_bench.data.parquetio import read_parquet
from leser_bench.data.records import (
    DataError,
    Dataset,
    GainMapping,
    Product,
    Qrels,
    Query,
    UNWRITABLE_ID,
    Split,
    check_id,
    check_qrels,
)
from leser_bench.data.source import DataSource
from leser_bench.data.standin_manifest import check_standin

log = logging.getLogger(__name__)

EXAMPLES_FILE = "shopping_queries_dataset_examples.parquet"
PRODUCTS_FILE = "shopping_queries_dataset_products.parquet"
ESCI_FILES = (EXAMPLES_FILE, PRODUCTS_FILE)
#: the files are stored in Git LFS; this URL serves their content (it redirects to the LFS media host).
DEFAULT_BASE_URL = "https://github.com/amazon-science/esci-data/raw/main/shopping_queries_dataset"
MANIFEST_FILE = "esci_download.json"

EXAMPLE_COLUMNS = (
    "example_id", "query", "query_id", "product_id", "product_locale",
    "esci_label", "small_version", "large_version", "split",
)  # fmt: skip
PRODUCT_COLUMNS = (
    "product_id", "product_title", "product_description", "product_bullet_point",
    "product_brand", "product_color", "product_locale",
)  # fmt: skip
#: Product field <- ESCI column.
PRODUCT_FIELD_COLUMNS = {
    "title": "product_title",
    "description": "product_description",
    "bullets": "product_bullet_point",
    "brand": "product_brand",
    "color": "product_color",
}
DEFAULT_GAINS = {"E": 1.0, "S": 0.1, "C": 0.01, "I": 0.0}
RELEASE_SPLITS = ("train", "test")
VALIDATION_SPLIT = "validation"
#: example columns that may not be empty (an empty query text has its own message).
_EXAMPLE_KEYS = ("example_id", "query_id", "product_id", "esci_label", "split")


@dataclass
class EsciConfig:
    """Which part of ESCI to load and how. ``splits`` may name train, test and validation."""

    cache_dir: str = "~/.cache/leser_bench/esci"
    locale: str = "us"
    #: "small" = Task 1 (small_version == 1), "large" = large_version == 1.
    version: str = "small"
    splits: Sequence[str] = ("train", "test")
    #: fraction of train queries moved to a seeded "validation" split (0 = no validation split).
    validation_fraction: float = 0.0
    #: keep at most this many queries per split (seeded, deterministic); None = all.
    max_queries: int | None = None
    seed: int = 0
    gains: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_GAINS))
    #: True: the whole locale catalogue; False: only products judged for the kept queries.
    full_catalogue: bool = False
    download: bool = True
    base_url: str = DEFAULT_BASE_URL
    #: file name -> known sha256; checked on download when given.
    sha256: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = 60.0

    @property
    def cache_path(self) -> Path:
        return Path(self.cache_dir).expanduser()


def load_esci(config: EsciConfig) -> Dataset:
    """Load ESCI as a :class:`Dataset` (downloading the files first when missing and allowed)."""
    _validate(config)
    examples_path, products_path = ensure_esci_files(config)
    standin = check_standin(config.cache_path, (examples_path, products_path))
    gains = GainMapping.esci(dict(config.gains))
    examples = _read_examples(examples_path, config)
    _check_labels(examples, gains, examples_path)
    query_ids = _choose_queries(examples, config)
    splits: dict[str, Split] = {}
    for name in _wanted_splits(config):
        ids = query_ids[name]
        rows = examples[examples["query_id"].isin(ids)]
        queries, qrels = _queries_and_qrels(rows, gains, examples_path)
        reason = ""
        if not queries:
            # kept as an empty split: methods that need it are left out before any work (with this
            # reason), and evaluating it is an error (Dataset.split); identity or RM3 need no train split
            reason = (f"{examples_path}: split {name!r} is empty after filtering (locale={config.locale!r}, "
                      f"version={config.version!r}, max_queries={config.max_queries})")
            log.warning("%s", reason)
        splits[name] = Split(name=name, queries=queries, qrels=qrels, empty_reason=reason)
    judged = {pid for s in splits.values() for docs in s.qrels.values() for pid in docs}
    products = _read_products(products_path, config, None if config.full_catalogue else judged)
    product_ids = {p.id for p in products}
    for split in splits.values():
        check_qrels(split.qrels, split.queries, product_ids, f"{examples_path} (split {split.name!r})")
    sizes = ", ".join(f"{s.name}: {len(s.queries)} queries" for s in splits.values())
    origin = "Amazon Shopping Queries Dataset (ESCI)"
    if standin is not None:
        origin = (
            f"GENERATED stand-in for ESCI (not the real data): written by {standin.get('generator')} "
            f"v{standin.get('generator_version')} (seed {standin.get('parameters', {}).get('seed')}) from the embedded "
            f"world's generator in the ESCI file layout"
        )
    return Dataset(
        name=f"esci-{config.locale}-{config.version}" + ("-standin" if standin is not None else ""),
        products=products,
        splits=splits,
        gains=gains,
        generated=standin is not None,
        description=(
            f"{origin}, locale {config.locale}, {config.version} version; "
            f"{len(products)} products ({'whole locale catalogue' if config.full_catalogue else 'judged only'}); "
            f"{sizes}."
        ),
    )


def ensure_esci_files(config: EsciConfig) -> tuple[Path, Path]:
    """Return the paths of the two ESCI files, downloading missing ones when ``config.download``."""
    cache = config.cache_path
    paths = tuple(cache / name for name in ESCI_FILES)
    missing = [p for p in paths if not p.is_file()]
    if missing and not config.download:
        raise DataError(_missing_message(config, "downloading is disabled (download=false)"))
    for path in missing:
        url = f"{config.base_url.rstrip('/')}/{path.name}"
        log.info("downloading %s to %s", url, path)
        try:
            result = download_file(
                url,
                path,
                timeout_s=config.timeout_s,
                expected_sha256=config.sha256.get(path.name),
                check=check_parquet_magic,
            )
        except (DownloadError, OSError) as exc:
            raise DataError(_missing_message(config, f"the download failed: {exc}")) from exc
        record_download(cache / MANIFEST_FILE, result)
    return paths[0], paths[1]


def _missing_message(config: EsciConfig, reason: str) -> str:
    base = config.base_url.rstrip("/")
    return (
        f"ESCI files are missing from {config.cache_path} and {reason}. "
        f"Put {EXAMPLES_FILE} and {PRODUCTS_FILE} in {config.cache_path}, or set the dataset's cache_dir "
        f"to where they are. Get them by hand from {base}/{EXAMPLES_FILE} and {base}/{PRODUCTS_FILE} "
        f"(Git LFS files of the amazon-science/esci-data release)."
    )


def _validate(config: EsciConfig) -> None:
    if config.version not in ("small", "large"):
        raise DataError(f"ESCI config: version must be 'small' or 'large', not {config.version!r}")
    allowed = (*RELEASE_SPLITS, VALIDATION_SPLIT)
    unknown = [s for s in config.splits if s not in allowed]
    if unknown:
        raise DataError(f"ESCI config: unknown splits {unknown}; ESCI has {list(allowed)}")
    if not 0.0 <= config.validation_fraction < 1.0:
        raise DataError(f"ESCI config: validation_fraction must be in [0, 1), not {config.validation_fraction}")
    if VALIDATION_SPLIT in config.splits and config.validation_fraction == 0.0:
        raise DataError("ESCI config: a 'validation' split needs validation_fraction > 0 (it is carved from train)")
    if config.max_queries is not None and config.max_queries < 1:
        raise DataError(f"ESCI config: max_queries must be >= 1 or None, not {config.max_queries}")


def _wanted_splits(config: EsciConfig) -> list[str]:
    wanted = list(dict.fromkeys(config.splits))
    if config.validation_fraction > 0 and VALIDATION_SPLIT not in wanted:
        wanted.append(VALIDATION_SPLIT)
    return wanted


def _read_examples(path: Path, config: EsciConfig) -> pd.DataFrame:
    flag = f"{config.version}_version"
    filters = [("product_locale", "==", config.locale), (flag, "==", 1)]
    df = read_parquet(path, EXAMPLE_COLUMNS, "example_id", filters, required=_EXAMPLE_KEYS)
    df = df.astype({"query_id": str, "product_id": str, "split": str})
    df["query"] = df["query"].fillna("").astype(str)
    bad = df[~df["split"].isin(RELEASE_SPLITS)]
    if len(bad):
        row = bad.iloc[0]
        raise DataError(
            f"{path}: example {row['example_id']} (query {row['query_id']}) has split {row['split']!r}, "
            f"not one of {list(RELEASE_SPLITS)} ({len(bad)} such rows)"
        )
    return df


def _check_labels(df: pd.DataFrame, gains: GainMapping, path: Path) -> None:
    bad = df[~df["esci_label"].isin(list(gains.grades))]
    if len(bad):
        row = bad.iloc[0]
        raise DataError(
            f"{path}: example {row['example_id']} (query {row['query_id']}) has label {row['esci_label']!r}, "
            f"outside the mapping {sorted(gains.grades)} ({len(bad)} such rows)"
        )


def _seeded_order(ids: Sequence[str], seed: int, salt: str) -> list[str]:
    """A seeded permutation that does not depend on library versions: order by a hash of each id."""
    return sorted(ids, key=lambda i: (hashlib.sha256(f"{seed}:{salt}:{i}".encode()).hexdigest(), i))


def _choose_queries(df: pd.DataFrame, config: EsciConfig) -> dict[str, list[str]]:
    """Query ids per split: release splits, a carved validation split, then the per-split cap."""
    by_split = {name: sorted(set(df.loc[df["split"] == name, "query_id"])) for name in RELEASE_SPLITS}
    if config.validation_fraction > 0:
        train = _seeded_order(by_split["train"], config.seed, "validation")
        n_val = round(config.validation_fraction * len(train))
        if len(train) >= 2:
            n_val = min(max(n_val, 1), len(train) - 1)
        by_split[VALIDATION_SPLIT] = sorted(train[:n_val])
        by_split["train"] = sorted(train[n_val:])
    if config.max_queries is not None:
        by_split = {
            name: sorted(_seeded_order(ids, config.seed, "cap")[: config.max_queries])
            for name, ids in by_split.items()
        }
    return by_split


def _queries_and_qrels(rows: pd.DataFrame, gains: GainMapping, path: Path) -> tuple[list[Query], Qrels]:
    texts = rows.groupby("query_id", sort=True)["query"].unique()
    queries: list[Query] = []
    for qid, values in texts.items():
        if not qid or UNWRITABLE_ID.search(str(qid)):
            example = rows.loc[rows["query_id"] == qid, "example_id"].iloc[0]
            check_id(str(qid), f"{path}: example {example}", "query")
        if len(values) > 1:
            raise DataError(f"{path}: query {qid} has {len(values)} different texts, e.g. {list(values[:2])}")
        text = str(values[0]).strip()
        if not text:
            raise DataError(f"{path}: query {qid} has an empty text")
        queries.append(Query(id=str(qid), text=text))
    for pid in set(rows["product_id"]):
        if not pid or UNWRITABLE_ID.search(pid):
            example = rows.loc[rows["product_id"] == pid, "example_id"].iloc[0]
            check_id(pid, f"{path}: example {example}", "product")
    qrels: Qrels = {}
    grade_of = dict(gains.grades)
    for qid, pid, label, example_id in zip(
        rows["query_id"], rows["product_id"], rows["esci_label"], rows["example_id"], strict=True
    ):
        docs = qrels.setdefault(qid, {})
        grade = grade_of[label]
        if docs.get(pid, grade) != grade:
            raise DataError(
                f"{path}: query {qid} judges product {pid} twice with different labels (example {example_id})"
            )
        docs[pid] = grade
    return queries, qrels


_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][^<>]*>", re.DOTALL)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_NEWLINES = re.compile(r"\s*\n\s*")


def clean_text(value: object, keep_lines: bool = False) -> str:
    """Plain text from an ESCI field: None/NaN -> "", HTML tags removed, entities decoded."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = str(value)
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    text = _SPACES.sub(" ", text)
    if keep_lines:
        return _NEWLINES.sub("\n", text).strip()
    return " ".join(text.split())


def _read_products(path: Path, config: EsciConfig, keep: set[str] | None) -> list[Product]:
    df = read_parquet(path, PRODUCT_COLUMNS, "product_id", [("product_locale", "==", config.locale)], ["product_id"])
    df["product_id"] = df["product_id"].astype(str)
    if keep is not None:
        df = df[df["product_id"].isin(keep)]
    seen: dict[str, Product] = {}
    repeated = 0
    columns = [df["product_id"], *(df[c] for c in PRODUCT_FIELD_COLUMNS.values())]
    rows = zip(*columns, strict=True)
    for pid, title, description, bullets, brand, color in tqdm(
        rows, total=len(df), desc="ESCI products", unit="product", disable=None, leave=False
    ):
        if not pid or UNWRITABLE_ID.search(pid):
            check_id(pid, f"{path} (product_id, locale {config.locale})", "product")
        product = Product(
            id=pid,
            title=clean_text(title),
            description=clean_text(description),
            bullets=clean_text(bullets, keep_lines=True),
            brand=clean_text(brand),
            color=clean_text(color),
        )
        previous = seen.get(pid)
        if previous is not None and previous != product:
            raise DataError(f"{path}: product id {pid!r} appears twice with different text (locale {config.locale})")
        repeated += previous is not None
        seen[pid] = product
    if repeated:
        log.info("%s: %d repeated rows of a product with identical text merged (locale %s)", path, repeated, config.locale)
    return list(seen.values())


#: ``dataset.source: esci``; its settings are checked before any work, the files fetched when loaded.
ESCI = DataSource("esci", EsciConfig, load_esci, check=_validate)
