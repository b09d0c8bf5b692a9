"""``dataset.source: ir_datasets``: any collection the ``ir_datasets`` package knows (``dataset.id``), read
from its local cache (``IR_DATASETS_HOME``, default ``~/.ir_datasets``).

Documents become Products through the files loader's mapping (``fields``: Product field -> document
field; ids kept exactly, texts made plain, duplicates refused), queries become the split ``split``
through its query checks, and qrels grades become gains through ``gains``, as in ``dataset=files``.

Nothing is downloaded behind the config's back: :func:`check_irds`, run when the config is validated,
refuses an id whose documents, queries or qrels are not on this machine, naming the id, the files it
needs and ``IR_DATASETS_HOME`` (a machine without network cannot fetch them; one with network fetches
them with ``ir_datasets export <id> docs`` etc. first). ``ir_datasets`` is imported only when used.
"""

from __future__ import annotations

import difflib
import functools
import os
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leser_bench.data.files import gain_mapping, qrels_from, queries_from, split_from
from leser_bench.data.files_catalogue import RawRecord, check_fields, products_from
from leser_bench.data.records import DataError, Dataset
from leser_bench.data.source import DataSource

#: objects visited when looking for the files a dataset needs (handlers hold a few dozen).
_MAX_VISITED = 10_000


@dataclass
class IrDatasetsConfig:
    """Which ir_datasets collection and how its records map onto the harness's."""

    #: the ir_datasets id, e.g. "vaswani", "beir/scifact/test", "msmarco-passage/dev/small" (required).
    id: str | None = None
    #: the data set's name in reports (None: the id).
    name: str | None = None
    #: the split name its queries and qrels become.
    split: str = "test"
    #: Product field (title, description, bullets, brand, color, product_type) -> document field.
    fields: Mapping[str, str] = field(default_factory=lambda: {"description": "text"})
    #: the query field whose text is the query (TREC topics: title, description …).
    query_text_field: str = "text"
    #: integer grade (qrels relevance) -> gain; a grade without a gain is an error.
    gains: Mapping[int, float] = field(default_factory=lambda: {0: 0.0, 1: 1.0})
    #: drop (and count, with a warning) judgments naming unknown queries or documents.
    drop_unknown_qrels: bool = False
    description: str = ""


def irds_home() -> Path:
    """Where ir_datasets keeps its data (as ``ir_datasets.util.home_path``, without creating it)."""
    return Path(os.environ.get("IR_DATASETS_HOME", Path.home() / ".ir_datasets"))


def _library() -> Any:
    try:
        import ir_datasets  # noqa: PLC0415 - an optional dependency, imported when the source is used
    except ImportError:
        raise DataError("dataset.source=ir_datasets needs the ir_datasets package "
                        "(pip install 'leser_bench[ir_datasets]')") from None
    return ir_datasets


def _collection(config: IrDatasetsConfig) -> Any:
    """The ir_datasets dataset, with documents, queries and qrels whose fields the config names."""
    if not config.id:
        raise DataError("dataset.id is missing: the ir_datasets id to load, e.g. dataset.id=beir/scifact/test "
                        "(ids: https://ir-datasets.com)")
    ir_datasets = _library()
    try:
        collection = ir_datasets.load(config.id)
    except KeyError:
        close = difflib.get_close_matches(config.id, list(ir_datasets.registry), n=3)
        hint = f"; did you mean {close}?" if close else " (ids: https://ir-datasets.com)"
        raise DataError(f"dataset.id={config.id!r} is not an ir_datasets id{hint}") from None
    lacking = [what for what in ("docs", "queries", "qrels") if not getattr(collection, f"has_{what}")()]
    if lacking:
        raise DataError(f"dataset.id={config.id!r}: this ir_datasets collection has no {' and no '.join(lacking)}; "
                        "pick an id with documents, queries and qrels (e.g. one with a split: .../test)")
    check_fields(config.fields)
    for what, wanted, cls in (("fields", [*config.fields.values()], collection.docs_cls()),
                              ("query_text_field", [config.query_text_field], collection.queries_cls())):
        unknown = [name for name in wanted if name not in cls._fields]
        if unknown:
            raise DataError(f"dataset.{what}: {config.id!r} {cls.__name__} records have no field {unknown}; "
                            f"they have {list(cls._fields)}")
    return collection


def check_irds(config: IrDatasetsConfig) -> None:
    """Before any work: the id is known, its records have the fields named, and its files are on this machine."""
    collection = _collection(config)
    needed: dict[str, list[str]] = {}  # a file -> what needs it (one archive often holds all three)
    for what in ("docs", "queries", "qrels"):
        for need in _missing_files(collection, what):
            needed.setdefault(need, []).append(what)
    if needed:
        raise DataError(_not_local(config, [f"{need} for {' and '.join(whats)}" for need, whats in needed.items()]))


def _not_local(config: IrDatasetsConfig, needs: list[str]) -> str:
    shown = "; ".join(needs[:4]) + (f"; and {len(needs) - 4} more" if len(needs) > 4 else "")
    return (f"dataset.id={config.id!r} is not in ir_datasets' local cache (IR_DATASETS_HOME={irds_home()}) and "
            f"cannot be fetched without a network: it needs {shown}. Fetch it where there is a network "
            f"(`ir_datasets export {config.id} docs`, then `queries` and `qrels`) and copy that IR_DATASETS_HOME "
            f"folder here, or set IR_DATASETS_HOME to a folder that holds it")


