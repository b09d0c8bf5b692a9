"""Stage bookkeeping of a run: wall time and peak memory per stage, and giving memory back between methods."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger("leser_bench.pipeline")


def peak_rss_mb() -> float:
    """The high-water mark of resident memory of this process and its finished children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0  # Linux reports KiB


def release_memory() -> None:
    """Free what the last method left behind before the next one starts.

    A method's model and trainer sit in reference cycles (torch modules, hooks), so they go only at a
    collection; glibc then keeps the freed arenas unless asked to trim them. Measured at ESCI size: the
    SFT model still resident while LESER trained is what put the run's peak over its memory budget."""
    gc.collect()
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        try:
            ctypes.CDLL(libc_name).malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
            pass


class StageTimer:
    """Wall time per stage, and the peak resident memory reached by the end of each stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.peak_rss_mb: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        log.info("stage %s ...", name)
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
            self.peak_rss_mb[name] = round(peak_rss_mb(), 1)
            log.info("stage %s done in %.1f s (peak RSS %.0f MB)", name, self.seconds[name], self.peak_rss_mb[name])
