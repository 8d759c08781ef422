"""Heap use of a built image, read from the image itself rather than asserted by hand.

zgen's apps allocate nothing after start-up: buffers are static, TFLM works in its arena. What can
still reach an allocator is whatever the linker kept: libstdc++'s static initialisers (the
exception emergency pool, before main), or code a library pulled in. This reads the image's
disassembly, builds its call graph (direct calls and every address taken, so calls through a
pointer count where the pointer is formed), and lists the entry points from which an allocator is
reachable. The image uses no heap after start-up when each such entry point is a static
initialiser (`_GLOBAL__sub_I_*`, run before main).
"""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

# What allocates: libc, Zephyr's kernel and system heaps, C++'s operator new (ILP32 and LP64).
ALLOCATORS = frozenset({
    "malloc", "calloc", "realloc", "aligned_alloc", "memalign", "posix_memalign", "reallocarray",
    "_malloc_r", "_calloc_r", "_realloc_r",
    "k_malloc", "k_calloc", "k_aligned_alloc", "k_realloc", "k_heap_alloc", "k_heap_aligned_alloc",
    "sys_heap_alloc", "sys_heap_aligned_alloc", "sys_heap_aligned_realloc",
    "_Znwj", "_Znaj", "_ZnwjRKSt9nothrow_t", "_ZnajRKSt9nothrow_t", "_ZnwjSt11align_val_t",
    "_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t", "_ZnwmSt11align_val_t",
})
STARTUP = re.compile(r"^_GLOBAL__sub_I_")

_FUNCTION = re.compile(r"^[0-9a-f]+ <([^>]+)>:$")
_REFERENCE = re.compile(r"<([^>+]+)>")  # a whole symbol (not `sym+0x10`, a place inside one)


@dataclass
class HeapReport:
    allocators: list[str]                       # allocators linked into the image
    entries: dict[str, list[str]] = field(default_factory=dict)  # entry point -> a path to an allocator

    @property
    def after_startup(self) -> dict[str, list[str]]:
        """Entry points other than static initialisers from which an allocator is reachable."""
        return {e: path for e, path in self.entries.items() if not STARTUP.match(e)}

    @property
    def ok(self) -> bool:
        return not self.after_startup

    def summary(self) -> str:
        if not self.allocators:
            return "no allocator is linked"
        if not self.entries:
            return f"{', '.join(self.allocators)} linked, reachable from nothing"
        startup = [e for e in self.entries if STARTUP.match(e)]
        text = (f"{', '.join(self.allocators)} linked; reachable only from static initialisers, before main "
                f"({', '.join(startup)})" if self.ok else
                "heap reachable after start-up from: " + "; ".join(
                    f"{e} ({' -> '.join(p)})" for e, p in self.after_startup.items()))
        return text


def objdump_for(elf: Path) -> str | None:
    """The objdump that reads this ELF (by its machine), if installed."""
    machine = elf.read_bytes()[18:20]
    prefix = {b"\x28\x00": "arm-none-eabi-", b"\xf3\x00": "riscv64-unknown-elf-"}.get(machine, "")
    return shutil.which(f"{prefix}objdump") or (shutil.which("objdump") if not prefix else None)


_WORD = re.compile(r"\.word\s+0x([0-9a-f]+)")


def call_graph(disassembly: str) -> dict[str, set[str]]:
    """function -> the symbols it calls or takes the address of: a symbol objdump names in an
    instruction, or a literal-pool word holding a function's address (how Arm code loads a
    function pointer; bit 0 set for Thumb)."""
    graph: dict[str, set[str]] = {}
    words: dict[str, set[int]] = {}
    address: dict[int, str] = {}
    current = None
    for line in disassembly.splitlines():
        m = _FUNCTION.match(line)
        if m:
            current = m.group(1)
            address[int(line.split()[0], 16)] = current
            graph.setdefault(current, set())
            words.setdefault(current, set())
        elif current and "\t" in line:
            text = line.split("\t", 2)[-1]
            for ref in _REFERENCE.findall(text):
                if ref != current:
                    graph[current].add(ref)
            w = _WORD.search(line)
            if w:
                words[current].add(int(w.group(1), 16) & ~1)
    for fn, values in words.items():
        graph[fn].update(address[v] for v in values if v in address and address[v] != fn)
    return graph


def analyse(disassembly: str) -> HeapReport:
    graph = call_graph(disassembly)
    linked = sorted(a for a in ALLOCATORS if a in graph)
    callers: dict[str, set[str]] = {}
    for fn, refs in graph.items():
        for ref in refs:
            callers.setdefault(ref, set()).add(fn)
    # Walk back from the allocators; remember one path for each function reached.
    path: dict[str, list[str]] = {a: [a] for a in linked}
    todo = list(linked)
    while todo:
        fn = todo.pop()
        for caller in sorted(callers.get(fn, ())):
            if caller not in path:
                path[caller] = [caller, *path[fn]]
                todo.append(caller)
    entries = {fn: p for fn, p in sorted(path.items()) if not callers.get(fn) and fn not in ALLOCATORS}
    return HeapReport(linked, entries)


def report(elf: Path) -> HeapReport:
    tool = objdump_for(Path(elf))
    if tool is None:
        raise FileNotFoundError(f"no objdump for {elf} (install the target's binutils)")
    out = subprocess.run([tool, "-d", "--no-show-raw-insn", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    return analyse(out)
