"""Finding a Zephyr workspace and a toolchain the way Zephyr's own tools do:
ZEPHYR_BASE, then the west workspace around the current directory, then
~/zephyrproject."""
from __future__ import annotations

import configparser
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from zgen.boards import Board
from zgen.errors import ToolError

# The Zephyr release generated apps are built and measured against, and the west projects of its
# manifest they need (the repository's west.yml imports the same; a test keeps the two equal).
ZEPHYR_REVISION = "v3.7.1"
WEST_PROJECTS = ("cmsis", "cmsis-nn", "cmsis-dsp", "hal_nordic", "hal_stm32", "hal_st", "picolibc", "tflite-micro")


@dataclass(frozen=True)
class Workspace:
    topdir: Path  # where west runs
    zephyr_base: Path
    found_by: str  # how it was found, for messages and `zgen doctor`

    @property
    def version(self) -> str:
        fields = {}
        for line in (self.zephyr_base / "VERSION").read_text().splitlines():
            if "=" in line:
                k, v = line.split("=", 1)
                fields[k.strip()] = v.strip()
        return f"{fields.get('VERSION_MAJOR')}.{fields.get('VERSION_MINOR')}.{fields.get('PATCHLEVEL')}"

    @property
    def tflite_micro(self) -> Path | None:
        """The tflite-micro module (group `optional` in Zephyr's west.yml)."""
        for p in (self.topdir / "optional/modules/lib/tflite-micro", self.topdir / "modules/lib/tflite-micro"):
            if (p / "tensorflow/lite/micro").is_dir():
                return p
        return None

    @property
    def tflm_revision(self) -> str | None:
        """The commit the tflite-micro module is checked out at (None: not a git checkout)."""
        tflm = self.tflite_micro
        if tflm is None:
            return None
        try:
            out = subprocess.run(["git", "-C", str(tflm), "rev-parse", "HEAD"], capture_output=True, text=True,
                                 timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            return None
        rev = out.stdout.strip()
        return rev if out.returncode == 0 and len(rev) == 40 else None

    def pin_mismatch(self) -> str | None:
        """What differs from the Zephyr and TFLM revisions zgen's arena replay, op tables and memory
        measurements were made with, e.g. "Zephyr 3.6.0 (zgen's: 3.7.1)"; None when both match."""
        from zgen.model.ops import TFLM_REVISION

        differ = []
        if self.version != ZEPHYR_REVISION.lstrip("v"):
            differ.append(f"Zephyr {self.version} (zgen's: {ZEPHYR_REVISION.lstrip('v')})")
        rev = self.tflm_revision
        if self.tflite_micro is not None and rev != TFLM_REVISION:
            differ.append(f"TFLM {rev[:8] if rev else 'of unknown revision'} (zgen's: {TFLM_REVISION[:8]})")
        return " and ".join(differ) or None

    @property
    def cmsis_nn(self) -> Path | None:
        """The cmsis-nn module: CMSIS-NN's kernels for cores with DSP."""
        p = self.topdir / "modules/lib/cmsis-nn"
        return p if (p / "Include" / "arm_nnfunctions.h").is_file() else None


def _is_zephyr(path: Path) -> bool:
    return (path / "VERSION").is_file() and (path / "cmake" / "modules" / "zephyr_default.cmake").is_file()


def _west_topdir(start: Path) -> Path | None:
    for d in (start, *start.parents):
        if (d / ".west" / "config").is_file():
            return d
    return None


def _zephyr_in(topdir: Path) -> Path | None:
    cfg = configparser.ConfigParser()
    cfg.read(topdir / ".west" / "config")
    base = cfg.get("zephyr", "base", fallback=None)
    for candidate in ([topdir / base] if base else []) + [topdir / "zephyr"]:
        if _is_zephyr(candidate):
            return candidate
    return None


def find_workspace(cwd: Path | None = None) -> Workspace | None:
    env = os.environ.get("ZEPHYR_BASE")
    if env:
        base = Path(env).expanduser().resolve()
        if _is_zephyr(base):
            top = _west_topdir(base) or base.parent
            return Workspace(top, base, "ZEPHYR_BASE")
    top = _west_topdir(Path(cwd or os.getcwd()).resolve())
    if top is not None:
        base = _zephyr_in(top)
        if base is not None:
            return Workspace(top, base, f"west workspace around {cwd or os.getcwd()}")
    home = Path.home() / "zephyrproject"
    if (home / ".west" / "config").is_file():
        base = _zephyr_in(home)
        if base is not None:
            return Workspace(home, base, "~/zephyrproject")
    return None


def require_workspace() -> Workspace:
    ws = find_workspace()
    if ws is None:
        raise ToolError(
            "no Zephyr workspace found (looked at ZEPHYR_BASE, the west workspace around the current "
            "directory, and ~/zephyrproject); create one with `west init -m <zephyr> ~/zephyrproject && "
            "west update`, with the tflite-micro module enabled (`west config manifest.group-filter -- +optional`)"
        )
    return ws


def zephyr_sdk_dir() -> Path | None:
    env = os.environ.get("ZEPHYR_SDK_INSTALL_DIR")
    candidates = [Path(env)] if env else []
    candidates += sorted(Path.home().glob("zephyr-sdk-*"), reverse=True)
    candidates += sorted(Path("/opt").glob("zephyr-sdk-*"), reverse=True)
    return next((c for c in candidates if (c / "sdk_version").is_file()), None)


CROSS_PREFIX = {"arm": "arm-none-eabi", "riscv": "riscv64-unknown-elf"}


def cross_toolchain_problem(board: Board) -> str | None:
    """Why the GCC on PATH cannot build a TFLM app for this board without the Zephyr SDK, or None.
    TFLM needs libstdc++: Debian packages one for Arm (libstdc++-arm-none-eabi-picolibc) but none
    for RISC-V, where it must be built against picolibc-riscv64-unknown-elf for the board's
    multilib (rv32imac/ilp32 for qemu_riscv32 and hifive1)."""
    prefix = CROSS_PREFIX.get(board.arch)
    gcc = shutil.which(f"{prefix}-gcc") if prefix else None
    if gcc is None:
        if board.arch == "riscv":
            return (f"no {prefix}-gcc on PATH: install the Zephyr SDK, or Debian's gcc-riscv64-unknown-elf and "
                    "picolibc-riscv64-unknown-elf with a libstdc++ built against that picolibc (README, RISC-V)")
        return (f"no {prefix or 'cross'}-gcc on PATH: install the Zephyr SDK, or Debian's gcc-arm-none-eabi, "
                "picolibc-arm-none-eabi and libstdc++-arm-none-eabi-picolibc")
    if board.arch != "riscv":
        return None
    flags = ["-march=rv32imac_zicsr_zifencei", "-mabi=ilp32"]  # what Zephyr passes for qemu_riscv32

    def ask(option: str) -> str:
        try:
            return subprocess.run([gcc, *flags, option], capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""

    if ask("-print-multi-directory") != "rv32imac/ilp32":
        return (f"{gcc} maps Zephyr's -march=rv32imac_zicsr_zifencei to its default (rv64) libraries: install the "
                "Zephyr SDK, or give that GCC a specs file whose multilib matches take the _zicsr_zifencei names")
    missing = [n for n in ("picolibc.specs", "libstdc++.a") if not Path(ask(f"-print-file-name={n}")).is_absolute()]
    if missing:
        return (f"{gcc} has no {' or '.join(missing)} for rv32imac/ilp32 (Debian packages picolibc-riscv64-unknown-elf "
                "but no libstdc++ for it): install the Zephyr SDK, or a GCC with a libstdc++ built against that "
                "picolibc first on PATH")
    return None


def toolchain_env(board: Board, ws: Workspace) -> dict[str, str]:
    """The environment `west build` needs for this board."""
    env = dict(os.environ)
    env["ZEPHYR_BASE"] = str(ws.zephyr_base)
    if board.arch == "posix":
        env["ZEPHYR_TOOLCHAIN_VARIANT"] = "host"
        return env
    if env.get("ZEPHYR_TOOLCHAIN_VARIANT"):
        return env
    if zephyr_sdk_dir() is not None:
        env["ZEPHYR_TOOLCHAIN_VARIANT"] = "zephyr"
        return env
    problem = cross_toolchain_problem(board)
    if problem:
        raise ToolError(f"no toolchain for {board.name} ({board.arch}): {problem}")
    gcc = shutil.which(f"{CROSS_PREFIX[board.arch]}-gcc")
    env["ZEPHYR_TOOLCHAIN_VARIANT"] = "cross-compile" if board.arch != "arm" else "gnuarmemb"
    if board.arch == "arm":
        env["GNUARMEMB_TOOLCHAIN_PATH"] = str(Path(gcc).resolve().parent.parent)
    else:
        env["CROSS_COMPILE"] = gcc[: -len("gcc")]
    return env
