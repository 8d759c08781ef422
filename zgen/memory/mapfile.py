"""Where a firmware's flash and RAM go, read from the GNU ld map of a real
build (build/zephyr/zephyr.map): every allocated input section, attributed to
the file it came from, then to a part of the app (the model, the replay data,
TFLM's kernels by source file, TFLM's core, the zgen runtime, Zephyr and the
C libraries). These measurements are what the memory plan is made of.

A section counts in flash when it lives in the FLASH region or is loaded from
it (initialised data); in RAM when it lives in the RAM region. The sums equal
the FLASH / RAM figures `west build` prints (a test checks that on real builds).
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from zgen.steps import FAMILY_SOURCE

_HEX = r"0x[0-9a-fA-F]+"
_REGION = re.compile(rf"^(\S+)\s+({_HEX})\s+({_HEX})(?:\s+\S+)?\s*$")
_OUTPUT = re.compile(rf"^(\S+)(?:\s+({_HEX})\s+({_HEX})(?:\s+load address ({_HEX}))?)?\s*$")
_INPUT = re.compile(rf"^ (\S+)(?:\s+({_HEX})\s+({_HEX})\s+(.+?))?\s*$")
_INPUT_CONT = re.compile(rf"^\s+({_HEX})\s+({_HEX})\s+(.+?)\s*$")
_FILL = re.compile(rf"^ \*fill\*\s+({_HEX})\s+({_HEX})")
# Sections ld lists but never loads (debug info, notes for tools).
_NOT_LOADED = (".debug", ".comment", ".ARM.attributes", ".stab", ".gnu.attributes", ".symtab", ".strtab",
               ".shstrtab", ".riscv.attributes", ".gnu_debuglink")


@dataclass
class MapSizes:
    """Bytes per input file, in flash and in RAM."""
    flash: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    ram: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # Bytes per (file, input section) in flash (-ffunction-sections: a function or object each).
    sections: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    regions: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (origin, length)
    # Output sections placed in memory: (name, address, size, load address).
    outputs: list[tuple[str, int, int, int]] = field(default_factory=list)
    flash_region: str | None = None
    ram_region: str | None = None
    # No flash region (CONFIG_XIP=n, e.g. qemu_riscv32): the image is loaded into RAM and runs
    # there. Its contents then count as "flash" (the image's bytes) and RAM holds only the
    # zero-initialised sections; ram_used is the whole region, image included.
    ram_only: bool = False

    def _used(self, region: str | None, load: bool) -> int:
        if region is None:
            return 0
        origin, length = self.regions[region]
        ends = [(lma if load else vma) + size for _, vma, size, lma in self.outputs
                if size and origin <= (lma if load else vma) < origin + length]
        return max(ends, default=origin) - origin

    @property
    def flash_used(self) -> int:
        """As ld's --print-memory-usage counts it (and `west build` prints): the end of the last
        section loaded into FLASH, alignment gaps included. RAM-only images: their contents."""
        if self.ram_only:
            return sum(size for name, _, size, _ in self.outputs if not _zero_init(name))
        return self._used(self.flash_region, load=True)

    @property
    def ram_used(self) -> int:
        return self._used(self.ram_region, load=False)

    @property
    def flash_by_file(self) -> int:
        """The input sections' sizes summed: more than flash_used where ld merged duplicate strings
        (the map shows sizes before merging), less by the alignment gaps."""
        return sum(self.flash.values())


def _zero_init(section: str) -> bool:
    """Output sections with no contents in the image (NOBITS): Zephyr's bss, noinit, tbss."""
    return section.lstrip(".") in ("bss", "noinit", "tbss")


def _region_of(regions: dict[str, tuple[int, int]], addr: int) -> str | None:
    for name, (origin, length) in regions.items():
        if name != "*default*" and origin <= addr < origin + length:
            return name
    return None


def _flash_ram(regions):
    names = {n.upper(): n for n in regions}
    flash = next((names[k] for k in ("FLASH", "ROM", "FLASH0") if k in names), None)
    ram = next((names[k] for k in ("RAM", "SRAM", "SRAM0") if k in names), None)
    return flash, ram


