"""Headless Chromium for reports: screenshots and the DOM after scripts ran (tests, README image).

    python -m leser_bench.report.browser <report.html> <out.png> [--width 1280] [--height 1800 | --full-page]

Chromium runs with no network features, no sandbox (containers) and a fresh profile directory.
A fixed-height screenshot uses Chromium's own ``--screenshot``; the whole page (``full_page``) goes
through Playwright (the ``dev`` extra), which drives the same Chromium binary — Playwright's own
browser download is not needed (and not reachable offline).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
         "--disable-dev-shm-usage")


def chromium_path() -> str | None:
    """$CHROMIUM, else the first Chromium/Chrome on PATH; None when there is none."""
    given = os.environ.get("CHROMIUM")
    if given:
        return given if Path(given).is_file() else None
    return next((p for p in map(shutil.which, CANDIDATES) if p), None)


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    binary = chromium_path()
    if binary is None:
        raise FileNotFoundError("no Chromium found (install the Debian package `chromium` or set $CHROMIUM)")
    with tempfile.TemporaryDirectory(prefix="leser-chromium-") as profile:
        return subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                              text=True, timeout=timeout, check=False)


def screenshot(html: Path, png: Path, width: int = 1280, height: int = 1800, timeout: float = 120) -> Path:
    """A PNG of the page's first ``height`` pixels after its scripts ran."""
    png.parent.mkdir(parents=True, exist_ok=True)
    done = _run([f"--window-size={width},{height}", "--virtual-time-budget=5000", f"--screenshot={png.resolve()}",
                 html.resolve().as_uri()], timeout)
    if not png.is_file():
        raise RuntimeError(f"chromium wrote no screenshot of {html} (exit {done.returncode}): {done.stderr[-2000:]}")
    return png


def full_page_screenshot(html: Path, png: Path, width: int = 1280, timeout: float = 120) -> Path:
    """A PNG of the whole page (its full scroll height) after its scripts ran, through Playwright."""
    try:
        from playwright.sync_api import Error as PlaywrightError  # noqa: PLC0415
        from playwright.sync_api import sync_playwright  # noqa: PLC0415
    except ImportError:
        raise RuntimeError("a full-page screenshot needs Playwright: pip install -c constraints/cpu.txt playwright "
                           "(it drives the installed Chromium; no browser download)") from None
    binary = chromium_path()
    if binary is None:
        raise FileNotFoundError("no Chromium found (install the Debian package `chromium` or set $CHROMIUM)")
    png.parent.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=binary, args=list(FLAGS[1:]), timeout=timeout * 1000)
            try:
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.goto(html.resolve().as_uri(), wait_until="load", timeout=timeout * 1000)
                page.screenshot(path=str(png), full_page=True, timeout=timeout * 1000)
            finally:
                browser.close()
    except PlaywrightError as exc:
        raise RuntimeError(f"playwright could not screenshot {html}: {exc}") from None
    return png


def dump_dom(html: Path, timeout: float = 120) -> str:
    """The serialised DOM after the page's scripts (and any load handlers) ran."""
    done = _run(["--virtual-time-budget=5000", "--dump-dom", html.resolve().as_uri()], timeout)
    if done.returncode != 0 or "<html" not in done.stdout:
        raise RuntimeError(f"chromium --dump-dom of {html} failed (exit {done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leser_bench.report.browser", description=__doc__.split("\n\n")[0])
    parser.add_argument("html", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--width", type=int, default=1280)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--height", type=int, default=1800)
    size.add_argument("--full-page", action="store_true", help="the whole page, however tall (Playwright)")
    args = parser.parse_args(argv)
    try:
        print(full_page_screenshot(args.html, args.png, args.width) if args.full_page
              else screenshot(args.html, args.png, args.width, args.height))
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
