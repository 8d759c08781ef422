"""zgen.memory.heap reads an image's heap use from its disassembly. Oracle: tiny programs built here
with arm-none-eabi-g++ whose heap use is known by construction (a static initialiser that
allocates; a function main's path calls that allocates; an allocator only a pointer reaches)."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from zgen.memory.heap import report

GXX = shutil.which("arm-none-eabi-g++")
pytestmark = pytest.mark.skipif(GXX is None, reason="arm-none-eabi-g++ is not installed (apt-get install gcc-arm-none-eabi)")

PROGRAM = r"""
extern "C" void *malloc(unsigned n)
{
	static char heap[256];
	static unsigned used;
	void *p = heap + used;
	used += n;
	return p;
}
struct Pool {
	void *p;
	Pool() { p = malloc(64); }   // a static initialiser: runs before main
};
Pool pool;
extern "C" __attribute__((noinline)) void *grab(unsigned n) { return malloc(n); }
extern "C" __attribute__((noinline)) int work(int x)
{
#if VARIANT == 1
	return grab(4) != nullptr;     // allocates on every call: after start-up
#elif VARIANT == 2
	void *(*volatile f)(unsigned) = grab;  // through a pointer
	return f(4) != nullptr;
#else
	return x + 1;
#endif
}
extern "C" void _start(void) { for (;;) { work(1); } }
"""


def _build(tmp_path, variant: int):
    src = tmp_path / f"v{variant}.cpp"
    src.write_text(PROGRAM)
    elf = tmp_path / f"v{variant}.elf"
    subprocess.run([GXX, f"-DVARIANT={variant}", "-O1", "-mcpu=cortex-m3", "-mthumb", "-nostdlib",
                    "-fno-exceptions", "-fno-rtti", "-fno-threadsafe-statics", "-ffunction-sections",
                    "-Wl,--gc-sections", "-Wl,-e,_start", str(src), "-o", str(elf)], check=True)
    return report(elf)


def test_an_allocation_in_a_static_initialiser_only_is_start_up(tmp_path):
    r = _build(tmp_path, 0)
    assert r.allocators == ["malloc"]
    assert list(r.entries) and all(e.startswith("_GLOBAL__sub_I_") for e in r.entries)
    assert r.ok and "before main" in r.summary()


def test_an_allocation_on_mains_path_is_found(tmp_path):
    r = _build(tmp_path, 1)
    assert not r.ok
    assert r.after_startup["_start"] == ["_start", "work", "grab", "malloc"]


def test_an_allocator_reached_through_a_pointer_is_found(tmp_path):
    r = _build(tmp_path, 2)
    assert not r.ok and r.after_startup["_start"][-2:] == ["grab", "malloc"]
