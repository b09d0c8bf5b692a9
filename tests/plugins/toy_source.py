"""A data source defined outside the package, as a user's plugin would be: this module and
tests/plugins/conf/dataset/toy.yaml are all it takes (tests/test_plugins.py runs it)."""

from __future__ import annotations

from dataclasses import dataclass

from leser_bench.data.source import DataSource
from leser_bench.data.records import DataError, Dataset, GainMapping, Product, Query, Split

COLOURS = ("red", "blue", "green", "black", "white", "yellow")
ITEMS = ("lamp", "chair", "table", "mug", "shelf")


@dataclass(frozen=True)
class ToyConfig:
    """A catalogue of every colour x item x ``copies`` products; one query per colour x item."""

    name: str = "toy"
    copies: int = 3


def check_toy(config: ToyConfig) -> None:
    if config.copies < 1:
        raise DataError(f"dataset.copies must be >= 1, got {config.copies}")


def load_toy(config: ToyConfig) -> Dataset:
    products, queries, qrels = [], [], {}
    for colour in COLOURS:
        for item in ITEMS:
            qid = f"{colour}-{item}"
            queries.append(Query(id=qid, text=f"{colour} {item}"))
            for copy in range(config.copies):
                products.append(Product(id=f"{qid}-{copy}", title=f"{colour} {item}", description=f"model {copy}"))
            # the item in every other colour is judged not relevant
            qrels[qid] = {f"{c}-{item}-{copy}": int(c == colour) for c in COLOURS for copy in range(config.copies)}
    return Dataset(name=config.name, products=products, splits={"test": Split("test", queries, qrels)},
                   gains=GainMapping(grades={"0": 0, "1": 1}, gains={"0": 0.0, "1": 1.0}),
                   description="a toy catalogue from a plugin module")


TOY = DataSource("toy", ToyConfig, load_toy, check=check_toy)
