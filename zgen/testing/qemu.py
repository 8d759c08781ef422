"""QEMU: the firmware's ELF on an emulated board (machine and CPU from the catalogue)."""
from __future__ import annotations

from zgen.testing.base import SimRunner

_SYSTEM = {"arm": "qemu-system-arm", "riscv": "qemu-system-riscv32"}


class QemuRunner(SimRunner):
    name = "qemu"
    default_board = "qemu_cortex_m3"

    def command(self) -> list[str]:
        q = self.board.simulators["qemu"]
        cmd = [_SYSTEM[self.board.arch], "-machine", q["machine"]]
        if q.get("cpu"):
            cmd += ["-cpu", q["cpu"]]
        cmd += ["-nographic", "-vga", "none", "-net", "none", "-serial", "stdio", "-monitor", "none"]
        if q.get("icount", True):
            # Instruction counting makes time deterministic; sleep=off skips idle time.
            cmd += ["-icount", "shift=6,align=off,sleep=off", "-rtc", "clock=vm"]
        cmd += list(q.get("extra_args", []))
        app = self.build_dir / "zephyr" / "zephyr.elf"
        if q.get("loaders"):
            # A board whose build makes more than one image (mps2/an521/cpu1: a cpu0 image that
            # releases cpu1): board.cmake loads them all with QEMU's generic loader, not -kernel.
            images = [self.build_dir / p for p in q["loaders"]] + [app]
            return cmd + [arg for image in images for arg in ("-device", f"loader,file={image}")]
        return cmd + ["-kernel", str(app)]
