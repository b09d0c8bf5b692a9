"""From a ``dataset`` config to a :class:`Dataset`: one loader per ``source``, imported when used."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from leser_bench.config import section
from leser_bench.data.records import Dataset, DataError

#: source -> (module, config dataclass, loader function)
SOURCES: dict[str, tuple[str, str, str]] = {
    "world": ("leser_bench.data.world", "WorldConfig", "generate_world"),
    "esci": ("leser_bench.data.esci", "EsciConfig", "load_esci"),
    "files": ("leser_bench.data.files", "FilesConfig", "load_files"),
}


def dataset_config(dataset_cfg: Mapping[str, Any]) -> tuple[str, Any]:
    """Validate the dataset config (before any work) and return (source, config object)."""
    values = dict(dataset_cfg)
    source = values.pop("source", None)
    if source not in SOURCES:
        raise DataError(f"dataset.source={source!r} is not known; allowed: {sorted(SOURCES)}")
    module_name, config_name, _ = SOURCES[source]
    config_class = getattr(importlib.import_module(module_name), config_name)
    return source, section(config_class, values, f"dataset ({source})", error=DataError)


def load_dataset(dataset_cfg: Mapping[str, Any]) -> Dataset:
    source, config = dataset_config(dataset_cfg)
    module_name, _, loader_name = SOURCES[source]
    return getattr(importlib.import_module(module_name), loader_name)(config)
