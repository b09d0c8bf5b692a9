"""Hostile and malformed dataset inputs, loaded through the harness's own entry point
(``load_dataset``), for both loaders: the ESCI parquet release and the generic files loader.

Each case starts from a small *valid* data set (the sanity tests load it) and breaks one thing.
The table says what the resulting DataError must say: the file and the line or id at fault.
Where the config asks to drop (``drop_unknown_qrels``) or the loader has a merge rule (ESCI
products repeated with identical text), the drop or merge is counted in the log.

Decisions the table pins down:
- duplicate product ids: the files loader rejects every repeat, identical or not, naming both
  lines; ESCI merges rows of one product that repeat with identical text (logged count) and
  rejects conflicting text; the same id in another locale is not a duplicate (the official file
  lists products per locale, the loader keeps one locale).
- ESCI qrels cannot name unknown queries (queries and judgments are the same rows); they can
  name products that the products file lacks for the locale.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import REPO
from leser_bench.data.esci import EXAMPLES_FILE, PRODUCTS_FILE
from leser_bench.data.loading import load_dataset
from leser_bench.data.records import DataError

EX, PR = re.escape(EXAMPLES_FILE), re.escape(PRODUCTS_FILE)
Frame = pd.DataFrame | pa.Table
Edit = Callable[[pd.DataFrame], Frame]

# --- ESCI: a valid release of 3 queries (1 train, 1 test in us; 1 in es) --------------------------


def esci_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    examples = pd.DataFrame({
        "example_id": [0, 1, 2, 3, 4],
        "query": ["grey sofa", "grey sofa", "running shoes", "running shoes", "sofá"],
        "query_id": [1, 1, 2, 2, 3],
        "product_id": ["B01", "B03", "B02", "B01", "B04"],
        "product_locale": ["us", "us", "us", "us", "es"],
        "esci_label": ["E", "I", "E", "S", "E"],
        "small_version": [1, 1, 1, 1, 1],
        "large_version": [1, 1, 1, 1, 1],
        "split": ["train", "train", "test", "test", "train"],
    })  # fmt: skip
    products = pd.DataFrame({
        "product_id": ["B01", "B02", "B03", "B01", "B04"],
        "product_title": ["Grey sofa", "Trail running shoe", "Oak table", "Sofá gris", "Sofá"],
        "product_description": ["<p>Soft &amp; deep</p>", None, "", "Suave", ""],
        "product_bullet_point": ["3 seats", "", None, "", ""],
        "product_brand": ["Acme", "Fleet", "Woody", "Acme", "Acme"],
        "product_color": ["grey", "red", "", "gris", ""],
        "product_locale": ["us", "us", "us", "es", "es"],
    })  # fmt: skip
    return examples, products


def esci(tmp: Path, examples: Edit | None = None, products: Edit | None = None, **cfg: object) -> dict:
    """Write the release with one edit applied; return the dataset config a run would use."""
    ex, pr = esci_frames()
    for name, frame, edit in ((EXAMPLES_FILE, ex, examples), (PRODUCTS_FILE, pr, products)):
        out = edit(frame) if edit else frame
        table = out if isinstance(out, pa.Table) else pa.Table.from_pandas(out, preserve_index=False)
        pq.write_table(table, tmp / name)
    return {"source": "esci", "cache_dir": str(tmp), "download": False, "splits": ["train", "test"], **cfg}


def set_cell(column: str, row: int, value: object) -> Edit:
    def edit(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        if value is None:  # a null cell; an integer column stays int64 in parquet
            df[column] = df[column].astype("Int64" if pd.api.types.is_integer_dtype(df[column]) else object)
        df.loc[row, column] = value
        return df

    return edit


def drop_column(column: str) -> Edit:
    return lambda df: df.drop(columns=[column])


def add_row(copy_of: int, **changes: object) -> Edit:
    def edit(df: pd.DataFrame) -> pd.DataFrame:
        row = df.iloc[[copy_of]].copy()
        for column, value in changes.items():
            row[column] = value
        return pd.concat([df, row], ignore_index=True)

    return edit


def raw_bytes(column: str, row: int, value: bytes, kind: pa.DataType = pa.binary()) -> Edit:
    """The column as parquet *binary* with these bytes in one row, as another tool might write it
    (no pandas metadata, which would otherwise turn the column back into text on reading). With
    ``kind=pa.string()`` the column is a parquet *string* column holding those bytes unchecked."""

    def edit(df: pd.DataFrame) -> pa.Table:
        table = pa.Table.from_pandas(df, preserve_index=False).replace_schema_metadata(None)
        cells = [None if v is None else str(v).encode() for v in df[column].astype(object)]
        cells[row] = value
        array = pa.array(cells, pa.binary()).view(kind)
        return table.set_column(table.column_names.index(column), column, array)

    return edit


def esci_corrupt(tmp: Path) -> dict:
    cfg = esci(tmp)
    (tmp / EXAMPLES_FILE).write_bytes(b"PAR1 this is not a parquet file")
    return cfg


# --- files: a valid catalogue (JSONL), queries (TSV) and TREC qrels with grades 0/1 ---------------

CATALOGUE = [{"id": "p1", "title": "Grey sofa"}, {"id": "p2", "title": "Running shoes"}, {"id": "p3", "title": "Oak table"}]
GOOD_FILES: dict[str, str | bytes] = {
    "catalogue.jsonl": "".join(json.dumps(row) + "\n" for row in CATALOGUE),
    "queries.tsv": "q1\tgrey sofa\nq2\trunning shoes\n",
    "qrels.txt": "q1 0 p1 1\nq1 0 p3 0\nq2 0 p2 1\n",
}


def files(tmp: Path, written: dict[str, str | bytes] | None = None, **cfg: object) -> dict:
    """Write the valid files plus ``written`` (name -> content, replacing or adding); return the config."""
    for name, content in {**GOOD_FILES, **(written or {})}.items():
        path = tmp / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    base = {"source": "files", "name": "hostile", "root": str(tmp), "catalogue": "catalogue.jsonl",
            "queries": "queries.tsv", "qrels": "qrels.txt"}  # fmt: skip
    return {**base, **cfg}


def jsonl(*rows: object) -> str:
    return "".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows)


def parquet_catalogue(tmp: Path, table: pa.Table) -> dict:
    pq.write_table(table, tmp / "cat.parquet")
    return files(tmp, catalogue="cat.parquet")


CSV = "id,title\np1,Grey sofa\np2,Running shoes\np3,Oak table\n"
TREC = "<DOC>\n<DOCNO>p1</DOCNO>\nGrey sofa\n</DOC>\n<DOC>\n<DOCNO>p2</DOCNO>\nRunning shoes\n</DOC>\n<DOC><DOCNO>p3</DOCNO>Oak table</DOC>\n"
TOPICS = "<top><num>q1</num><title>grey sofa</title></top>\n<top><num>q2</num><title>running shoes</title></top>\n"
Q_JSONL = jsonl({"id": "q1", "text": "grey sofa"}, {"id": "q2", "text": "running shoes"})

# --- the table: (id, writer, regex the DataError message must match) ---------------------------------

Writer = Callable[[Path], dict]
CASES: list[tuple[str, Writer, str]] = [
    # missing columns / fields
    ("esci-examples-missing-column", lambda t: esci(t, examples=drop_column("esci_label")), rf"{EX}: missing columns \['esci_label'\]"),
    ("esci-examples-missing-query", lambda t: esci(t, examples=drop_column("query")), rf"{EX}: missing columns \['query'\]"),
    ("esci-products-missing-column", lambda t: esci(t, products=drop_column("product_title")), rf"{PR}: missing columns \['product_title'\]"),
    ("files-catalogue-jsonl-missing-field", lambda t: files(t, {"catalogue.jsonl": jsonl(CATALOGUE[0], {"id": "p2"}, CATALOGUE[2])}), r"catalogue\.jsonl:2: missing fields \['title'\]"),
    ("files-catalogue-csv-missing-column", lambda t: files(t, {"cat.csv": "id,name\np1,Grey sofa\n"}, catalogue="cat.csv"), r"cat\.csv:1: CSV header lacks columns \['title'\]"),
    ("files-catalogue-csv-short-row", lambda t: files(t, {"cat.csv": "id,title,brand\np1,Grey sofa,Acme\np2,Shoes\n"}, catalogue="cat.csv", fields={"title": "title", "brand": "brand"}), r"cat\.csv:3: 2 CSV fields, the header has 3"),
    ("files-catalogue-parquet-missing-column", lambda t: parquet_catalogue(t, pa.table({"id": ["p1"], "name": ["sofa"]})), r"cat\.parquet: missing columns \['title'\]"),
    ("files-catalogue-trec-no-docno", lambda t: files(t, {"docs.trec": TREC.replace("<DOCNO>p2</DOCNO>", "")}, catalogue="docs.trec"), r"docs\.trec:5: <DOC> without <DOCNO>"),
    ("files-queries-tsv-no-tab", lambda t: files(t, {"queries.tsv": "q1\tgrey sofa\nq2 running shoes\n"}), r"queries\.tsv:2: expected 'id<TAB>text', found no tab"),
    ("files-queries-jsonl-missing-field", lambda t: files(t, {"q.jsonl": jsonl({"id": "q1", "text": "sofa"}, {"id": "q2", "query": "shoes"})}, queries="q.jsonl"), r"q\.jsonl:2: missing fields \['text'\]"),
    ("files-queries-trec-no-num", lambda t: files(t, {"topics.trec": TOPICS.replace("<num>q2</num>", "")}, queries="topics.trec"), r"topics\.trec:2: <top> without <num>"),
    ("files-qrels-missing-column", lambda t: files(t, {"qrels.txt": "q1 0 p1 1\nq1 p3 0\n"}), r"qrels\.txt:2: expected 4 columns 'qid iter docid grade', found 3"),
    # duplicate ids
    ("esci-duplicate-product-conflicting", lambda t: esci(t, products=add_row(1, product_title="Another shoe")), rf"{PR}: product id 'B02' appears twice with different text \(locale us\)"),
    ("esci-query-two-texts", lambda t: esci(t, examples=set_cell("query", 3, "trainers")), rf"{EX}: query 2 has 2 different texts"),
    ("esci-judgment-two-labels", lambda t: esci(t, examples=add_row(2, example_id=9, esci_label="I")), rf"{EX}: query 2 judges product B02 twice with different labels \(example 9\)"),
    ("files-duplicate-product-identical", lambda t: files(t, {"catalogue.jsonl": jsonl(*CATALOGUE, CATALOGUE[0])}), r"catalogue\.jsonl:4: duplicate product id 'p1' \(first at \S*catalogue\.jsonl:1\)"),
    ("files-duplicate-product-conflicting", lambda t: files(t, {"catalogue.jsonl": jsonl(*CATALOGUE, {"id": "p2", "title": "Sofa"})}), r"catalogue\.jsonl:4: duplicate product id 'p2' \(first at \S*catalogue\.jsonl:2\)"),
    ("files-duplicate-product-csv", lambda t: files(t, {"cat.csv": CSV + "p3,Oak table\n"}, catalogue="cat.csv"), r"cat\.csv:5: duplicate product id 'p3' \(first at \S*cat\.csv:4\)"),
    ("files-duplicate-product-parquet", lambda t: parquet_catalogue(t, pa.table({"id": ["p1", "p2", "p3", "p1"], "title": ["a", "b", "c", "a"]})), r"cat\.parquet row 3: duplicate product id 'p1' \(first at \S*cat\.parquet row 0\)"),
    ("files-duplicate-product-trec", lambda t: files(t, {"docs.trec": TREC + "<DOC><DOCNO>p2</DOCNO>x</DOC>\n"}, catalogue="docs.trec"), r"docs\.trec:10: duplicate product id 'p2' \(first at \S*docs\.trec:5\)"),
    ("files-duplicate-query-id", lambda t: files(t, {"queries.tsv": "q1\tgrey sofa\nq2\tshoes\nq1\tsofa\n"}), r"queries\.tsv:3: duplicate query id 'q1' \(first at \S*queries\.tsv:1\)"),
    # qrels naming unknown queries or products
    ("esci-qrels-unknown-product", lambda t: esci(t, examples=set_cell("product_id", 3, "B99")), rf"{EX} \(split 'test'\): qrels for query '2' name unknown product id 'B99'"),
    ("esci-qrels-product-of-other-locale", lambda t: esci(t, examples=set_cell("product_id", 3, "B04")), rf"{EX} \(split 'test'\): qrels for query '2' name unknown product id 'B04'"),
    ("files-qrels-unknown-query", lambda t: files(t, {"qrels.txt": "q1 0 p1 1\nq9 0 p2 1\n"}), r"qrels\.txt: 1 judgments name 1 unknown query ids \['q9'\].*drop_unknown_qrels"),
    ("files-qrels-unknown-product", lambda t: files(t, {"qrels.txt": "q1 0 p1 1\nq2 0 ghost 1\n"}), r"qrels\.txt: 1 judgments name 1 unknown product ids \['ghost'\]"),
    ("files-qrels-all-dropped", lambda t: files(t, {"qrels.txt": "q9 0 p1 1\nq1 0 ghost 1\n"}, drop_unknown_qrels=True), r"qrels\.txt: all 2 judgments name unknown query or product ids; none is left"),
    # empty or whitespace-only query text
    ("esci-query-whitespace", lambda t: esci(t, examples=lambda df: set_cell("query", 3, " \t ")(set_cell("query", 2, " \t ")(df))), rf"{EX}: query 2 has an empty text"),
    ("esci-query-null", lambda t: esci(t, examples=lambda df: set_cell("query", 1, None)(set_cell("query", 0, None)(df))), rf"{EX}: query 1 has an empty text"),
    ("files-query-tsv-whitespace", lambda t: files(t, {"queries.tsv": "q1\tgrey sofa\nq2\t  \t \n"}), r"queries\.tsv:2: query 'q2' has an empty text"),
    ("files-query-jsonl-empty", lambda t: files(t, {"q.jsonl": jsonl({"id": "q1", "text": ""}, {"id": "q2", "text": "shoes"})}, queries="q.jsonl"), r"q\.jsonl:1: query 'q1' has an empty text"),
    ("files-query-jsonl-null", lambda t: files(t, {"q.jsonl": jsonl({"id": "q1", "text": "sofa"}, {"id": "q2", "text": None})}, queries="q.jsonl"), r"q\.jsonl:2: query 'q2' has an empty text"),
    ("files-query-jsonl-not-text", lambda t: files(t, {"q.jsonl": jsonl({"id": "q1", "text": 5})}, queries="q.jsonl"), r"q\.jsonl:1: query 'q1': field 'text' is not a string"),
    ("files-query-trec-whitespace", lambda t: files(t, {"topics.trec": TOPICS.replace("running shoes", " \n ")}, queries="topics.trec"), r"topics\.trec:2: query 'q2' has an empty text"),
    # non-UTF-8 bytes
    ("esci-query-not-utf8", lambda t: esci(t, examples=raw_bytes("query", 2, b"caf\xe9")), rf"{EX}: example_id 2: column 'query' is not valid UTF-8 \(byte b'\\xe9' at position 3; 1 such rows\)"),
    ("esci-query-not-utf8-string-column", lambda t: esci(t, examples=raw_bytes("query", 2, b"\xc3", pa.string())), rf"{EX}: example_id 2: column 'query' is not valid UTF-8 \(byte b'\\xc3' at position 0"),
    ("esci-title-not-utf8", lambda t: esci(t, products=raw_bytes("product_title", 1, b"\xff shoe")), rf"{PR}: product_id 'B02': column 'product_title' is not valid UTF-8"),
    ("files-catalogue-jsonl-not-utf8", lambda t: files(t, {"catalogue.jsonl": GOOD_FILES["catalogue.jsonl"].encode() + b'{"id": "p4", "title": "caf\xe9"}\n'}), r"catalogue\.jsonl:4: not valid UTF-8 \(byte b'\\xe9' at column 27\)"),
    ("files-catalogue-csv-not-utf8", lambda t: files(t, {"cat.csv": b"id,title\np1,ok\np2,bad \xc3\x28\n"}, catalogue="cat.csv"), r"cat\.csv:3: not valid UTF-8"),
    ("files-catalogue-trec-not-utf8", lambda t: files(t, {"docs.trec": TREC.encode().replace(b"Oak", b"\x80ak")}, catalogue="docs.trec"), r"docs\.trec:9: not valid UTF-8"),
    ("files-catalogue-parquet-not-utf8", lambda t: parquet_catalogue(t, pa.table({"id": ["p1", "p2", "p3"], "title": pa.array([b"a", b"\xfe", b"c"], pa.binary())})), r"cat\.parquet: id 'p2': column 'title' is not valid UTF-8"),
    ("files-queries-tsv-not-utf8", lambda t: files(t, {"queries.tsv": b"q1\tgrey sofa\nq2\tcaf\xe9\n"}), r"queries\.tsv:2: not valid UTF-8"),
    ("files-queries-jsonl-not-utf8", lambda t: files(t, {"q.jsonl": b'{"id": "q1", "text": "\xe9"}\n'}, queries="q.jsonl"), r"q\.jsonl:1: not valid UTF-8"),
    ("files-queries-trec-not-utf8", lambda t: files(t, {"topics.trec": TOPICS.encode().replace(b"shoes", b"sh\xf6es")}, queries="topics.trec"), r"topics\.trec:2: not valid UTF-8"),
    ("files-qrels-not-utf8", lambda t: files(t, {"qrels.txt": b"q1 0 p1 1\nq2 0 p\xe92 1\n"}), r"qrels\.txt:2: not valid UTF-8"),
    # labels / grades outside the gain mapping
    ("esci-label-outside-mapping", lambda t: esci(t, examples=set_cell("esci_label", 2, "X")), rf"{EX}: example 2 \(query 2\) has label 'X', outside the mapping \['C', 'E', 'I', 'S'\] \(1 such rows\)"),
    ("esci-label-null", lambda t: esci(t, examples=set_cell("esci_label", 3, None)), rf"{EX}: example_id 3: column 'esci_label' is empty \(1 such rows\)"),
    ("files-grade-outside-mapping", lambda t: files(t, {"qrels.txt": "q1 0 p1 1\nq2 0 p2 7\n"}), r"qrels\.txt:2: grade 7 is not in the gains mapping \(grades \[0, 1\]\)"),
    ("files-grade-negative", lambda t: files(t, {"qrels.txt": "q1 0 p1 -1\n"}), r"qrels\.txt:1: grade -1 is not in the gains mapping"),
    ("files-grade-not-integer", lambda t: files(t, {"qrels.txt": "q1 0 p1 1\nq2 0 p2 E\n"}), r"qrels\.txt:2: grade 'E' is not an integer"),
    # an empty split
    ("esci-split-absent", lambda t: esci(t, examples=lambda df: df[df["split"] != "test"]), rf"{EX}: split 'test' is empty after filtering"),
    ("esci-split-only-other-locale", lambda t: esci(t, examples=lambda df: set_cell("product_locale", 3, "es")(set_cell("product_locale", 2, "es")(df))), rf"{EX}: split 'test' is empty after filtering \(locale='us'"),
    ("esci-split-only-large-version", lambda t: esci(t, examples=lambda df: set_cell("small_version", 3, 0)(set_cell("small_version", 2, 0)(df))), rf"{EX}: split 'test' is empty after filtering \(locale='us', version='small'"),
    ("files-queries-empty-file", lambda t: files(t, {"queries.tsv": ""}), r"queries\.tsv: no queries"),
    ("files-queries-blank-lines", lambda t: files(t, {"queries.tsv": "\n  \n\n"}), r"queries\.tsv: no queries"),
    ("files-split-empty-of-two", lambda t: files(t, {"train.tsv": "", "train.qrels": "t1 0 p1 1\n"}, queries=None, qrels=None, splits={"test": {"queries": "queries.tsv", "qrels": "qrels.txt"}, "train": {"queries": "train.tsv", "qrels": "train.qrels"}}), r"train\.tsv: no queries"),
    ("files-qrels-empty-file", lambda t: files(t, {"qrels.txt": "\n"}), r"qrels\.txt: no judgments"),
    # hostile ids and damaged files
    ("esci-null-query-id", lambda t: esci(t, examples=set_cell("query_id", 2, None)), rf"{EX}: example_id 2: column 'query_id' is empty \(1 such rows\)"),
    ("esci-null-product-id-in-examples", lambda t: esci(t, examples=set_cell("product_id", 0, None)), rf"{EX}: example_id 0: column 'product_id' is empty"),
    ("esci-null-product-id-in-products", lambda t: esci(t, products=set_cell("product_id", 2, None)), rf"{PR}: row 2 \(counting from 0\) has no product_id \(1 such rows\)"),
    ("esci-unknown-split-value", lambda t: esci(t, examples=set_cell("split", 3, "dev")), rf"{EX}: example 3 \(query 2\) has split 'dev', not one of \['train', 'test'\] \(1 such rows\)"),
    ("esci-examples-not-parquet", esci_corrupt, rf"{EX}: cannot read it as parquet"),
    ("files-catalogue-not-parquet", lambda t: files(t, {"cat.parquet": b"junk"}, catalogue="cat.parquet"), r"cat\.parquet: cannot read it as parquet"),
    ("files-catalogue-empty-id", lambda t: files(t, {"catalogue.jsonl": jsonl(CATALOGUE[0], {"id": " ", "title": "x"})}), r"catalogue\.jsonl:2: empty product id \(field 'id'\)"),
    ("files-catalogue-id-not-scalar", lambda t: files(t, {"catalogue.jsonl": jsonl(CATALOGUE[0], {"id": ["p2", "p3"], "title": "x"})}), r"catalogue\.jsonl:2: product id \(field 'id'\) must be text or a number"),
    ("files-query-jsonl-null-id", lambda t: files(t, {"q.jsonl": jsonl({"id": "q1", "text": "sofa"}, {"id": None, "text": "shoes"})}, queries="q.jsonl"), r"q\.jsonl:2: field 'id' must be a string or an integer, not None"),
]


@pytest.mark.parametrize(("write", "pattern"), [pytest.param(w, p, id=i) for i, w, p in CASES])
def test_hostile_input_is_a_clear_data_error(tmp_path: Path, write: Writer, pattern: str) -> None:
    cfg = write(tmp_path)
    with pytest.raises(DataError) as err:
        # as the pipeline does before any index work: load, then take the evaluated split (an empty
        # split is loaded as such -- identity and RM3 need no train split -- and refused when used)
        load_dataset(cfg).split("test")
    message = str(err.value)
    assert re.search(pattern, message), f"pattern {pattern!r} not in message {message!r}"
    assert "\n" not in message  # one line, as the CLI prints it


def test_case_ids_are_unique() -> None:
    ids = [case[0] for case in CASES]
    assert len(ids) == len(set(ids))


# --- the valid starting points load, and the drop/merge rules are counted ---------------------------


def test_valid_esci_loads_and_keeps_one_locale(tmp_path: Path) -> None:
    ds = load_dataset(esci(tmp_path))
    assert [q.text for q in ds.split("train").queries] == ["grey sofa"]
    assert ds.split("test").qrels == {"2": {"B02": 3, "B01": 2}}
    assert ds.product_index()["B01"].title == "Grey sofa"  # the es row of B01 is another locale, not a clash
    assert "B04" not in ds.product_index()


def test_valid_files_load(tmp_path: Path) -> None:
    ds = load_dataset(files(tmp_path))
    assert [q.id for q in ds.split("test").queries] == ["q1", "q2"]
    assert ds.split("test").qrels == {"q1": {"p1": 1, "p3": 0}, "q2": {"p2": 1}}


def test_esci_identical_repeated_product_is_merged_and_counted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="leser_bench.data.esci"):
        ds = load_dataset(esci(tmp_path, products=lambda df: add_row(1)(add_row(1)(df))))
    assert sorted(p.id for p in ds.products) == ["B01", "B02", "B03"]
    assert "2 repeated rows of a product with identical text merged (locale us)" in caplog.text
    assert PRODUCTS_FILE in caplog.text


def test_files_drop_unknown_qrels_is_counted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg = files(tmp_path, {"qrels.txt": "q1 0 p1 1\nq1 0 ghost 1\nq9 0 p1 1\nq9 0 p2 0\nq2 0 p2 1\n"}, drop_unknown_qrels=True)
    with caplog.at_level(logging.WARNING, logger="leser_bench.data.files"):
        ds = load_dataset(cfg)
    assert ds.split("test").qrels == {"q1": {"p1": 1}, "q2": {"p2": 1}}
    assert "qrels.txt: dropped 3 judgments naming unknown ids (2 for 1 unknown queries, 1 for unknown products)" in caplog.text


def test_esci_binary_text_columns_with_valid_utf8_are_read_as_text(tmp_path: Path) -> None:
    """A binary column holding good UTF-8 is text, not ``"b'...'"``."""
    ds = load_dataset(esci(tmp_path, products=raw_bytes("product_title", 1, "Trail shoe é".encode())))
    assert ds.product_index()["B02"].title == "Trail shoe é"


# --- end to end: the CLI fails at dataset load with exit code 2 and no traceback -------------------


def test_cli_hostile_files_dataset_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    files(data, {"queries.tsv": b"q1\tgrey sofa\nq2\tcaf\xe9 table\n"})
    args = [
        "dataset=vaswani", "dataset.name=hostile", f"dataset.catalogue={data / 'catalogue.jsonl'}",
        f"dataset.queries={data / 'queries.tsv'}", f"dataset.qrels={data / 'qrels.txt'}",
        f"hydra.run.dir={tmp_path / 'run'}", f"cache_dir={tmp_path / 'cache'}",
    ]  # fmt: skip
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    result = subprocess.run([sys.executable, "-m", "leser_bench", *args], capture_output=True, text=True,
                            cwd=REPO, env=env, timeout=300)  # fmt: skip
    assert result.returncode == 2, result.stderr[-2000:]
    assert re.search(rf"{re.escape(str(data / 'queries.tsv'))}:2: not valid UTF-8", result.stderr), result.stderr[-2000:]
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "cache").exists()  # failed before any index work
