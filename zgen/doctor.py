"""`zgen doctor`: what zgen found on this machine (workspace, toolchains,
simulators, probes) and, for each missing piece, how to install it."""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from zgen.testing.renode import find_renode
from zgen.boards import catalogue
from zgen.workspace import cross_toolchain_problem, find_workspace, zephyr_sdk_dir


@dataclass
class Check:
    what: str
    ok: bool
    found: str  # what was found, or why not
    fix: str = ""  # how to get it, when missing
    needed_for: str = ""


def _version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else ""


def _tool(name: str, what: str, fix: str, needed_for: str, version_args=("--version",)) -> Check:
    path = shutil.which(name)
    if path is None:
        return Check(what, False, f"{name} not on PATH", fix, needed_for)
    return Check(what, True, f"{path}: {_version([path, *version_args])}", needed_for=needed_for)


def checks() -> list[Check]:
    out = []
    ws = find_workspace()
    if ws is None:
        out.append(Check("Zephyr workspace", False, "none at ZEPHYR_BASE, around the current directory or "
                         "~/zephyrproject", "west init -l <this repository> ~/zephyrproject && west update "
                         "(or west init -m https://github.com/zephyrproject-rtos/zephyr --mr v3.7.1; "
                         "west config manifest.group-filter -- +optional; west update)", "zgen test"))
    else:
        out.append(Check("Zephyr workspace", True, f"{ws.topdir} (Zephyr {ws.version}, found by {ws.found_by})",
                         needed_for="zgen test"))
        mismatch = ws.pin_mismatch()
        rev = ws.tflm_revision
        out.append(Check("Zephyr and TFLM revisions", mismatch is None,
                         mismatch or f"Zephyr {ws.version}, TFLM {rev[:8] if rev else '(not found)'}: zgen's",
                         "west update to Zephyr v3.7.1's manifest (zgen's arena replay, op tables and memory plan "
                         "hold there; elsewhere generated arenas fall back to the host's total + 25 %)",
                         "exact arenas and memory plans"))
        tflm = ws.tflite_micro
        out.append(Check("tflite-micro module", bool(tflm), str(tflm) if tflm else "not in the workspace",
                         "west config manifest.group-filter -- +optional && west update tflite-micro",
                         "every generated app"))
        nn = ws.cmsis_nn
        out.append(Check("cmsis-nn module", bool(nn), str(nn) if nn else "not in the workspace",
                         "west update cmsis-nn (without it, cores with DSP fall back to the reference kernels)",
                         "CMSIS-NN kernels on cores with DSP"))
    sdk = zephyr_sdk_dir()
    out.append(Check("Zephyr SDK", sdk is not None, str(sdk) if sdk else "not installed",
                     "optional: Debian's arm-none-eabi toolchain below works too", "Cortex-M builds"))
    arm = _tool("arm-none-eabi-gcc", "Arm GCC (gnuarmemb)", "apt-get install gcc-arm-none-eabi", "Cortex-M builds")
    out.append(arm)
    if sdk is None:
        specs = Path("/usr/lib/picolibc/arm-none-eabi/picolibc.specs")
        libstdcxx = list(Path("/usr/lib/picolibc/arm-none-eabi/lib").glob("**/libstdc++.a")) if specs.exists() else []
        out.append(Check("picolibc for Arm GCC", specs.is_file(), str(specs) if specs.is_file() else "missing",
                         "apt-get install picolibc-arm-none-eabi", "TFLM apps with Debian's toolchain"))
        out.append(Check("libstdc++ for picolibc", bool(libstdcxx), f"{len(libstdcxx)} multilib variants"
                         if libstdcxx else "missing", "apt-get install libstdc++-arm-none-eabi-picolibc",
                         "TFLM's C++ with Debian's toolchain"))
        riscv = cross_toolchain_problem(catalogue()["qemu_riscv32"])
        out.append(Check("RISC-V GCC with libstdc++", riscv is None,
                         (shutil.which("riscv64-unknown-elf-gcc") or "") if riscv is None else riscv,
                         "apt-get install gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf, then a libstdc++ "
                         "built against that picolibc (README, RISC-V), or the Zephyr SDK", "RISC-V boards"))
    host = _tool("gcc", "host GCC", "apt-get install gcc g++", "native_sim")
    out.append(host)
    m32 = Path("/usr/lib/gcc/x86_64-linux-gnu").glob("*/32/libstdc++.so")
    has_m32 = any(True for _ in m32)
    out.append(Check("32-bit host libraries", has_m32, "gcc/g++ multilib present" if has_m32 else "missing",
                     "apt-get install gcc-multilib g++-multilib", "native_sim (a 32-bit executable)"))
    out.append(_tool("qemu-system-arm", "QEMU (Arm)", "apt-get install qemu-system-arm", "zgen test --sim qemu"))
    out.append(_tool("west", "west", "pip install west", "zgen test", ("--version",)))
    renode = find_renode()
    out.append(Check("Renode", bool(renode), str(renode) if renode else "not found (RENODE, RENODE_PATH, PATH)",
                     "build Renode 1.15.1 from source (mono-complete) and set RENODE=/path/to/renode",
                     "Renode tests"))
    out.append(_tool("pyocd", "pyOCD", "pip install pyocd", "flashing and probes", ("--version",)))
    out.append(_tool("dtc", "devicetree compiler", "apt-get install device-tree-compiler", "Zephyr builds"))
    out.append(_tool("ninja", "Ninja", "apt-get install ninja-build", "Zephyr builds"))
    return out


def report(items: list[Check]) -> str:
    lines = []
    for c in items:
        mark = "ok " if c.ok else "-- "
        lines.append(f"{mark} {c.what:<26} {c.found}")
        if not c.ok:
            lines.append(f"    {'':<26} needed for {c.needed_for}: {c.fix}")
    return "\n".join(lines)
