"""Renode: the firmware's ELF on Renode's model of a real board, checked by the
app's robot suite (tests/renode/<board>.robot) with Renode's renode-test.

The app is built with tests/renode/<board>.overlay, which `zgen new` wrote:
the manifest's parts where Renode models each of them on that board (the suite
then feeds the recording into those models, see renode_feed), the replay
source elsewhere. The console goes to a file too, so `zgen test` compares
every line with `zgen simulate` as for the other simulators, besides the
suite's own verdict.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from zgen import simulate
from zgen.errors import ToolError
from zgen.manifest import Manifest
from zgen import renode_feed
from zgen.testing.base import RunResult, SimRunner, stop_process_group


def find_renode() -> Path | None:
    """The renode launcher: $RENODE, $RENODE_PATH/renode, renode on PATH, or a build in ~/renode
    (where Renode's build from source leaves it, as ~/zephyrproject for Zephyr)."""
    for p in (os.environ.get("RENODE"), os.environ.get("RENODE_PATH") and
              str(Path(os.environ["RENODE_PATH"]) / "renode"), shutil.which("renode"),
              str(Path.home() / "renode" / "renode")):
        if p and Path(p).exists():
            return Path(p)
    return None


def find_renode_test() -> Path | None:
    """renode-test beside the renode launcher, or on PATH."""
    renode, on_path = find_renode(), shutil.which("renode-test")
    candidates = ([renode.parent / "renode-test"] if renode else []) + ([Path(on_path)] if on_path else [])
    return next((c for c in candidates if c.is_file() and os.access(c, os.X_OK)), None)


class RenodeRunner(SimRunner):
    name = "renode"
    default_board = "nrf52840dk/nrf52840"

    def __init__(self, app, board, ws, build_dir=None):
        super().__init__(app, board, ws, build_dir or Path(app) / "build" / f"{board.file_stem}-renode")

    def build_args(self) -> list[str]:
        # DTC_OVERLAY_FILE replaces boards/<board>.overlay: sensors or replay, never both.
        return [f"-DDTC_OVERLAY_FILE=tests/renode/{self.board.file_stem}.overlay"]

    def expected(self, m: Manifest) -> tuple[list[str], bool]:
        fed = renode_feed.plan(m, self.board)
        if not fed:
            return super().expected(m)
        # Fed parts keep sampling after the recording (Renode then returns its default sample):
        # the firmware prints every window's line but no end line.
        return simulate.run(m, renode_feed.driver_view(m.recording, fed)).lines[:-1], False

    @property
    def suite(self) -> Path:
        return self.app / "tests" / "renode" / f"{self.board.file_stem}.robot"

    @property
    def uart_log(self) -> Path:
        return self.build_dir / "renode-uart.log"

    def command(self) -> list[str]:
        tool = find_renode_test()
        if tool is None:
            raise ToolError("renode-test not found (RENODE, RENODE_PATH, PATH): build Renode 1.15.1 from source "
                            "and set RENODE=/path/to/renode; see `zgen doctor`")
        return [str(tool), str(self.suite), "--variable", f"ELF:{self.build_dir / 'zephyr' / 'zephyr.elf'}",
                "--variable", f"UART_LOG:{self.uart_log}", "-r", str(self.build_dir / "renode-results")]

    def run(self, timeout: float = 300, progress=None) -> RunResult:
        overlay = self.app / "tests" / "renode" / f"{self.board.file_stem}.overlay"
        for needed in (self.suite, overlay):
            if not needed.is_file():
                raise ToolError(f"{needed} is missing: run `zgen new` again to write the Renode suites")
        cmd = self.command()
        self.uart_log.unlink(missing_ok=True)
        start = time.monotonic()
        # renode-test starts Renode (mono) as its own child: on the time limit (or Ctrl-C) the whole
        # process group goes, or Renode keeps running the firmware long after zgen has given up.
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
            verdict = None if proc.returncode == 0 else _summary(out + err, proc.returncode)
        except subprocess.TimeoutExpired:
            verdict = f"renode-test did not finish within {timeout:.0f} s"
        finally:
            stop_process_group(proc)
        console = self.uart_log.read_text(errors="replace") if self.uart_log.is_file() else ""
        lines = []
        for text in console.splitlines():
            at = text.find("zgen: ")
            if at >= 0:
                lines.append(text[at:].rstrip("\r"))
        # A passing suite has seen every expected line, the end line included where one comes.
        finished = verdict is None or any(line.startswith("zgen: end ") for line in lines)
        return RunResult(lines, console, time.monotonic() - start, finished, verdict)


def _summary(output: str, code: int) -> str:
    """The robot failure lines renode-test printed, or its exit status."""
    keep = [line.strip() for line in output.splitlines() if "fail" in line.lower() or "Error" in line][-6:]
    return f"renode-test exit {code}: " + (" | ".join(keep) if keep else "no output")
