"""Build (once) a multi-field Pyserini Lucene index of a product catalogue.

Each product becomes a JsonCollection document whose ``contents`` holds every text field and
whose ``title``, ``brand`` and ``color`` are indexed again as fields of their own, so the
Retriever can weight them at search time. Document vectors are stored (RM3/Rocchio need them).
The index is cached under a directory named by a hash of the catalogue, the extra document text
(doc2query) and this config; it is built in a temporary directory and renamed when complete.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from leser_bench.io.cache import cached_directory, content_hash
from leser_bench.data.records import Product
from leser_bench.retrieval.java import ensure_java

#: fields indexed on their own besides ``contents``.
SEPARATE_FIELDS = ("title", "brand", "color")


@dataclass(frozen=True)
class IndexConfig:
    #: product fields concatenated into ``contents``, in order.
    contents_fields: tuple[str, ...] = ("title", "description", "bullets", "brand", "color")
    separate_fields: tuple[str, ...] = SEPARATE_FIELDS
    threads: int = 2
    batch_size: int = 2000


@dataclass
class IndexStats:
    path: Path
    documents: int
    key: str
    extra: dict[str, object] = field(default_factory=dict)


def product_document(product: Product, config: IndexConfig, extra_text: str = "") -> dict[str, str]:
    fields = product.fields()
    contents = "\n".join(fields[name] for name in config.contents_fields if fields.get(name))
    if extra_text:
        contents = f"{contents}\n{extra_text}"
    doc = {"id": product.id, "contents": contents}
    for name in config.separate_fields:
        doc[name] = fields.get(name, "")
    return doc


def index_key(products: Sequence[Product], config: IndexConfig, extra_text: Mapping[str, str] | None) -> str:
    from importlib.metadata import version  # noqa: PLC0415

    pyserini_version = version("pyserini")
    docs = [product_document(p, config, (extra_text or {}).get(p.id, "")) for p in products]
    tunables = {"contents": config.contents_fields, "fields": config.separate_fields}
    return content_hash("index-v1", pyserini_version, tunables, docs)


def build_index(
    products: Sequence[Product],
    config: IndexConfig,
    cache_root: Path,
    extra_text: Mapping[str, str] | None = None,
) -> Path:
    """Return the path of a complete index of ``products``, building it if needed."""
    if not products:
        raise ValueError("cannot build an index of an empty catalogue")
    key = index_key(products, config, extra_text)
    target = Path(cache_root) / "index" / key

    def build(tmp: Path) -> None:
        ensure_java()
        from pyserini.index.lucene import LuceneIndexer  # noqa: PLC0415 - starts the JVM

        lucene_dir = tmp / "lucene"
        args = ["-index", str(lucene_dir), "-storeDocvectors", "-storePositions", "-storeRaw"]
        if config.separate_fields:
            args += ["-fields", *config.separate_fields]
        indexer = LuceneIndexer(args=args, threads=config.threads)
        with tqdm(total=len(products), desc="indexing products", unit="doc") as bar:
            for start in range(0, len(products), config.batch_size):
                chunk = products[start : start + config.batch_size]
                raw = [
                    json.dumps(product_document(p, config, (extra_text or {}).get(p.id, "")))
                    for p in chunk
                ]
                indexer.add_batch_raw(raw)
                bar.update(len(chunk))
        indexer.close()
        (tmp / "meta.json").write_text(json.dumps({"documents": len(products), "key": key}))

    cached_directory(target, build)
    return target / "lucene"
