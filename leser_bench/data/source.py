"""What a data source declares, once, next to its code: a :class:`DataSource`.

``dataset.source`` in a config names one (see :mod:`leser_bench.data.loading` for how it is found); the
rest of the ``dataset`` section is parsed into its ``config_class`` (unknown keys refused), ``check``
refuses what cannot be loaded before any work, and ``load`` returns the :class:`Dataset`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from leser_bench.data.records import Dataset


@dataclass(frozen=True)
class DataSource:
    """Everything the harness needs to know about one kind of data."""

    name: str
    #: the dataclass of its ``dataset`` keys (``source`` aside): the one place their defaults live.
    config_class: type
    #: ``load(config) -> Dataset``; bad input is a DataError naming the file, line or id at fault.
    load: Callable[[Any], Dataset]
    #: ``check(config)``: refuses (DataError) what cannot be loaded -- missing files, data absent from a
    #: cache with no network -- when the config is validated, before any work. Cheap: no data is read.
    check: Callable[[Any], object] | None = None
