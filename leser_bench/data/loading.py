"""From a ``dataset`` config to a :class:`Dataset`: the one table of data sources.

``dataset.source`` is a built-in name (:data:`SOURCES` maps it to the ``module:ATTRIBUTE`` of its
:class:`DataSource`, imported only when used), a name added with :func:`register_source`, a name declared
by an installed package in the entry-point group ``leser_bench.sources``, or ``module:ATTRIBUTE`` naming a
DataSource in any importable module (the lookup is :class:`leser_bench.plugins.PluginTable`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from leser_bench.config import section
from leser_bench.data.records import Dataset, DataError
from leser_bench.data.source import DataSource
from leser_bench.plugins import PluginTable

#: source name -> "module:ATTRIBUTE" of its DataSource.
SOURCES: dict[str, str] = {
    "world": "leser_bench.data.world:WORLD",
    "esci": "leser_bench.data.esci:ESCI",
    "files": "leser_bench.data.files:FILES",
    "ir_datasets": "leser_bench.data.irds:IR_DATASETS",
}
#: entry-point group in which installed packages declare their DataSources.
ENTRY_POINT_GROUP = "leser_bench.sources"
_TABLE: PluginTable[DataSource] = PluginTable("data source", DataSource, ENTRY_POINT_GROUP, SOURCES, DataError)


def register_source(source: DataSource) -> DataSource:
    """Make ``source`` known by its name for this process."""
    return _TABLE.register(source)


def known_sources() -> list[str]:
    """Built-in, registered and entry-point source names."""
    return _TABLE.names()


def source_of(name: object) -> DataSource:
    """The DataSource ``dataset.source`` names; an unknown one is a DataError listing the known ones."""
    return _TABLE.find(name, "dataset.source")


def dataset_config(dataset_cfg: Mapping[str, Any]) -> tuple[DataSource, Any]:
    """Validate the dataset config (before any work) and return (source, config object)."""
    values = dict(dataset_cfg)
    source = source_of(values.pop("source", None))
    config = section(source.config_class, values, f"dataset ({source.name})", error=DataError)
    if source.check is not None:
        source.check(config)
    return source, config


def load_dataset(dataset_cfg: Mapping[str, Any]) -> Dataset:
    source, config = dataset_config(dataset_cfg)
    return source.load(config)
