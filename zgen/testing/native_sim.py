"""native_sim: the firmware as a Linux executable."""
from __future__ import annotations

from zgen.testing.base import SimRunner


class NativeSimRunner(SimRunner):
    name = "native_sim"
    default_board = "native_sim"

    def command(self) -> list[str]:
        return [str(self.build_dir / "zephyr" / "zephyr.exe")]
