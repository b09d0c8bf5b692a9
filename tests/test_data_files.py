"""Generic files loader on the real Vaswani collection and on small hand-written files for every
format and error path."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest

from leser_bench.data.files import FilesConfig, gain_mapping, load_files
from leser_bench.data.records import DataError

VASWANI = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "vaswani"


def vaswani_config(**kw: object) -> FilesConfig:
    return FilesConfig(
        name="vaswani", root=str(VASWANI), catalogue="doc-text.trec", queries="query-text.trec", qrels="qrels", **kw
    )


@pytest.mark.skipif(not (VASWANI / "qrels").is_file(), reason=f"Vaswani collection not found at {VASWANI}")
def test_vaswani_exact_sizes() -> None:
    ds = load_files(vaswani_config())
    split = ds.split("test")
    assert len(ds.products) == 11429
    assert len(split.queries) == 93
    assert sum(len(d) for d in split.qrels.values()) == 2083
    assert {g for d in split.qrels.values() for g in d.values()} == {1}
    assert split.queries[0].id == "1"
    assert split.queries[0].text == "MEASUREMENT OF DIELECTRIC CONSTANT OF LIQUIDS BY THE USE OF MICROWAVE TECHNIQUES"
    first = ds.product_index()["1"]
    assert first.title == "" and first.description.startswith("compact memories have flexible capacities")
    assert first.description.endswith("access is described")
    assert ds.gains.gain_of_grade() == {0: 0.0, 1: 1.0}
    assert ds.summary()["test_judgments"] == 2083 and not ds.generated
    assert ds.product_index()["11429"].description  # the last document is read too


@pytest.mark.skipif(not (VASWANI / "qrels").is_file(), reason=f"Vaswani collection not found at {VASWANI}")
def test_vaswani_text_into_title_and_split_name() -> None:
    ds = load_files(vaswani_config(trec_text_field="title", split="eval"))
    assert list(ds.splits) == ["eval"]
    assert ds.product_index()["1"].title.startswith("compact memories") and ds.product_index()["1"].description == ""


# --- small files: formats -------------------------------------------------------------------------


def write(folder: Path, name: str, content: str | bytes) -> str:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return name


CATALOGUE_JSONL = "\n".join(
    json.dumps(row)
    for row in [
        {"pid": "p1", "name": "Grey sofa", "desc": "<p>A soft &amp; deep couch</p>", "bl": ["3 seats", "linen"], "mk": "Acme"},
        {"pid": "p2", "name": "Running shoes", "desc": None, "bl": "light", "mk": "Fleet"},
        {"pid": 3, "name": "Loveseat", "desc": "small sofa", "bl": "", "mk": ""},
    ]
)
FIELDS = {"title": "name", "description": "desc", "bullets": "bl", "brand": "mk"}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write(tmp_path, "catalogue.jsonl", CATALOGUE_JSONL + "\n")
    write(tmp_path, "queries.tsv", "q1\tcouch\nq2\tsneakers\n\n")
    write(tmp_path, "qrels.txt", "q1 0 p1 2\nq1 0 3 1\nq2 0 p2 2\nq2 0 p1 0\n")
    return tmp_path


def config(folder: Path, **kw: object) -> FilesConfig:
    base = dict(
        root=str(folder), catalogue="catalogue.jsonl", fields=FIELDS, id_field="pid",
        queries="queries.tsv", qrels="qrels.txt", gains={0: 0.0, 1: 0.5, 2: 1.0},
    )  # fmt: skip
    base.update(kw)
    return FilesConfig(**base)  # type: ignore[arg-type]


def test_jsonl_catalogue_tsv_queries(folder: Path) -> None:
    ds = load_files(config(folder))
    p = ds.product_index()
    assert p["p1"].title == "Grey sofa" and p["p1"].description == "A soft & deep couch"
    assert p["p1"].bullets == "3 seats\nlinen" and p["p1"].brand == "Acme"
    assert p["p2"].description == "" and p["3"].title == "Loveseat"
    split = ds.split("test")
    assert [(q.id, q.text) for q in split.queries] == [("q1", "couch"), ("q2", "sneakers")]
    assert split.qrels == {"q1": {"p1": 2, "3": 1}, "q2": {"p2": 2, "p1": 0}}
    assert ds.gains.gain_of_grade() == {0: 0.0, 1: 0.5, 2: 1.0}
    assert gain_mapping({1: 1.0}).grades == {"1": 1}


def test_csv_and_parquet_catalogues(folder: Path) -> None:
    write(folder, "cat.csv", 'pid,name,desc,bl,mk\np1,Grey sofa,"A soft, deep\ncouch",3 seats,Acme\np2,Running shoes,,light,Fleet\n3,Loveseat,small sofa,,\n')
    ds = load_files(config(folder, catalogue="cat.csv"))
    assert ds.product_index()["p1"].description == "A soft, deep couch"
    assert len(ds.products) == 3
    pd.DataFrame(
        {"pid": ["p1", "p2", "3"], "name": ["Grey sofa", "Running shoes", "Loveseat"], "desc": ["x", None, "y"], "bl": ["", "", ""], "mk": ["A", "B", None]}
    ).to_parquet(folder / "cat.parquet")
    ds = load_files(config(folder, catalogue="cat.parquet"))
    assert ds.product_index()["p2"].description == "" and ds.product_index()["3"].brand == ""


def test_jsonl_queries_with_custom_fields_and_trec_topics(folder: Path) -> None:
    write(folder, "q.jsonl", '{"qid": "q1", "query": "couch"}\n{"qid": "q2", "query": "sneakers"}\n')
    ds = load_files(config(folder, queries="q.jsonl", query_id_field="qid", query_text_field="query"))
    assert [q.text for q in ds.split("test").queries] == ["couch", "sneakers"]
    # classic TREC topics: unclosed tags, "Number:" prefix, a <desc> after the title
    write(
        folder, "topics",
        "<top>\n<num> Number: q1\n<title> couch\n\n<desc> Description:\nA sofa.\n</top>\n\n"
        "<top><num>q2</num><title>sneakers</title><desc>Trainers.</desc></top>\n",
    )  # fmt: skip
    ds = load_files(config(folder, queries="topics"))
    assert [(q.id, q.text) for q in ds.split("test").queries] == [("q1", "couch"), ("q2", "sneakers")]
    write(folder, "qrels.txt", "q1 0 p1 2\n")
    ds = load_files(config(folder, queries="topics", topic_field="desc", qrels="qrels.txt"))
    assert ds.split("test").queries[0].text == "Description: A sofa."


def test_trec_docs_one_line(folder: Path) -> None:
    write(folder, "docs.trec", "<DOC><DOCNO> p1 </DOCNO>grey sofa</DOC>\n<doc>\n<docno>p2</docno><TEXT>running shoes</TEXT>\n</doc>\n<DOC><DOCNO>3</DOCNO>loveseat</DOC>")
    ds = load_files(config(folder, catalogue="docs.trec"))
    assert {p.id: p.description for p in ds.products} == {"p1": "grey sofa", "p2": "running shoes", "3": "loveseat"}


def test_per_split_files(folder: Path) -> None:
    write(folder, "train.tsv", "t1\tsofa\n")
    write(folder, "train.qrels", "t1 0 p1 1\n")
    ds = load_files(
        config(folder, queries=None, qrels=None, splits={"train": {"queries": "train.tsv", "qrels": "train.qrels"}, "test": {"queries": "queries.tsv", "qrels": "qrels.txt"}})
    )
    assert list(ds.splits) == ["train", "test"] and ds.split("train").qrels == {"t1": {"p1": 1}}
    with pytest.raises(DataError, match="either queries/qrels"):
        load_files(config(folder, splits={"train": {"queries": "train.tsv", "qrels": "train.qrels"}}))


def test_drop_unknown_qrels_counts(folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    write(folder, "qrels.txt", "q1 0 p1 2\nq1 0 ghost 1\nq9 0 p1 1\nq9 0 p2 1\nq2 0 p2 2\n")
    with caplog.at_level(logging.WARNING):
        ds = load_files(config(folder, drop_unknown_qrels=True))
    assert ds.split("test").qrels == {"q1": {"p1": 2}, "q2": {"p2": 2}}
    assert "dropped 3 judgments" in caplog.text and "qrels.txt" in caplog.text


# --- small files: errors ----------------------------------------------------------------------------


def expect(cfg: FilesConfig, *parts: str) -> str:
    with pytest.raises(DataError) as err:
        load_files(cfg)
    msg = str(err.value)
    for part in parts:
        assert part in msg, (part, msg)
    return msg


def test_unknown_qrels_named(folder: Path) -> None:
    write(folder, "qrels.txt", "q1 0 p1 2\nq1 0 ghost 1\nq9 0 p1 1\n")
    expect(config(folder), "qrels.txt", "'q9'", "'ghost'", "drop_unknown_qrels")


def test_bad_lines_name_file_and_line(folder: Path) -> None:
    write(folder, "queries.tsv", "q1\tcouch\nq2 sneakers\n")
    expect(config(folder), "queries.tsv:2", "no tab")
    write(folder, "queries.tsv", "q1\tcouch\n")
    write(folder, "qrels.txt", "q1 0 p1 2\nq1 p1 2\n")
    expect(config(folder), "qrels.txt:2", "4 columns")
    write(folder, "qrels.txt", "q1 0 p1 2\n\nq1 0 p2 high\n")
    expect(config(folder), "qrels.txt:3", "'high' is not an integer")
    write(folder, "qrels.txt", "q1 0 p1 7\n")
    expect(config(folder), "qrels.txt:1", "grade 7 is not in the gains mapping")
    write(folder, "qrels.txt", "q1 0 p1 2\nq1 0 p1 1\n")
    expect(config(folder), "qrels.txt:2", "another grade")
    write(folder, "qrels.txt", "q1 0 p1 2\n")
    write(folder, "catalogue.jsonl", CATALOGUE_JSONL + '\n{"pid": "p4", "name": "x"\n')
    expect(config(folder), "catalogue.jsonl:4", "not valid JSON")
    write(folder, "catalogue.jsonl", CATALOGUE_JSONL + '\n{"pid": "p1", "name": "x", "desc": "", "bl": "", "mk": ""}\n')
    expect(config(folder), "catalogue.jsonl:4", "duplicate product id 'p1'", "catalogue.jsonl:1")


def test_non_utf8_names_file_and_line(folder: Path) -> None:
    write(folder, "queries.tsv", b"q1\tcouch\nq2\tcaf\xe9 table\n")
    expect(config(folder), "queries.tsv:2", "not valid UTF-8")
    write(folder, "queries.tsv", "q1\tcouch\nq2\tsneakers\n")
    write(folder, "catalogue.jsonl", (CATALOGUE_JSONL + "\n").encode() + b'{"pid": "p9", "name": "\xff"}\n')
    expect(config(folder), "catalogue.jsonl:4", "not valid UTF-8")
    write(folder, "cat.csv", b"pid,name\np1,ok\np2,bad \xc3\x28\n")
    expect(config(folder, catalogue="cat.csv", fields={"title": "name"}), "cat.csv:3", "not valid UTF-8")


def test_empty_query_names_id(folder: Path) -> None:
    write(folder, "queries.tsv", "q1\tcouch\nq2\t   \n")
    expect(config(folder), "queries.tsv:2", "query 'q2' has an empty text")
    write(folder, "q.jsonl", '{"id": "q1", "text": "couch"}\n{"id": "q2", "text": null}\n')
    expect(config(folder, queries="q.jsonl"), "q.jsonl:2", "query 'q2' has an empty text")
    write(folder, "topics", "<top><num>q1</num><title>couch</title></top>\n<top><num>q2</num><title> </title></top>\n")
    expect(config(folder, queries="topics"), "topics:2", "query 'q2' has an empty text")
    write(folder, "queries.tsv", "q1\tcouch\nq1\tsofa\n")
    expect(config(folder), "queries.tsv:2", "duplicate query id 'q1'")


def test_missing_fields(folder: Path) -> None:
    write(folder, "catalogue.jsonl", CATALOGUE_JSONL + '\n{"pid": "p4", "desc": "", "bl": "", "mk": ""}\n')
    expect(config(folder), "catalogue.jsonl:4", "missing fields ['name']")
    write(folder, "catalogue.jsonl", CATALOGUE_JSONL + "\n")
    write(folder, "q.jsonl", '{"id": "q1", "text": "couch"}\n{"id": "q2", "query": "x"}\n')
    expect(config(folder, queries="q.jsonl"), "q.jsonl:2", "missing fields ['text']")
    write(folder, "cat.csv", "pid,name\np1,sofa\n")
    expect(config(folder, catalogue="cat.csv"), "cat.csv:1", "lacks columns ['desc', 'bl', 'mk']")
    write(folder, "cat2.csv", "pid,name,desc,bl,mk\np1,sofa,,,\np2,shoes\n")
    expect(config(folder, catalogue="cat2.csv"), "cat2.csv:3", "2 CSV fields")
    pd.DataFrame({"pid": ["p1"], "name": ["sofa"]}).to_parquet(folder / "cat.parquet")
    expect(config(folder, catalogue="cat.parquet"), "cat.parquet", "missing columns ['desc', 'bl', 'mk']")
    expect(config(folder, fields={"colour": "mk"}), "'colour'", "not Product fields")
    expect(config(folder, catalogue="nope.jsonl"), "nope.jsonl", "file not found")


def test_bad_trec_files(folder: Path) -> None:
    write(folder, "docs.trec", "<DOC>\n<DOCNO>p1</DOCNO>\nsofa\n</DOC>\n<DOC>\n<DOCNO>p2</DOCNO>\nshoes\n")
    expect(config(folder, catalogue="docs.trec"), "docs.trec:5", "never closed")
    write(folder, "docs.trec", "<DOC>\n<DOCNO>p1</DOCNO>\nsofa\n<DOC>\n<DOCNO>p2</DOCNO>\n</DOC>\n")
    expect(config(folder, catalogue="docs.trec"), "docs.trec:1", "not closed before the next <DOC> (line 4)")
    write(folder, "docs.trec", "<DOC>\n<DOCNO>p1</DOCNO>\nsofa\n</DOC>\n<DOC>\nno number\n</DOC>\n")
    expect(config(folder, catalogue="docs.trec"), "docs.trec:5", "without <DOCNO>")
    write(folder, "docs.trec", "<DOC>\n<DOCNO>p1</DOCNO>\nsofa\n</DOC>\nstray text\n")
    expect(config(folder, catalogue="docs.trec"), "docs.trec:5", "text outside")
    write(folder, "topics", "<top><num>q1</num><title>couch</title></top>\n<top><title>x</title></top>\n")
    expect(config(folder, queries="topics"), "topics:2", "without <num>")
    expect(config(folder, queries="topics", topic_field="desc"), "topics:1", "topic 'q1' has no <desc>")
