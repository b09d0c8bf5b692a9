"""ESCI loader on the real file layout (esci_micro), on larger files derived from it, and the
download path with the network mocked."""

from __future__ import annotations

import re

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import requests

from leser_bench.data import download as download_module
from leser_bench.data.esci import EXAMPLES_FILE, MANIFEST_FILE, PRODUCTS_FILE, EsciConfig, clean_text, load_esci
from leser_bench.data.records import ESCI_GRADES, DataError

MICRO = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "esci_micro"
needs_micro = pytest.mark.skipif(
    not (MICRO / EXAMPLES_FILE).is_file(), reason=f"ESCI micro sample not found at {MICRO} (../shared/data/esci_micro)"
)
pytestmark = needs_micro


def micro_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.read_parquet(MICRO / EXAMPLES_FILE), pd.read_parquet(MICRO / PRODUCTS_FILE)


def write_esci(folder: Path, examples: pd.DataFrame, products: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    examples.to_parquet(folder / EXAMPLES_FILE, index=False)
    products.to_parquet(folder / PRODUCTS_FILE, index=False)
    return folder


@pytest.fixture
def synthetic(tmp_path: Path) -> Path:
    """ESCI-layout files with 30 small US queries (20 train, 10 test) built from the micro rows,
    plus rows that the default filters must drop (another locale, large-only) and 3 unjudged products."""
    ex, prods = micro_frames()
    frames = []
    for i in range(30):
        rows = ex.copy()
        rows["query_id"] = 1000 + i
        rows["query"] = f"query number {i}"
        rows["example_id"] = rows["example_id"] + 100 * i
        rows["split"] = "train" if i < 20 else "test"
        frames.append(rows.iloc[: 3 + i % 5])  # 3..7 judgments per query
    es = ex.copy()
    es["product_locale"], es["query_id"], es["split"] = "es", 5000, "train"
    large_only = ex.copy()
    large_only["small_version"], large_only["query_id"], large_only["split"] = 0, 6000, "train"
    examples = pd.concat([*frames, es, large_only], ignore_index=True)
    extra = prods.iloc[:3].copy()
    extra["product_id"] = ["UNJUDGED1", "UNJUDGED2", "UNJUDGED3"]
    es_products = prods.copy()
    es_products["product_locale"] = "es"
    return write_esci(tmp_path / "synthetic", examples, pd.concat([prods, extra, es_products], ignore_index=True))


def micro_config(**kw: object) -> EsciConfig:
    return EsciConfig(cache_dir=str(MICRO), splits=["test"], download=False, **kw)


def test_micro_counts_and_label_grades() -> None:
    ds = load_esci(micro_config())
    split = ds.split("test")
    assert [q.id for q in split.queries] == ["535"]
    assert split.queries[0].text == "06 bmw 325i radio oem not navigation system"
    assert len(ds.products) == 16
    assert sum(len(d) for d in split.qrels.values()) == 16
    ex, _ = micro_frames()
    for row in ex.itertuples():
        assert split.qrels[str(row.query_id)][row.product_id] == ESCI_GRADES[row.esci_label]
    grades = sorted(split.qrels["535"].values())
    assert grades.count(3) == 3 and grades.count(2) == 6 and grades.count(0) == 7
    assert ds.gains.gain_of_grade() == {3: 1.0, 2: 0.1, 1: 0.01, 0: 0.0}
    assert not ds.generated and ds.name == "esci-us-small"


def test_micro_text_fields() -> None:
    ds = load_esci(micro_config())
    _, prods = micro_frames()
    by_id = ds.product_index()
    for row in prods.itertuples():
        p = by_id[row.product_id]
        assert p.title == " ".join(row.product_title.split())
        assert p.brand == row.product_brand.strip()
        assert p.color == ("" if pd.isna(row.product_color) else " ".join(row.product_color.split()))
        if pd.isna(row.product_description):
            assert p.description == ""
        else:
            assert p.description and p.description == clean_text(row.product_description)
        for text in p.fields().values():
            assert "<br" not in text and "<b>" not in text and "nan" != text
        assert p.bullets  # every micro product has bullet points
    first = by_id["B08VSJGP1N"]
    assert first.description.startswith("Features ●Built-in carplay system")
    assert first.brand == "Rimoody" and first.color == "black"


def test_clean_text() -> None:
    assert clean_text(None) == "" and clean_text(float("nan")) == ""
    assert clean_text("<p>Soft &amp; warm<br/>sofa</p>") == "Soft & warm sofa"
    assert clean_text("size < 5 and 3 > 2") == "size < 5 and 3 > 2"
    assert clean_text("one\n two  \n\nthree", keep_lines=True) == "one\ntwo\nthree"


def test_custom_gains_and_bad_gains() -> None:
    ds = load_esci(micro_config(gains={"E": 1.0, "S": 0.5, "C": 0.2, "I": 0.0}))
    assert ds.gains.gain_of_grade()[2] == 0.5
    assert "S=0.5" in ds.gains.describe()
    with pytest.raises(DataError, match="grade or a gain"):
        load_esci(micro_config(gains={"E": 1.0, "S": 0.5}))


def test_empty_split_is_kept_empty_and_refused_when_used(caplog: pytest.LogCaptureFixture) -> None:
    # the micro sample has one test query and no train query: loading works (identity and RM3 need no
    # train split), the reason is logged with the filters, and using the empty split is an error
    with caplog.at_level("WARNING", logger="leser_bench.data.esci"):
        ds = load_esci(EsciConfig(cache_dir=str(MICRO), download=False))
    assert re.search(r"split 'train' is empty after filtering \(locale='us'", caplog.text)
    assert len(ds.split("test").queries) == 1 and ds.splits["train"].queries == []
    with pytest.raises(DataError, match=r"split 'train' is empty after filtering \(locale='us'"):
        ds.split("train")


def test_filters_cap_and_validation(synthetic: Path) -> None:
    base = EsciConfig(cache_dir=str(synthetic), download=False)
    ds = load_esci(base)
    assert len(ds.split("train").queries) == 20 and len(ds.split("test").queries) == 10
    assert "5000" not in ds.split("train").qrels and "6000" not in ds.split("train").qrels
    assert len(ds.products) == 7  # judged only (each query judges 3..7 of the 16), one locale
    assert len(load_esci(EsciConfig(cache_dir=str(synthetic), download=False, version="large")).split("train").queries) == 21

    def ids(cfg: EsciConfig, split: str) -> list[str]:
        return [q.id for q in load_esci(cfg).split(split).queries]

    capped = EsciConfig(cache_dir=str(synthetic), download=False, max_queries=5, seed=1)
    assert len(ids(capped, "train")) == 5 and len(ids(capped, "test")) == 5
    assert ids(capped, "train") == ids(capped, "train")  # deterministic
    seeds = {tuple(ids(EsciConfig(cache_dir=str(synthetic), download=False, max_queries=5, seed=s), "train")) for s in range(4)}
    assert len(seeds) > 1  # the seed matters
    bigger = EsciConfig(cache_dir=str(synthetic), download=False, max_queries=8, seed=1)
    assert set(ids(capped, "train")) <= set(ids(bigger, "train"))
    capped_ds = load_esci(capped)
    judged = {p for s in capped_ds.splits.values() for d in s.qrels.values() for p in d}
    assert {p.id for p in capped_ds.products} == judged

    val = load_esci(EsciConfig(cache_dir=str(synthetic), download=False, validation_fraction=0.25, seed=3))
    train_ids = {q.id for q in val.split("train").queries}
    val_ids = {q.id for q in val.split("validation").queries}
    assert len(val_ids) == 5 and len(train_ids) == 15 and not train_ids & val_ids
    assert train_ids | val_ids == {str(1000 + i) for i in range(20)}
    assert all(q in val.split("validation").qrels for q in val_ids)


def test_full_catalogue(synthetic: Path) -> None:
    ds = load_esci(EsciConfig(cache_dir=str(synthetic), download=False, full_catalogue=True))
    assert len(ds.products) == 19 and "UNJUDGED2" in ds.product_index()


def test_label_outside_mapping(tmp_path: Path) -> None:
    ex, prods = micro_frames()
    ex.loc[4, "esci_label"] = "X"
    folder = write_esci(tmp_path / "bad", ex, prods)
    with pytest.raises(DataError) as err:
        load_esci(EsciConfig(cache_dir=str(folder), splits=["test"], download=False))
    msg = str(err.value)
    assert f"example {ex.loc[4, 'example_id']}" in msg and "query 535" in msg and "'X'" in msg


def test_missing_columns(tmp_path: Path) -> None:
    ex, prods = micro_frames()
    folder = write_esci(tmp_path / "bad", ex.drop(columns=["esci_label"]), prods)
    with pytest.raises(DataError, match=rf"{EXAMPLES_FILE}: missing columns \['esci_label'\]"):
        load_esci(EsciConfig(cache_dir=str(folder), splits=["test"], download=False))
    folder = write_esci(tmp_path / "bad2", ex, prods.drop(columns=["product_brand", "product_color"]))
    with pytest.raises(DataError, match=rf"{PRODUCTS_FILE}: missing columns \['product_brand', 'product_color'\]"):
        load_esci(EsciConfig(cache_dir=str(folder), splits=["test"], download=False))


def test_duplicate_product_with_different_text(tmp_path: Path) -> None:
    ex, prods = micro_frames()
    dupe = prods.iloc[[2]].copy()
    dupe["product_title"] = "something else"
    folder = write_esci(tmp_path / "dupe", ex, pd.concat([prods, dupe], ignore_index=True))
    with pytest.raises(DataError, match=rf"product id '{dupe.iloc[0]['product_id']}' appears twice with different text"):
        load_esci(EsciConfig(cache_dir=str(folder), splits=["test"], download=False))
    same = write_esci(tmp_path / "same", ex, pd.concat([prods, prods.iloc[[2]]], ignore_index=True))
    assert len(load_esci(EsciConfig(cache_dir=str(same), splits=["test"], download=False)).products) == 16


def test_missing_files_without_download(tmp_path: Path) -> None:
    empty = tmp_path / "nothing here"
    with pytest.raises(DataError) as err:
        load_esci(EsciConfig(cache_dir=str(empty), splits=["test"], download=False))
    msg = str(err.value)
    assert str(empty) in msg and EXAMPLES_FILE in msg and PRODUCTS_FILE in msg
    assert "https://github.com/amazon-science/esci-data/raw/main/shopping_queries_dataset/" in msg


# --- download path, network mocked -------------------------------------------------------------


class FakeResponse:
    def __init__(self, body: bytes, *, status: int = 200, length: int | None = -1, fail_after: int | None = None):
        self.body, self.status, self.fail_after = body, status, fail_after
        self.headers = {} if length is None else {"Content-Length": str(len(body) if length == -1 else length)}

    def __enter__(self) -> FakeResponse:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def raise_for_status(self) -> None:
        if self.status >= 400:
            raise requests.HTTPError(f"{self.status} Client Error")

    def iter_content(self, chunk_size: int = 1):
        step = 1000
        for i in range(0, len(self.body), step):
            if self.fail_after is not None and i >= self.fail_after:
                raise requests.ConnectionError("Connection reset by peer")
            yield self.body[i : i + step]


def serve(monkeypatch: pytest.MonkeyPatch, responses: dict[str, FakeResponse | Exception]) -> list[str]:
    """Patch requests.get to answer from ``responses`` (keyed by file name); returns the URLs asked."""
    asked: list[str] = []

    def fake_get(url: str, stream: bool = False, timeout: float | None = None) -> FakeResponse:
        assert stream and timeout
        asked.append(url)
        answer = responses[url.rsplit("/", 1)[-1]]
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(download_module.requests, "get", fake_get)
    return asked


def micro_bytes() -> dict[str, bytes]:
    return {name: (MICRO / name).read_bytes() for name in (EXAMPLES_FILE, PRODUCTS_FILE)}


def test_download_success_is_atomic_and_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blobs = micro_bytes()
    asked = serve(monkeypatch, {name: FakeResponse(body) for name, body in blobs.items()})
    cache = tmp_path / "cache"
    ds = load_esci(EsciConfig(cache_dir=str(cache), splits=["test"], base_url="https://example.test/esci/"))
    assert asked == [f"https://example.test/esci/{EXAMPLES_FILE}", f"https://example.test/esci/{PRODUCTS_FILE}"]
    assert len(ds.products) == 16 and len(ds.split("test").queries) == 1
    assert sorted(p.name for p in cache.iterdir()) == sorted([EXAMPLES_FILE, PRODUCTS_FILE, MANIFEST_FILE])
    manifest = json.loads((cache / MANIFEST_FILE).read_text())
    for name, body in blobs.items():
        assert (cache / name).read_bytes() == body
        assert manifest[name]["sha256"] == hashlib.sha256(body).hexdigest()
        assert manifest[name]["bytes"] == len(body)
    # present files are not downloaded again
    asked.clear()
    load_esci(EsciConfig(cache_dir=str(cache), splits=["test"]))
    assert asked == []


def test_download_with_known_checksum(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blobs = micro_bytes()
    serve(monkeypatch, {name: FakeResponse(body) for name, body in blobs.items()})
    good = {name: hashlib.sha256(body).hexdigest() for name, body in blobs.items()}
    load_esci(EsciConfig(cache_dir=str(tmp_path / "ok"), splits=["test"], sha256=good))
    bad = {**good, PRODUCTS_FILE: "0" * 64}
    with pytest.raises(DataError, match="sha256"):
        load_esci(EsciConfig(cache_dir=str(tmp_path / "bad"), splits=["test"], sha256=bad))
    assert not (tmp_path / "bad" / PRODUCTS_FILE).exists()
    assert [p.name for p in (tmp_path / "bad").iterdir() if p.name.endswith(".part")] == []


def assert_clean_failure(err: pytest.ExceptionInfo[DataError], cache: Path) -> None:
    msg = str(err.value)
    assert str(cache) in msg and EXAMPLES_FILE in msg and PRODUCTS_FILE in msg
    assert "https://github.com/amazon-science/esci-data/raw/main/shopping_queries_dataset/" in msg
    leftovers = sorted(p.name for p in cache.iterdir()) if cache.exists() else []
    assert not [n for n in leftovers if n.endswith(".part") or n.startswith(".")], leftovers


def test_download_failure_mid_stream_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blobs = micro_bytes()
    serve(monkeypatch, {name: FakeResponse(body, fail_after=3000) for name, body in blobs.items()})
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match="Connection reset") as err:
        load_esci(EsciConfig(cache_dir=str(cache), splits=["test"]))
    assert_clean_failure(err, cache)
    assert not (cache / EXAMPLES_FILE).exists() and not (cache / PRODUCTS_FILE).exists()


def test_download_unreachable_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    failure = requests.ConnectionError("Failed to resolve 'github.com'")
    serve(monkeypatch, {EXAMPLES_FILE: failure, PRODUCTS_FILE: failure})
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match="download failed") as err:
        load_esci(EsciConfig(cache_dir=str(cache), splits=["test"]))
    assert_clean_failure(err, cache)
    serve(monkeypatch, {EXAMPLES_FILE: requests.Timeout("read timed out"), PRODUCTS_FILE: failure})
    with pytest.raises(DataError, match="Timeout"):
        load_esci(EsciConfig(cache_dir=str(cache), splits=["test"]))


