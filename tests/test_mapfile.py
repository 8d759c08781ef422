"""Reading a GNU ld map: where flash and RAM go, per input file and per part of the app."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from zgen.memory import mapfile

# A hand-written map in GNU ld's layout (Zephyr's zephyr.map), with the cases that matter: a
# wrapped section name, a *fill*, initialised data loaded from flash, bss, merged strings (listed
# at their size before merging), /DISCARD/ and debug sections (not loaded). Expected figures are
# worked out by hand from the addresses below.
MAP = """\
Discarded input sections

 .text          0x00000000       0x40 zephyr/libzephyr.a(unused.c.obj)

Memory Configuration

Name             Origin             Length             Attributes
FLASH            0x00000000         0x00040000         xr
RAM              0x20000000         0x00010000         xw
*default*        0x00000000         0xffffffff

Linker script and memory map

LOAD zephyr/CMakeFiles/zephyr_final.dir/isr_tables.c.obj
rom_start       0x00000000      0x100
 .exc_vector_table
                0x00000000      0x100 zephyr/arch/arch/arm/core/libarch__arm__core.a(vector_table.S.obj)
text            0x00000100      0x300
 .text          0x00000100      0x200 modules/tflite-micro/libmodules__tflite-micro.a(fully_connected.cc.obj)
                0x00000100                tflite::Register_FULLY_CONNECTED()
 *fill*         0x00000300        0x4 
 .text.main     0x00000304       0xfc app/libapp.a(main.cpp.obj)
rodata          0x00000400      0x120
 .rodata.zgen_model_data
                0x00000400      0x100 app/libapp.a(model_data.cc.obj)
 .rodata.str1.1
                0x00000500       0x30 zephyr/libzephyr.a(printk.c.obj)
 .rodata.str1.1
                0x00000520       0x20 app/libapp.a(main.cpp.obj)
datas           0x20000000       0x10 load address 0x00000520
 .data          0x20000000       0x10 modules/tflite-micro/libmodules__tflite-micro.a(micro_allocator.cc.obj)
bss             0x20000010      0x5f0
 .bss.tensor_arena
                0x20000010      0x5f0 app/libapp.a(main.cpp.obj)

/DISCARD/
 *(.note.GNU-stack)
 .note.GNU-stack
                0x00000000        0x0 app/libapp.a(main.cpp.obj)
.debug_info     0x00000000     0x9999
 .debug_info    0x00000000     0x9999 app/libapp.a(main.cpp.obj)
OUTPUT(zephyr/zephyr.elf elf32-littlearm)
"""


def test_used_is_what_ld_reports():
    s = mapfile.parse(MAP)
    assert s.flash_used == 0x530  # data's load address 0x520 + 0x10
    assert s.ram_used == 0x600  # bss ends at 0x20000600
    # per file, before merging: 0x100 + 0x200 + 4 + 0xfc + 0x100 + 0x30 + 0x20 + 0x10 in flash
    assert s.flash_by_file == 0x100 + 0x200 + 4 + 0xFC + 0x100 + 0x30 + 0x20 + 0x10
    assert s.ram["app/libapp.a(main.cpp.obj)"] == 0x5F0
    assert s.ram["modules/tflite-micro/libmodules__tflite-micro.a(micro_allocator.cc.obj)"] == 0x10


def test_parts():
    flash, ram = mapfile.by_part(mapfile.parse(MAP), {"fully_connected"})
    assert flash["model"] == 0x100 and flash["kernel:fully_connected"] == 0x200
    assert flash["zgen"] == 0xFC + 0x20 and flash["tflm"] == 0x10 and flash["zephyr"] == 0x100 + 0x30
    assert ram == {"zgen": 0x5F0, "tflm": 0x10}


def test_not_a_map():
    with pytest.raises(ValueError, match="not a GNU ld map"):
        mapfile.parse("hello\n")


def _elf_usage(elf: Path, flash: tuple[int, int], ram: tuple[int, int]) -> tuple[int, int]:
    """Flash and RAM used, from the ELF's allocated sections and load segments (pyelftools): an
    independent reading of what ld placed, as ld's --print-memory-usage counts it."""
    from elftools.elf.elffile import ELFFile

    with open(elf, "rb") as f:
        e = ELFFile(f)
        segments = [s for s in e.iter_segments() if s["p_type"] == "PT_LOAD"]
        flash_end, ram_end = flash[0], ram[0]
        for sec in e.iter_sections():
            if not sec["sh_flags"] & 0x2 or not sec["sh_size"]:  # SHF_ALLOC
                continue
            vma, size = sec["sh_addr"], sec["sh_size"]
            seg = next((s for s in segments if s["p_vaddr"] <= vma < s["p_vaddr"] + max(s["p_memsz"], 1)), None)
            lma = vma - seg["p_vaddr"] + seg["p_paddr"] if seg else vma
            if ram[0] <= vma < ram[0] + ram[1]:
                ram_end = max(ram_end, vma + size)
            if sec["sh_type"] != "SHT_NOBITS" and flash[0] <= lma < flash[0] + flash[1]:
                flash_end = max(flash_end, lma + size)
    return flash_end - flash[0], ram_end - ram[0]


