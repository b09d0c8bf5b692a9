"""The manifest that marks a directory's ESCI files as a GENERATED stand-in, and its check.

``python -m leser_bench.data.esci_standin`` writes two parquet files that read exactly like the
real ESCI release. Nothing in their columns can tell them apart from the real data, so two marks
travel with them and :func:`check_standin` (called by the ESCI loader on every load) reads both:

- a sidecar ``esci_standin.json`` beside the files: parameters, seed, generator version and the
  sha256 of each file. The loader re-hashes the files: a file changed or swapped after it was
  generated is an error, never silently trusted (neither as stand-in nor as real data);
- a key in each parquet file's own metadata (:data:`PARQUET_KEY`), so a stand-in file whose
  manifest was lost or not copied along is an error too, not "real data".

Real ESCI files have neither mark and load exactly as before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from leser_bench.data.records import DataError

MANIFEST_FILE = "esci_standin.json"
#: key in the parquet file metadata of every stand-in file (value: JSON of the generator's parameters).
PARQUET_KEY = b"leser_bench.esci_standin"
KIND = "leser_bench generated stand-in for ESCI (not the real data)"
REGENERATE = "python -m leser_bench.data.esci_standin --out DIR"


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _has_standin_key(path: Path) -> bool:
    try:
        metadata = pq.read_schema(path).metadata or {}
    except (pa.ArrowException, OSError):
        return False  # not readable as parquet: the loader's own read names the problem
    return PARQUET_KEY in metadata


def check_standin(directory: Path, files: Sequence[Path]) -> dict[str, Any] | None:
    """The stand-in manifest of ``directory`` with every file's checksum verified, or None for real
    files (no manifest, no stand-in mark). Raises :class:`DataError` naming the file at fault."""
    manifest_path = directory / MANIFEST_FILE
    if not manifest_path.is_file():
        marked = [p for p in files if _has_standin_key(p)]
        if marked:
            raise DataError(
                f"{marked[0]}: this is a generated ESCI stand-in (its parquet metadata says so) but its manifest "
                f"{manifest_path} is missing, so it cannot be checked; regenerate it with `{REGENERATE}`"
            )
        return None
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{manifest_path}: the ESCI stand-in manifest is not readable JSON ({exc})") from None
    recorded = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(recorded, dict):
        raise DataError(f"{manifest_path}: the ESCI stand-in manifest has no 'files' object")
    for path in files:
        entry = recorded.get(path.name)
        expected = entry.get("sha256") if isinstance(entry, dict) else None
        if not expected:
            raise DataError(f"{manifest_path}: the ESCI stand-in manifest records no sha256 for {path.name}")
        actual = sha256_file(path)
        if actual != expected:
            raise DataError(
                f"{path}: its sha256 {actual[:16]}… does not match the stand-in manifest {manifest_path} "
                f"({expected[:16]}…): the file was changed or swapped after it was generated. "
                f"Regenerate it with `{REGENERATE}`, or remove the manifest only if these are the real ESCI files."
            )
    return manifest
