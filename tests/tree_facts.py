"""Board facts read straight from a Zephyr tree, independently of zgen's
catalogue: sizes from the board YAML (or the chosen flash / SRAM nodes), core,
LED aliases, console and buses from the preprocessed devicetree (Zephyr's own
dtlib), QEMU machine, pyOCD target and runners from board.cmake."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

CORES = {"arm,cortex-m3": "cortex-m3", "arm,cortex-m4f": "cortex-m4f", "arm,cortex-m4": "cortex-m4",
         "arm,cortex-m33f": "cortex-m33f", "arm,cortex-m33": "cortex-m33", "zephyr,native-posix-cpu": "host"}


def board_files(zephyr: Path, name: str) -> tuple[Path, Path]:
    """(board yaml, board dts) for a board/soc name such as nrf52840dk/nrf52840."""
    stem = name.replace("/", "_")
    for yml in zephyr.glob(f"boards/*/*/{stem}.yaml"):
        return yml, yml.with_suffix(".dts")
    raise FileNotFoundError(f"{name}: no boards/*/*/{stem}.yaml in {zephyr}")


def devicetree(zephyr: Path, dts: Path):
    sys.path.insert(0, str(zephyr / "scripts/dts/python-devicetree/src"))
    from devicetree import dtlib

    inc = [zephyr / "include", zephyr / "dts/common", zephyr / "dts/arm", zephyr / "dts/posix", zephyr / "dts",
           dts.parent]
    pp = subprocess.run(["cpp", "-nostdinc", "-undef", "-D__DTS__", "-x", "assembler-with-cpp", "-P",
                         *[f"-I{p}" for p in inc], str(dts)], capture_output=True, text=True, check=True).stdout
    tmp = Path(subprocess.run(["mktemp", "--suffix=.dts"], capture_output=True, text=True).stdout.strip())
    tmp.write_text(pp)
    try:
        return dtlib.DT(str(tmp))
    finally:
        tmp.unlink()


def facts(zephyr: Path, name: str) -> dict:
    yml_path, dts = board_files(zephyr, name)
    meta = yaml.safe_load(yml_path.read_text())
    dt = devicetree(zephyr, dts)
    chosen = dt.get_node("/chosen").props
    aliases = dt.get_node("/aliases").props if dt.has_node("/aliases") else {}

    def size_kb(prop: str):
        if prop not in chosen:
            return None
        return chosen[prop].to_path().props["reg"].to_nums()[-1] // 1024

    cpus = [c.props["compatible"].to_strings()[0] for c in dt.get_node("/cpus").nodes.values()
            if "compatible" in c.props]
    labels = {label for node in dt.node_iter() for label in node.labels}
    cmake = (dts.parent / "board.cmake").read_text() if (dts.parent / "board.cmake").exists() else ""
    machine = re.search(r"-machine\s+([\w-]+)", cmake)
    pyocd = re.search(r'board_runner_args\(pyocd\s+"--target=([\w-]+)"', cmake)
    runners = re.findall(r"boards/common/([\w-]+)\.board\.cmake", cmake)
    return {
        "flash_kb": meta.get("flash", size_kb("zephyr,flash")),
        "ram_kb": meta.get("ram", size_kb("zephyr,sram")),
        "core": CORES.get(cpus[0], cpus[0]) if cpus else None,
        "leds": sorted(k for k in aliases if re.fullmatch(r"led\d+", k)),
        "console": chosen["zephyr,console"].to_path().labels[0] if "zephyr,console" in chosen else None,
        "buses": sorted(label for label in labels if re.fullmatch(r"(i2c|spi)\d+", label)),
        "qemu_machine": machine.group(1) if machine else None,
        "pyocd_target": pyocd.group(1) if pyocd else None,
        "runners": sorted({r.split("-")[0] for r in runners}),
    }