def parse(text: str) -> MapSizes:
    sizes = MapSizes()
    lines = text.splitlines()
    try:
        mem = lines.index("Memory Configuration")
        start = lines.index("Linker script and memory map")
    except ValueError:
        raise ValueError("not a GNU ld map file (no Memory Configuration / memory map)") from None
    for line in lines[mem + 1:start]:
        m = _REGION.match(line)
        if m and m.group(1) != "Name":
            sizes.regions[m.group(1)] = (int(m.group(2), 16), int(m.group(3), 16))
    flash_name, ram_name = _flash_ram(sizes.regions)
    sizes.flash_region, sizes.ram_region = flash_name, ram_name
    sizes.ram_only = flash_name is None and ram_name is not None
    in_flash = in_ram = False
    pending: str | None = None  # an output or input section name whose numbers are on the next line
    pending_kind = ""

    def enter_output(name: str, addr: int, size: int, load: int | None) -> None:
        nonlocal in_flash, in_ram
        if name.startswith(_NOT_LOADED):
            in_flash = in_ram = False
            return
        where = _region_of(sizes.regions, addr)
        sizes.outputs.append((name, addr, size, load if load is not None else addr))
        loaded_from = _region_of(sizes.regions, load) if load is not None else where
        in_ram = where == ram_name and ram_name is not None
        in_flash = loaded_from == flash_name and flash_name is not None
        if sizes.ram_only and in_ram and not _zero_init(name):
            in_flash, in_ram = True, False  # part of the image

    def add(size: int, file: str, section: str = "") -> None:
        if size == 0:
            return
        if in_flash:
            sizes.flash[file] += size
            if section:
                sizes.sections[(file, section)] += size
        if in_ram:
            sizes.ram[file] += size

    for line in lines[start + 1:]:
        if pending is not None:
            name = pending
            if pending_kind == "output":
                m = re.match(rf"^\s+({_HEX})\s+({_HEX})(?:\s+load address ({_HEX}))?", line)
                pending = None
                if m:
                    enter_output(name, int(m.group(1), 16), int(m.group(2), 16), int(m.group(3), 16) if m.group(3) else None)
                    continue
                in_flash = in_ram = False  # no address: nothing of it is placed (e.g. /DISCARD/)
            m = _INPUT_CONT.match(line)
            pending = None
            if m:
                add(int(m.group(2), 16), m.group(3), name)
                continue
        if not line or line.startswith(("LOAD ", "OUTPUT(", "START GROUP", "END GROUP")):
            continue
        if not line[0].isspace():
            m = _OUTPUT.match(line)
            if m:
                if m.group(2) is None:
                    pending, pending_kind = m.group(1), "output"
                else:
                    enter_output(m.group(1), int(m.group(2), 16), int(m.group(3), 16), int(m.group(4), 16) if m.group(4) else None)
            continue
        m = _FILL.match(line)
        if m:
            add(int(m.group(2), 16), "*fill*")
            continue
        if line.startswith(" ") and not line.startswith("  ") and not line.startswith(" *"):
            m = _INPUT.match(line)
            if m:
                if m.group(2) is None:
                    pending, pending_kind = m.group(1), "input"
                else:
                    add(int(m.group(3), 16), m.group(4), m.group(1))
    return sizes


def read(path: Path) -> MapSizes:
    return parse(Path(path).read_text(errors="replace"))


# ---- attribution to the parts of a zgen app -----------------------------------------------------

_MEMBER = re.compile(r"\(([^()]+)\)$")
_STEP_SOURCES = {source: family for family, source in FAMILY_SOURCE.items()}


def part_of(file: str, tflm_kernels: set[str]) -> str:
    """The part of the app an input file belongs to. `tflm_kernels`: the stems of the .cc files
    in tflite-micro's tensorflow/lite/micro/kernels (each one a kernel or a kernel's helpers)."""
    member = _MEMBER.search(file)
    obj = member.group(1) if member else Path(file).name
    stem = obj.split(".")[0]
    if "libapp.a" in file or file.startswith("app/"):
        if stem == "model_data":
            return "model"
        if stem in ("replay_data", "replay_sensor", "replay_dmic"):
            return "replay"
        if stem in _STEP_SOURCES:  # a feature step family, linked only where a manifest uses it
            return f"steps:{_STEP_SOURCES[stem]}"
        return "zgen"
    if "tflite-micro" in file:
        return f"kernel:{stem}" if stem in tflm_kernels else "tflm"
    if "cmsis-nn" in file:  # the CMSIS-NN library's functions: part of the kernels that call them
        return f"kernel:{stem}"
    if file == "*fill*":
        return "fill"
    if stem == "gpio_emul":  # the GPIO emulator zgen adds for pin outputs on simulated boards
        return "gpio_emul"
    if stem == "system_work_q":  # the system work queue (its thread and stack): pulse outputs end there
        return "workq"
    return "zephyr"


def by_part(sizes: MapSizes, tflm_kernels: set[str]) -> tuple[dict[str, int], dict[str, int]]:
    """(flash, RAM) bytes per part."""
    flash: dict[str, int] = defaultdict(int)
    ram: dict[str, int] = defaultdict(int)
    for file, n in sizes.flash.items():
        flash[part_of(file, tflm_kernels)] += n
    for file, n in sizes.ram.items():
        ram[part_of(file, tflm_kernels)] += n
    return dict(flash), dict(ram)


def kernel_stems(tflite_micro: Path) -> set[str]:
    """Stems of tflite-micro's reference kernel sources (tensorflow/lite/micro/kernels/*.cc)."""
    return {p.name.split(".")[0] for p in (Path(tflite_micro) / "tensorflow/lite/micro/kernels").glob("*.cc")}