def _builds():
    """Real builds zgen's firmware tests left here."""
    root = Path.home() / ".cache" / "zgen" / "firmware-tests"
    return [m.parent.parent for m in sorted(root.glob("*/build/*/zephyr/zephyr.map"))
            if (m.parent / "zephyr.elf").is_file()]


@pytest.mark.parametrize("build", _builds() or [None], ids=lambda b: b and f"{b.parent.parent.name}-{b.name}")
def test_real_builds_match_the_elf(build):
    if build is None:
        pytest.skip("no firmware build here (run the firmware tests first)")
    pytest.importorskip("elftools")
    s = mapfile.read(build / "zephyr" / "zephyr.map")
    if not s.flash_region:
        pytest.skip("native_sim: no flash or RAM regions")
    expected = _elf_usage(build / "zephyr" / "zephyr.elf", s.regions[s.flash_region], s.regions[s.ram_region])
    assert (s.flash_used, s.ram_used) == expected


# CONFIG_XIP=n (qemu_riscv32): one RAM region; the image is loaded there, bss after the code and
# initialised data after bss, as Zephyr's RISC-V linker script places them.
RAM_ONLY_MAP = """\
Memory Configuration

Name             Origin             Length             Attributes
RAM              0x80000000         0x10000000         xrw
*default*        0x00000000         0xffffffff

Linker script and memory map

text            0x80000000      0x200
 .text          0x80000000      0x180 modules/tflite-micro/libmodules__tflite-micro.a(conv.cc.obj)
 .text.main     0x80000180       0x80 app/libapp.a(main.cpp.obj)
rodata          0x80000200      0x100
 .rodata.zgen_model_data
                0x80000200      0x100 app/libapp.a(model_data.cc.obj)
bss             0x80000300       0x40
 .bss.k         0x80000300       0x40 zephyr/libzephyr.a(sched.c.obj)
noinit          0x80000340      0x400
 .noinit.arena  0x80000340      0x400 app/libapp.a(main.cpp.obj)
datas           0x80000740       0x10
 .data          0x80000740       0x10 zephyr/libzephyr.a(printk.c.obj)
"""


def test_ram_only_image_counts_its_contents_as_flash_and_zero_init_as_ram():
    s = mapfile.parse(RAM_ONLY_MAP)
    assert s.ram_only and s.flash_region is None
    assert s.flash_used == 0x200 + 0x100 + 0x10  # text, rodata, datas: the image's bytes
    assert s.ram_used == 0x750  # the region up to the end of datas, image included
    flash, ram = mapfile.by_part(s, {"conv"})
    assert flash == {"kernel:conv": 0x180, "zgen": 0x80, "model": 0x100, "zephyr": 0x10}
    assert ram == {"zephyr": 0x40, "zgen": 0x400}
