"""The QEMU command zgen runs per catalogue board (no QEMU needed to check it)."""
from __future__ import annotations

from pathlib import Path

from zgen import boards
from zgen.testing.qemu import QemuRunner
from zgen.workspace import Workspace


def _command(board: str, build: Path) -> list[str]:
    ws = Workspace(Path("/ws"), Path("/ws/zephyr"), "test")
    return QemuRunner(Path("/app"), boards.get(board), ws, build).command()


def test_single_image_boards_boot_the_app_with_icount(tmp_path):
    cmd = _command("qemu_cortex_m3", tmp_path)
    assert cmd[-2:] == ["-kernel", str(tmp_path / "zephyr" / "zephyr.elf")]
    assert "-icount" in cmd and "loader" not in " ".join(cmd)


def test_cpu1_loads_the_cpu0_image_that_releases_it(tmp_path):
    cmd = _command("mps2/an521/cpu1", tmp_path)
    loaders = [cmd[i + 1] for i, a in enumerate(cmd) if a == "-device"]
    cpu0 = tmp_path / "zephyr/boards/arm/mps2/empty_cpu0-prefix/src/empty_cpu0-build/zephyr/zephyr.elf"
    assert loaders == [f"loader,file={cpu0}", f"loader,file={tmp_path / 'zephyr' / 'zephyr.elf'}"]
    assert "-kernel" not in cmd
    assert "-icount" not in cmd  # QEMU 7.2 stalls its timer under -icount
    assert cmd[cmd.index("-cpu") + 1] == "cortex-m33"
