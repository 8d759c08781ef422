"""The runtime is firmware-grade without a Zephyr tree: lib/zgen compiles with
Debian's arm-none-eabi-gcc for Cortex-M3 and Cortex-M4F under -Werror, and its
objects reference no heap and no printf (no allocation, no libc formatting)."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from zgen.resources import runtime_dir

pytestmark = pytest.mark.cross

CORES = {
    "cortex-m3": ["-mcpu=cortex-m3", "-mthumb"],
    "cortex-m4f": ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"],
}
# Zephyr's default warnings plus stricter ones; the same flags the app builds lib/zgen with.
FLAGS = ["-std=c11", "-Os", "-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wdouble-promotion",
         "-Wformat=2", "-Wundef", "-ffp-contract=off", "-ffunction-sections"]
FORBIDDEN = {"malloc", "calloc", "realloc", "free", "printf", "sprintf", "snprintf", "vsnprintf",
             "expf", "logf", "powf", "exp", "log", "pow"}


@pytest.fixture(scope="module")
def gcc():
    path = shutil.which("arm-none-eabi-gcc")
    if path is None:
        pytest.skip("arm-none-eabi-gcc is not installed (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)")
    return path


@pytest.mark.parametrize("core", sorted(CORES))
def test_runtime_compiles_without_warnings_and_needs_no_heap(gcc, core, tmp_path):
    sources = sorted((runtime_dir() / "src").glob("*.c"))
    assert len(sources) >= 4
    undefined, defined = set(), set()
    for src in sources:
        obj = tmp_path / (src.stem + ".o")
        proc = subprocess.run([gcc, *CORES[core], *FLAGS, "-I", str(runtime_dir() / "include"), "-c", str(src),
                               "-o", str(obj)], capture_output=True, text=True)
        assert proc.returncode == 0 and not proc.stderr, f"{src.name} for {core}:\n{proc.stderr}"
        nm = subprocess.run([gcc.replace("gcc", "nm"), "-u", str(obj)], capture_output=True, text=True, check=True)
        undefined |= {line.split()[-1] for line in nm.stdout.splitlines() if line.strip()}
        nm = subprocess.run([gcc.replace("gcc", "nm"), "--defined-only", str(obj)], capture_output=True, text=True,
                            check=True)
        defined |= {line.split()[-1] for line in nm.stdout.splitlines() if line.strip()}
    undefined -= defined
    assert not undefined & FORBIDDEN, undefined & FORBIDDEN
    assert undefined - {"memcpy", "memset", "sqrtf"} <= {s for s in undefined if s.startswith("__aeabi_")}, undefined
