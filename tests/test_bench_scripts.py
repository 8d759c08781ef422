"""The benchmark scripts under bench/ run only where a Zephyr workspace and the
reference material are; they must at least parse and import everywhere."""
from __future__ import annotations

import py_compile
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.parametrize("script", sorted(p.name for p in BENCH.glob("*.py")))
def test_bench_script_compiles_and_shows_its_help(script):
    py_compile.compile(str(BENCH / script), doraise=True)
    if 'if __name__ == "__main__":' not in (BENCH / script).read_text():
        return  # a module the scripts share (profiled.py)
    proc = subprocess.run([sys.executable, str(BENCH / script), "--help"], capture_output=True, text=True,
                          timeout=120, cwd=BENCH.parent)
    assert proc.returncode == 0, proc.stderr
    assert "usage:" in proc.stdout
