"""Content-addressed, atomically written artefacts.

Every cached artefact is named by a hash of what produced it (config + inputs). Files are written
to a temporary name in the same directory and renamed into place, so an interrupted run never
leaves a half-written artefact under a real name; a directory artefact carries a ``_COMPLETE``
marker written last, holding a checksum of its content, so a damaged one is detected and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

COMPLETE_MARKER = "_COMPLETE"


def _jsonable(obj: Any) -> Any:
    if is_dataclass(obj) and not isinstance(obj, type):
        return _jsonable(asdict(obj))
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return repr(obj)


def content_hash(*parts: Any, length: int = 16) -> str:
    """A stable hex digest of any mix of dataclasses, dicts, lists and scalars."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, bytes):
            digest.update(part)
        else:
            digest.update(json.dumps(_jsonable(part), sort_keys=True, ensure_ascii=False).encode())
        digest.update(b"\x00")
    return digest.hexdigest()[:length]


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def remove_stale_temporaries(target: Path) -> None:
    """Delete temporaries that a killed writer of ``target`` left behind (``.<name>.*.tmp``)."""
    if not target.parent.is_dir():
        return
    for stale in target.parent.glob(f".{target.name}.*.tmp"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes files owner-only; artefacts and reports are for everyone to read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(_jsonable(obj), indent=2, ensure_ascii=False) + "\n")


def read_json(path: Path) -> Any | None:
    """The JSON at ``path``, or None if it is missing or damaged (a damaged file is not trusted)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _tree_checksum(directory: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(p for p in directory.rglob("*") if p.is_file() and p.name != COMPLETE_MARKER):
        digest.update(str(file.relative_to(directory)).encode())
        digest.update(str(file.stat().st_size).encode())
    return digest.hexdigest()


def directory_complete(directory: Path) -> bool:
    """True if ``directory`` was finished by :func:`atomic_directory` and is unchanged since."""
    marker = read_json(directory / COMPLETE_MARKER)
    return bool(marker) and marker.get("checksum") == _tree_checksum(directory)


@contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Yield a temporary directory; on success it is marked complete and renamed to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        yield tmp
        atomic_write_json(tmp / COMPLETE_MARKER, {"checksum": _tree_checksum(tmp)})
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def cached_directory(target: Path, build: Callable[[Path], None]) -> Path:
    """Return ``target`` if complete; otherwise build it atomically (a damaged one is rebuilt)."""
    if target.exists() and directory_complete(target):
        return target
    with atomic_directory(target) as tmp:
        build(tmp)
    return target