def test_download_http_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    serve(monkeypatch, {EXAMPLES_FILE: FakeResponse(b"Not Found", status=404), PRODUCTS_FILE: FakeResponse(b"")})
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match="404") as err:
        load_esci(EsciConfig(cache_dir=str(cache), splits=["test"]))
    assert_clean_failure(err, cache)
    assert not (cache / EXAMPLES_FILE).exists()


def test_download_size_mismatch_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blobs = micro_bytes()
    truncated = blobs[EXAMPLES_FILE][:-100]  # server cut the body short of its Content-Length
    serve(monkeypatch, {EXAMPLES_FILE: FakeResponse(truncated, length=len(blobs[EXAMPLES_FILE])), PRODUCTS_FILE: FakeResponse(blobs[PRODUCTS_FILE])})
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match="Content-Length") as err:
        load_esci(EsciConfig(cache_dir=str(cache), splits=["test"]))
    assert_clean_failure(err, cache)
    assert not (cache / EXAMPLES_FILE).exists()


def test_download_not_parquet_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pointer = b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n"
    serve(monkeypatch, {EXAMPLES_FILE: FakeResponse(pointer), PRODUCTS_FILE: FakeResponse(b"<html>hi</html>")})
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match="Git LFS pointer") as err:
        load_esci(EsciConfig(cache_dir=str(cache), splits=["test"]))
    assert_clean_failure(err, cache)
    assert not (cache / EXAMPLES_FILE).exists()


def test_partial_cache_downloads_only_the_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copy(MICRO / EXAMPLES_FILE, cache / EXAMPLES_FILE)
    asked = serve(monkeypatch, {PRODUCTS_FILE: FakeResponse(micro_bytes()[PRODUCTS_FILE], length=None)})
    assert len(load_esci(EsciConfig(cache_dir=str(cache), splits=["test"])).products) == 16
    assert [u.rsplit("/", 1)[-1] for u in asked] == [PRODUCTS_FILE]
