"""A finished `west build` of a zgen app, read back: its board, the app and
manifest it came from, replay or real sensors, the arena, and its linker map."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from zgen import boards
from zgen.boards import Board
from zgen.codegen.lock import Lock, sha256
from zgen.errors import ZgenError
from zgen.manifest import Manifest, load_manifest
from zgen.memory import mapfile


def _cmake_cache(build: Path) -> dict[str, str]:
    out = {}
    for line in (build / "CMakeCache.txt").read_text(errors="replace").splitlines():
        m = re.match(r"^([A-Za-z_][\w.-]*):\w+=(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def _kconfig(build: Path) -> dict[str, str]:
    out = {}
    for line in (build / "zephyr" / ".config").read_text(errors="replace").splitlines():
        if line.startswith("CONFIG_") and "=" in line:
            k, v = line.split("=", 1)
            out[k] = v.strip('"')
    return out


@dataclass
class Build:
    path: Path  # the build folder

    @cached_property
    def cache(self) -> dict[str, str]:
        return _cmake_cache(self.path)

    @cached_property
    def config(self) -> dict[str, str]:
        return _kconfig(self.path)

    @property
    def board(self) -> Board | None:
        """The catalogue entry: by the full target (board/soc/variant), else by the board alone
        (the catalogue names single-SoC boards without their SoC)."""
        target = self.config.get("CONFIG_BOARD_TARGET", "")
        return boards.get(target) or boards.get(self.config.get("CONFIG_BOARD", ""))

    @property
    def app(self) -> Path:
        return Path(self.cache["APPLICATION_SOURCE_DIR"])

    @cached_property
    def manifest(self) -> Manifest:
        lock = Lock.read(self.app)
        return load_manifest((self.app / lock.manifest).resolve(), allow=tuple(lock.allow))

    @property
    def replay(self) -> bool:
        return self.config.get("CONFIG_ZGEN_REPLAY") == "y"

    @property
    def kernels(self) -> str:
        """The TFLM kernel set it was built with (tflm_layout.KERNEL_SETS)."""
        return "cmsis-nn" if self.config.get("CONFIG_TENSORFLOW_LITE_MICRO_CMSIS_NN_KERNELS") == "y" else "reference"

    @property
    def arena(self) -> int:
        return int(self.config["CONFIG_ZGEN_ARENA_SIZE"])

    @cached_property
    def sizes(self) -> mapfile.MapSizes:
        return mapfile.read(self.path / "zephyr" / "zephyr.map")

    @cached_property
    def edited(self) -> list[str]:
        """What makes this build other than the app zgen wrote: generated files changed since
        (bench/all_kernels.py's resolver of every op, bench/time_plan.py's Kconfig, a user's code or
        configuration), or a profile build (CONFIG_ZGEN_PROFILE prints per operator). Such a build is
        not what the plan describes. The callback file is the user's to write; the README does not
        build."""
        lock = Lock.read(self.app)
        out = []
        for rel, digest in (lock.files.items() if lock else ()):
            path = self.app / rel
            if rel not in ("src/zgen_callback.c", "README.md") and path.is_file() \
                    and sha256(path.read_bytes()) != digest:
                out.append(rel)
        if self.config.get("CONFIG_ZGEN_PROFILE") == "y":
            out.append("CONFIG_ZGEN_PROFILE=y")
        return out

    def is_zgen_app(self) -> bool:
        return ((self.path / "zephyr" / "zephyr.map").is_file() and (self.path / "CMakeCache.txt").is_file()
                and "CONFIG_ZGEN_ARENA_SIZE" in self.config and (self.app / "zgen.lock").is_file())

    def __str__(self) -> str:
        b = self.board
        return f"{self.manifest.name} on {b.name if b else '?'} ({'replay' if self.replay else 'sensors'})"


def find_builds(*roots: Path) -> list[Build]:
    """zgen app builds under these folders (any depth), for boards of the catalogue."""
    out = []
    for root in roots:
        for mp in sorted(Path(root).glob("**/zephyr/zephyr.map")):
            b = Build(mp.parent.parent)
            try:
                if b.is_zgen_app() and b.board is not None and b.manifest is not None:
                    out.append(b)
            except (OSError, KeyError, ValueError, ZgenError):
                continue  # not a zgen app, or its manifest is gone
    return out
