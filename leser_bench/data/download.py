"""Atomic, checked downloads: stream to a temp file beside the target, verify it, then os.replace.

A download that fails for any reason (network, HTTP status, size, checksum, content check) leaves
no file behind at the target path and no temp file in its directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests
from tqdm.auto import tqdm

from leser_bench.data.records import DataError

PARQUET_MAGIC = b"PAR1"
_GIT_LFS_POINTER = b"version https://git-lfs"


class DownloadError(DataError):
    """A download failed or produced a file that did not pass its checks."""


@dataclass(frozen=True)
class DownloadResult:
    path: Path
    url: str
    sha256: str
    size: int


#: a content check: gets the downloaded temp file, returns an error message or None.
ContentCheck = Callable[[Path], "str | None"]


def check_parquet_magic(path: Path) -> str | None:
    """Parquet files start and end with ``PAR1``; a Git LFS pointer or an HTML page does not."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(max(len(_GIT_LFS_POINTER), 4))
        if size < 8:
            return f"file is {size} bytes, too small to be parquet"
        fh.seek(size - 4)
        tail = fh.read(4)
    if head.startswith(_GIT_LFS_POINTER):
        return "got a Git LFS pointer file instead of the data (use the LFS media URL)"
    if head[:4] != PARQUET_MAGIC or tail != PARQUET_MAGIC:
        return f"not a parquet file (starts with {head[:4]!r}, ends with {tail!r})"
    return None


def download_file(
    url: str,
    target: Path,
    timeout_s: float = 60.0,
    expected_sha256: str | None = None,
    check: ContentCheck | None = None,
) -> DownloadResult:
    """Download ``url`` to ``target`` atomically, with a progress bar and size/sha256/content checks.

    Raises :class:`DownloadError` (naming the URL) on any failure; nothing is left at ``target``.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        digest, size = _stream_to(url, fd, timeout_s, target.name)
        if expected_sha256 and digest != expected_sha256.lower():
            raise DownloadError(f"{url}: sha256 {digest} does not match the expected {expected_sha256}")
        if check is not None:
            problem = check(tmp)
            if problem:
                raise DownloadError(f"{url}: {problem}")
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return DownloadResult(path=target, url=url, sha256=digest, size=size)


def _stream_to(url: str, fd: int, timeout_s: float, label: str) -> tuple[str, int]:
    """Stream the body of ``url`` into the open file ``fd``; return (sha256, bytes written)."""
    digest = hashlib.sha256()
    written = 0
    with os.fdopen(fd, "wb") as out:
        try:
            with requests.get(url, stream=True, timeout=timeout_s) as resp:
                resp.raise_for_status()
                expected = _expected_length(resp.headers)
                with tqdm(total=expected, unit="B", unit_scale=True, desc=label, leave=False) as bar:
                    for chunk in resp.iter_content(chunk_size=1 << 20):
                        if not chunk:
                            continue
                        out.write(chunk)
                        digest.update(chunk)
                        written += len(chunk)
                        bar.update(len(chunk))
        except requests.RequestException as exc:
            raise DownloadError(f"{url}: {type(exc).__name__}: {exc}") from exc
    if expected is not None and written != expected:
        raise DownloadError(f"{url}: got {written} bytes but the server announced {expected} (Content-Length)")
    return digest.hexdigest(), written


def _expected_length(headers: object) -> int | None:
    """Content-Length, when it describes the bytes we receive (no content encoding)."""
    get = getattr(headers, "get", None)
    if get is None:
        return None
    if (get("Content-Encoding") or "identity").lower() != "identity":
        return None
    value = get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def record_download(manifest: Path, result: DownloadResult) -> None:
    """Add ``result`` (file name, URL, sha256, size, time) to a JSON sidecar, written atomically."""
    entries: dict[str, object] = {}
    if manifest.exists():
        try:
            entries = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            entries = {}  # a damaged sidecar is only a record; rewrite it
    entries[result.path.name] = {
        "url": result.url,
        "sha256": result.sha256,
        "bytes": result.size,
        "downloaded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    fd, tmp_name = tempfile.mkstemp(prefix=f".{manifest.name}.", suffix=".part", dir=manifest.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(entries, fh, indent=2, sort_keys=True)
        os.replace(tmp_name, manifest)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
