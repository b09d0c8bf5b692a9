"""Plugins: one lookup for every kind of thing a config names by ``kind:`` or ``source:``.

A :class:`PluginTable` holds the objects of one kind (method kinds, data sources) and finds one by its
name, in this order:

1. names added in this process with :meth:`PluginTable.register`;
2. built-in names, each mapped to the ``module:ATTRIBUTE`` of its object (imported only when used);
3. entry points of installed packages in the table's group (``leser_bench.methods``,
   ``leser_bench.sources``), read from the packages' metadata when a name is looked up, never at import:
   a package declares ``[project.entry-points."leser_bench.methods"] repeat = "my_pkg.repeat:REPEAT"``
   and ``kind: repeat`` finds it once the package is installed;
4. ``module:ATTRIBUTE`` naming the object in any importable module.

Whatever is found must be an instance of the table's class. An entry point that cannot be imported, or
that names something else, is an error naming the entry point and the package that declares it.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Generic, TypeVar

from leser_bench.errors import ConfigError

T = TypeVar("T")


def _package(entry_point: metadata.EntryPoint) -> str:
    dist = getattr(entry_point, "dist", None)
    if dist is None:
        return "an unknown package"
    return f"package {dist.metadata['Name']!r} {dist.version}"


@dataclass
class PluginTable(Generic[T]):
    """The objects of one kind: built in, registered, declared by installed packages, or ``module:ATTRIBUTE``."""

    #: what one object is called in messages ("method kind", "data source").
    what: str
    #: the class every object of the table is an instance of (it has a ``name``).
    cls: type
    #: the entry-point group installed packages declare their objects in.
    group: str
    #: built-in name -> "module:ATTRIBUTE".
    builtin: Mapping[str, str]
    #: the error raised for an unknown or broken name.
    error: type[Exception] = ConfigError
    registered: dict[str, Any] = field(default_factory=dict)

    def register(self, obj: T) -> T:
        """Make ``obj`` known by its ``name`` for this process (e.g. a plugin defined in a notebook)."""
        if not isinstance(obj, self.cls):
            raise TypeError(f"register() takes a {self.cls.__name__}, not a {type(obj).__name__}")
        name = obj.name  # type: ignore[attr-defined]
        if name in self.builtin:
            raise self.error(f"{self.what} {name!r} is built in; choose another name")
        self.registered[name] = obj
        return obj

    def entry_points(self) -> dict[str, list[metadata.EntryPoint]]:
        """Entry-point name -> the entry points of that name in the group (read now, not cached)."""
        found: dict[str, list[metadata.EntryPoint]] = {}
        for entry_point in metadata.entry_points(group=self.group):
            found.setdefault(entry_point.name, []).append(entry_point)
        return found

    def names(self) -> list[str]:
        return sorted({*self.builtin, *self.registered, *self.entry_points()})

    def find(self, name: object, where: str) -> T:
        """The object ``name`` stands for; ``where`` (the config key) starts every error message."""
        if isinstance(name, str) and name in self.registered:
            return self.registered[name]
        if isinstance(name, str) and name in self.builtin:
            return self.load(self.builtin[name], where)
        declared = self.entry_points() if isinstance(name, str) else {}
        if isinstance(name, str) and name in declared:
            return self._from_entry_point(declared[name], where)
        if isinstance(name, str) and ":" in name:
            return self.load(name, where)
        plugins = (f"; entry points of group {self.group!r}: {sorted(declared)}" if declared else
                   f"; no installed package declares entry points of group {self.group!r}")
        registered = f"; registered: {sorted(self.registered)}" if self.registered else ""
        raise self.error(f"{where}={name!r} is not a known {self.what}; allowed: {self.names()} "
                         f"(built in: {sorted(self.builtin)}{registered}{plugins}) "
                         f"or 'module:ATTRIBUTE' naming a {self.cls.__name__}")

    def load(self, target: str, where: str) -> T:
        """The object at ``module:ATTRIBUTE``."""
        module_name, _, attribute = target.partition(":")
        try:
            obj = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError, ValueError) as exc:
            raise self.error(f"{where}: cannot load the {self.what} {target!r} ({exc})") from None
        return self._checked(obj, where, repr(target))

    def _from_entry_point(self, entry_points: list[metadata.EntryPoint], where: str) -> T:
        targets = {ep.value for ep in entry_points}
        first = entry_points[0]
        if len(targets) > 1:
            declared = ", ".join(f"{_package(ep)} ({ep.value})" for ep in entry_points)
            raise self.error(f"{where}: {len(entry_points)} installed packages declare the {self.what} {first.name!r} "
                             f"(entry-point group {self.group!r}): {declared}; uninstall one, or name the object "
                             f"itself as 'module:ATTRIBUTE'")
        described = f"entry point {first.name!r} = {first.value!r} (group {self.group!r}) of {_package(first)}"
        try:
            obj = first.load()
        except Exception as exc:  # a plugin's import may raise anything; say whose it is
            raise self.error(f"{where}: the {described} cannot be loaded: {type(exc).__name__}: {exc}") from None
        return self._checked(obj, where, f"the {described}")

    def _checked(self, obj: object, where: str, described: str) -> T:
        if not isinstance(obj, self.cls):
            raise self.error(f"{where}: {described} is a {type(obj).__name__}, not a {self.cls.__name__}")
        return obj  # type: ignore[return-value]
