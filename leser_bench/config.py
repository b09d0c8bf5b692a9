"""One strict parser for config sections: a mapping from a YAML group -> the dataclass that owns its keys.

The dataclass is the single source of defaults (``leser_bench/conf/`` group files repeat them for users to read, and
tests/test_config_defaults.py keeps the two equal); :func:`section` refuses unknown keys, naming the
key and the allowed ones, turns lists into tuples where the field is a tuple, and reports a value of
the wrong type as a config error instead of a traceback.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any, TypeVar

from leser_bench.errors import ConfigError

T = TypeVar("T")

#: the package's Hydra config folder (``config.yaml`` and the groups). It ships inside the package, so an
#: installed wheel composes the same configs as a checkout; every reader (the CLIs' composition, the
#: method list, the tests) uses this one path. A user's own folder is added with ``--config-dir`` or
#: ``hydra.searchpath``, never by copying this one.
CONF_DIR = Path(__file__).resolve().parent / "conf"

#: field annotations (as written, ``from __future__ import annotations``) whose YAML lists become tuples.
_TUPLE_TYPES = ("tuple", "Sequence", "Collection")


def _is_tuple_type(annotation: Any) -> bool:
    text = str(annotation).removeprefix("typing.").removeprefix("collections.abc.")
    return text.startswith(_TUPLE_TYPES)


def plain(values: Any) -> dict[str, Any]:
    """A plain dict from None, a mapping or an OmegaConf container (interpolations resolved)."""
    if values is None:
        return {}
    if type(values).__module__.startswith("omegaconf"):
        from omegaconf import OmegaConf  # noqa: PLC0415 - only when given one

        values = OmegaConf.to_container(values, resolve=True)
    if not isinstance(values, Mapping):
        raise ConfigError(f"expected a mapping of keys, got {type(values).__name__}")
    return dict(values)


def check_keys(values: Collection[str], allowed: Collection[str], where: str, *,
               error: type[Exception] = ConfigError, label: str | None = None) -> None:
    """Refuse keys outside ``allowed``: ``<where>: unknown keys ['x']; allowed keys: a, b``.

    ``label`` keeps the older wording some callers are known by (``unknown <label> config keys …``)."""
    unknown = sorted(set(values) - set(allowed), key=str)
    if not unknown:
        return
    listed = ", ".join(map(str, allowed))
    if label is not None:
        raise error(f"unknown {label} config keys {unknown}; allowed keys: {listed}")
    raise error(f"{where}: unknown keys {unknown}; allowed keys: {listed}")


def field_names(cls: type) -> list[str]:
    """The dataclass's field names in declaration order (the order its YAML group lists them)."""
    return [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]


def defaults(cls: type) -> dict[str, Any]:
    """field name -> default value (a fresh one for ``default_factory`` fields) of a dataclass."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out


def default(cls: type, name: str) -> Any:
    """The default of one field (KeyError when it has none)."""
    return defaults(cls)[name]


def section(cls: type[T], values: Any, where: str, *, error: type[Exception] = ConfigError,
            nested: Mapping[str, Callable[[Any], Any]] | None = None, label: str | None = None) -> T:
    """``cls`` from a config section: unknown keys refused (see :func:`check_keys`), YAML lists turned
    into tuples for tuple-typed fields, ``nested`` sections built by their own parser, and a value of
    the wrong type reported as ``error`` naming ``where``. Missing keys take the dataclass default."""
    try:
        values = plain(values)
    except ConfigError as exc:
        raise error(f"{where}: {exc}") from None
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    check_keys(values, list(fields), where, error=error, label=label)
    kwargs = {}
    for key, value in values.items():
        if isinstance(value, list) and _is_tuple_type(fields[key].type):
            value = tuple(value)
        kwargs[key] = value
    for key, build in (nested or {}).items():
        if key in kwargs:
            kwargs[key] = build(kwargs[key])
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a value of the wrong type deep in __post_init__
        raise error(f"{where}: {exc}") from None
