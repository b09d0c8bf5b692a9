"""The analysis scripts under scripts/ run on a small world (they rot silently otherwise: world_difficulty.py
broke when conf/ moved into the package and no test ran it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _script(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO / "scripts" / name), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
def test_world_difficulty_prints_bm25_rm3_and_oracle_for_both_profiles(tmp_path: Path, cache_root: Path) -> None:
    for profile in ("world", "world_esci"):
        result = _script("world_difficulty.py", "--profile", profile, "--set", "n_products=600", "n_test=20",
                         "--cache", str(cache_root), "--markdown", cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
        assert "bm25+rm3" in result.stdout and f"| {profile} (seed 13, 600 products) |" in result.stdout
    unknown = _script("world_difficulty.py", "--profile", "nope", cwd=tmp_path)
    assert unknown.returncode != 0 and "--profile 'nope': no file" in unknown.stderr


@pytest.mark.slow
def test_expansion_headroom_scores_every_copy_variant_and_the_oracle(tmp_path: Path, cache_root: Path) -> None:
    result = _script("expansion_headroom.py", "--n-products", "600", "--n-valid", "15", "--n-test", "10",
                     "--cache", str(cache_root), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    for row in ("bm25", "rm3", "prf10", "titles3+prf10", "oracle:title combos (1-3)"):
        assert f"\n{row} " in result.stdout
    assert "split valid (15 queries)" in result.stdout and "rule violations" in result.stdout
