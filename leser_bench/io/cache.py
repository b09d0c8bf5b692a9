"""Content-addressed, atomically written artefacts.

Every cached artefact is named by a hash of what produced it (config + inputs). Files are written
to a temporary name in the same directory and renamed into place, so an interrupted run never
leaves a half-written artefact under a real name; a directory artefact carries a ``_COMPLETE``
marker written last, holding a checksum of its content, so a damaged one is detected and rebuilt.

Concurrent runs on one cache: a directory artefact is built under a lock beside it (``.<name>.lock``,
:func:`artefact_lock`): one process builds, the others wait and reuse it. Temporaries carry the pid of
their writer (``.<name>.<pid>.<random>.tmp``) and are removed only when that process is gone.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

COMPLETE_MARKER = "_COMPLETE"

log = logging.getLogger(__name__)


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


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks (never memoised: it is what detects damage)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


def temporary_prefix(target: Path) -> str:
    """The name prefix of a temporary for ``target`` written by this process: ``.<name>.<pid>.``."""
    return f".{target.name}.{os.getpid()}."


def _owner_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a live process of another user
        return True
    except OSError as exc:
        return exc.errno != errno.ESRCH
    return True


def _owner_of(stale: Path, target: Path) -> int | None | bool:
    """The pid in ``.<name>.<pid>.<random>.tmp``; None for a temporary without one (``.<name>.<random>.tmp``,
    an older writer); False for a temporary of another artefact whose name starts with ``<name>.``."""
    parts = stale.name[len(target.name) + 2 : -len(".tmp")].split(".")
    if len(parts) == 2 and parts[0].isdigit():
        return int(parts[0])
    return None if len(parts) == 1 else False


def remove_stale_temporaries(target: Path) -> None:
    """Delete temporaries of ``target`` whose writer is gone (a killed run's ``.<name>.<pid>.*.tmp``);
    those of a live process (another run writing the same artefact) are left alone. A temporary without
    a pid (written by code that does not tag its temporaries) is removed as before."""
    if not target.parent.is_dir():
        return
    for stale in target.parent.glob(f".{target.name}.*.tmp"):
        owner = _owner_of(stale, target)
        if owner is False or (owner is not None and _owner_alive(owner)):
            continue
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def artefact_lock(target: Path) -> FileLock:
    """The lock of one artefact, a file beside it (``.<name>.lock``); released when its holder dies."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(target.parent / f".{target.name}.lock"))


@contextmanager
def holding(lock: FileLock, what: Path) -> Iterator[None]:
    """Hold ``lock``, saying (once) when another process holds it and this one waits."""
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.info("waiting for another process building %s", what)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=temporary_prefix(path), suffix=".tmp")
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
    """Yield a temporary directory; on success it is marked complete and renamed to ``target``. A
    ``target`` already there (damaged) is moved aside first and removed after the rename, so no other
    process sees a half-deleted directory under the real name. Concurrent builders use
    :func:`cached_directory`, which holds the artefact's lock."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=temporary_prefix(target), suffix=".tmp"))
    try:
        yield tmp
        atomic_write_json(tmp / COMPLETE_MARKER, {"checksum": _tree_checksum(tmp)})
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(dir=target.parent, prefix=temporary_prefix(target), suffix=".tmp"))
            os.replace(target, old)  # onto the empty directory just made
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def cached_directory(target: Path, build: Callable[[Path], None]) -> Path:
    """Return ``target`` if complete; otherwise build it atomically (a damaged one is rebuilt). Under the
    artefact's lock: when another process is building it, this one waits and reuses its result."""
    if target.exists() and directory_complete(target):
        return target
    with holding(artefact_lock(target), target):
        if target.exists() and directory_complete(target):
            return target
        with atomic_directory(target) as tmp:
            build(tmp)
    return target