def _missing_files(collection: Any, what: str) -> list[str]:
    """What the documents/queries/qrels of ``collection`` would have to download: the files ir_datasets
    caches that are absent, each with where it comes from. Found by walking the handler's objects (its
    Cache, Download and LocalDownload objects); a built document store needs no source files."""
    util = _library().util
    handler = getattr(collection, f"{what}_handler")()
    if what == "docs":
        try:
            if handler.docs_store().built():
                return []
        except Exception:  # noqa: BLE001 - a handler without a usable store: look at its files
            pass
    out: list[str] = []
    seen: set[int] = set()

    def walk(obj: Any) -> None:
        if id(obj) in seen or len(seen) > _MAX_VISITED or isinstance(obj, str | bytes | int | float | Path | type):
            return
        seen.add(id(obj))
        if isinstance(obj, util.Cache):
            if not Path(obj._path).exists():
                walk(obj._streamer)  # extracted from something that may itself be local
        elif isinstance(obj, util.Download):
            cache = obj._cache_path
            local = [m for m in obj.mirrors if isinstance(m, util.LocalDownload) and m._path.exists()]
            if not (cache and os.path.exists(cache)) and not local:
                # a local mirror is worth naming (with how to obtain it) only when there is no remote one
                remote = [_origin(m) for m in obj.mirrors if not isinstance(m, util.LocalDownload)]
                sources = remote or [_origin(m) for m in obj.mirrors]
                out.append(f"{cache or 'a download'} (from {', '.join(sources) or 'nowhere'})")
        elif isinstance(obj, util.LocalDownload):
            if not obj._path.exists():
                out.append(_origin(obj))
        elif isinstance(obj, util.BaseDownload):
            out.append(f"a stream from {_origin(obj)}")
        elif isinstance(obj, list | tuple | set | frozenset):
            for item in obj:
                walk(item)
        elif isinstance(obj, dict):
            for item in obj.values():
                walk(item)
        elif isinstance(obj, functools.partial):
            walk(obj.func), walk(obj.args), walk(obj.keywords)
        elif isinstance(obj, types.FunctionType):
            for cell in obj.__closure__ or ():
                walk(cell.cell_contents)
        elif isinstance(obj, types.MethodType):
            walk(obj.__self__)
        elif hasattr(obj, "__dict__") and not isinstance(obj, types.ModuleType):
            walk(vars(obj))

    walk(handler)
    return out


def _origin(download: Any) -> str:
    message = getattr(download, "_message", None)  # a LocalDownload's: how to obtain a licensed corpus
    if message:
        return f"{download._path}, which you obtain yourself: {' '.join(message.split())}"
    return str(getattr(download, "url", None) or getattr(download, "uri", None) or
               getattr(download, "_path", None) or type(download).__name__)


def load_irds(config: IrDatasetsConfig) -> Dataset:
    """The collection's documents, and its queries and qrels as the split ``config.split``."""
    collection = _collection(config)
    where = f"ir_datasets {config.id!r}"
    gains = gain_mapping(config.gains)
    try:
        products = products_from(_doc_records(collection, config, where), "doc_id", f"{where} docs")
        queries = queries_from(((f"{where} queries, query {q.query_id!r}", q.query_id,
                                 _query_text(q, config.query_text_field, where))
                                for q in collection.queries_iter()), f"{where} queries")
        qrels = qrels_from(((f"{where} qrels, query {r.query_id!r}", r.query_id, r.doc_id, r.relevance)
                            for r in collection.qrels_iter()), {int(g) for g in config.gains}, f"{where} qrels")
    except ImportError as exc:  # an extra dependency of this one collection (e.g. beautifulsoup4)
        raise DataError(f"{where}: {exc}") from None
    except (OSError, RuntimeError) as exc:  # what ir_datasets raises when a download is attempted and fails
        raise DataError(_not_local(config, [f"{type(exc).__name__}: {exc}"])) from None
    split = split_from(config.split, queries, qrels, f"{where} qrels", {p.id for p in products},
                       config.drop_unknown_qrels)
    return Dataset(name=config.name or config.id or "ir_datasets", products=products, splits={config.split: split},
                   gains=gains, generated=False,
                   description=config.description or f"ir_datasets {config.id!r}, split {config.split!r}")


def _doc_records(collection: Any, config: IrDatasetsConfig, where: str) -> Iterator[RawRecord]:
    for number, doc in enumerate(collection.docs_iter()):
        yield f"{where} docs, record {number}", doc.doc_id, {name: getattr(doc, column)
                                                            for name, column in config.fields.items()}


def _query_text(query: Any, text_field: str, where: str) -> str:
    text = getattr(query, text_field)
    if not isinstance(text, str):
        raise DataError(f"{where} queries, query {query.query_id!r}: field {text_field!r} is a "
                        f"{type(text).__name__}, not text")
    return text


#: ``dataset.source: ir_datasets``; the files it needs are checked before any work.
IR_DATASETS = DataSource("ir_datasets", IrDatasetsConfig, load_irds, check=check_irds)
