#!/usr/bin/env python3
"""Where each real build's flash and RAM go, from its linker map: the model,
the replay data, each TFLM kernel source, TFLM's core, the zgen runtime and
app, Zephyr with the C libraries. The measurements the memory plan
(`zgen check`) is built from, side by side for several builds.

Run: python bench/memory_breakdown.py BUILD_DIR [BUILD_DIR ...]
     (default: the builds zgen's firmware tests left in ~/.cache/zgen/firmware-tests)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zgen.memory import mapfile
from zgen.workspace import find_workspace

DEFAULT = Path.home() / ".cache" / "zgen" / "firmware-tests"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("builds", nargs="*", type=Path)
    args = ap.parse_args(argv)
    builds = args.builds or sorted(p.parent.parent for p in DEFAULT.glob("*/build/*/zephyr/zephyr.map"))
    ws = find_workspace()
    if ws is None or ws.tflite_micro is None:
        print("needs the Zephyr workspace's tflite-micro module (to tell kernels from TFLM's core)", file=sys.stderr)
        return 2
    kernels = mapfile.kernel_stems(ws.tflite_micro)
    rows = []
    for build in builds:
        sizes = mapfile.read(build / "zephyr" / "zephyr.map")
        if not sizes.flash_region:
            continue  # native_sim: no flash or RAM regions
        flash, ram = mapfile.by_part(sizes, kernels)
        # The map lists merged strings at their size before merging: the rest is ld's saving.
        flash["merged strings, gaps"] = sizes.flash_used - sum(flash.values())
        ram["gaps"] = sizes.ram_used - sum(ram.values())
        rows.append((f"{build.parent.parent.name}/{build.name}", sizes, flash, ram))
    parts = sorted({p for _, _, f, r in rows for p in (*f, *r)}, key=lambda p: (p.startswith("kernel:"), p))
    print(f"Zephyr {ws.version}; bytes from each build's zephyr/zephyr.map\n")
    print("| part | " + " | ".join(name for name, *_ in rows) + " |")
    print("|---|" + "---:|" * len(rows))
    for label, pick in (("FLASH used", lambda s, f, r: s.flash_used), ("RAM used", lambda s, f, r: s.ram_used)):
        print(f"| **{label}** | " + " | ".join(str(pick(s, f, r)) for _, s, f, r in rows) + " |")
    for part in parts:
        cells = []
        for _, _, f, r in rows:
            cell = f"{f.get(part, 0)}" + (f" (RAM {r[part]})" if r.get(part) else "")
            cells.append(cell)
        print(f"| {part} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
