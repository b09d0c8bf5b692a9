"""The embedded world: a seeded generator of a GENERATED, ESCI-shaped product search data set.

``generate_world(WorldConfig(seed=13))`` returns a :class:`~leser_bench.data.records.Dataset` with
products named by several synonyms of their type, queries of several kinds (type, attribute,
brand, specific, misspelling, accessory, vague) and E/S/C/I judgments. Each query's ``meta``
holds its ``kind``, its ``product_types`` and ``oracle_terms`` (the true synonyms of those types).
"""

from leser_bench.data.source import DataSource
from leser_bench.data.world.generate import WorldConfig, generate_world
from leser_bench.data.world.queries import KINDS

__all__ = ["KINDS", "WORLD", "WorldConfig", "generate_world"]

#: ``dataset.source: world``.
WORLD = DataSource("world", WorldConfig, generate_world)
