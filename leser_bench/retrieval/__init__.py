"""Retrieval: the Pyserini BM25 index of the catalogue and the Retriever that searches it."""

from leser_bench.retrieval.index import IndexConfig, build_index
from leser_bench.retrieval.retriever import Retriever, RetrieverConfig, Run
from leser_bench.retrieval.sanitize import sanitize_query

__all__ = ["IndexConfig", "Retriever", "RetrieverConfig", "Run", "build_index", "sanitize_query"]
