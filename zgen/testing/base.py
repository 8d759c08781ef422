"""The runner base class: build with west, start the simulator, collect the
firmware's event lines until the end line (or an error, or the time limit)."""
from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from zgen import simulate
from zgen.boards import Board
from zgen.errors import ToolError
from zgen.manifest import Manifest
from zgen.memory import mapfile
from zgen.workspace import Workspace, toolchain_env

RUNNERS: dict[str, type["SimRunner"]] = {}
_WARNING = re.compile(r"^(?P<file>[^\s:]+):\d+:\d+: warning: ", re.M)
# Kconfig's (a value a .conf or defconfig assigned and did not get, an unknown symbol...): the whole
# first line, which names the symbol.
_KCONFIG_WARNING = re.compile(r"^warning: \S+ \(defined at [^)]*\).*$|^warning: attempt to assign.*$", re.M)
_NINJA_STEP = re.compile(r"^\[(\d+)/(\d+)\] ")


class NinjaSteps:
    """ninja's `[done/total]` lines as the whole build's (done, total). A board whose image needs
    another builds that one with a ninja of its own, whose lines interleave with the outer one's
    (mps2/an521/cpu1 builds cpu0's image as an ExternalProject: 1,060 steps inside 300): each total
    is one ninja, and the build's progress is their sum, so it reaches the end only at the end."""

    def __init__(self) -> None:
        self.done: dict[int, int] = {}

    def __call__(self, done: int, total: int) -> tuple[int, int]:
        self.done[total] = max(done, self.done.get(total, 0))
        return sum(self.done.values()), sum(self.done)
_MEMORY = re.compile(r"^\s*(FLASH|RAM|SRAM):\s+(\d+)\s+(B|KB|MB)\s+(\d+)\s+(B|KB|MB|GB)", re.M)


@dataclass
class BuildResult:
    build_dir: Path
    log: str
    seconds: float
    warnings: list[str] = field(default_factory=list)  # compiler warnings in the app's own files
    memory: dict[str, tuple[int, int]] = field(default_factory=dict)  # region -> (used, size) bytes


@dataclass
class RunResult:
    lines: list[str]  # the firmware's `zgen:` lines
    output: str  # everything it printed
    seconds: float
    finished: bool  # the end line was seen
    failure: str | None = None  # the simulator's own verdict, when it has one (Renode's robot suite)


def _bytes(value: str, unit: str) -> int:
    return int(value) * {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}[unit]


class SimRunner:
    """One simulator. Subclasses name it, pick the default board and start it."""

    name: str = ""
    default_board: str = ""

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if cls.name:
            RUNNERS[cls.name] = cls

    def __init__(self, app: Path, board: Board, ws: Workspace, build_dir: Path | None = None):
        self.app = Path(app).resolve()
        self.board = board
        self.ws = ws
        self.build_dir = Path(build_dir or self.app / "build" / board.file_stem).resolve()

    def supports(self, board: Board) -> bool:
        """The catalogue lists, per board, the simulators that run it."""
        return self.name in board.simulators

    def command(self) -> list[str]:
        raise NotImplementedError

    def build_args(self) -> list[str]:
        """Extra CMake arguments for this simulator's build."""
        return []

    def expected(self, m: Manifest) -> tuple[list[str], bool]:
        """The lines the firmware must print (`zgen simulate`'s), and whether they end with the end
        line (the replay source's recording runs out; a fed sensor model does not)."""
        return simulate.run(m).lines, True

    def _stream(self, cmd: list[str], timeout: float, progress) -> tuple[int, str]:
        """Run west build, its output read as it comes: `progress(done, total)` for each of ninja's
        `[done/total]` steps. Returns (exit status, the whole output)."""
        try:
            proc = subprocess.Popen(cmd, cwd=self.ws.topdir, env=toolchain_env(self.board, self.ws),
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True, errors="replace", start_new_session=True)
        except FileNotFoundError:
            raise ToolError("`west` is not installed: pip install west") from None
        log = []
        steps = NinjaSteps()
        try:
            for line in read_lines(proc, timeout):
                if line is None:
                    raise ToolError(f"west build for {self.board.name} took longer than {timeout:.0f} s")
                log.append(line)
                m = _NINJA_STEP.match(line)
                if m and progress is not None:
                    progress(*steps(int(m.group(1)), int(m.group(2))))
        finally:
            stop_process_group(proc)
        return proc.returncode, "".join(log)

    def build(self, timeout: float = 1800, progress=None) -> BuildResult:
        # west's "-p auto" recompiles changed sources but does not re-run
        # Kconfig for files zgen added (a new boards/*.conf): rebuild from
        # scratch whenever the app changed since the last build (ccache keeps
        # that fast, the build folder's path being the same).
        lock = (self.app / "zgen.lock").read_bytes()
        stamp = self.build_dir / "zgen.lock.built"
        pristine = "auto" if stamp.is_file() and stamp.read_bytes() == lock else "always"
        cmd = ["west", "build", "-p", pristine, "-b", self.board.name, "-d", str(self.build_dir), str(self.app)]
        if self.build_args():
            cmd += ["--", *self.build_args()]
        start = time.monotonic()
        returncode, log = self._stream(cmd, timeout, progress)
        self.build_dir.mkdir(parents=True, exist_ok=True)
        (self.build_dir / "zgen-build.log").write_text(f"$ {' '.join(cmd)}\n{log}")
        if returncode != 0:
            tail = "\n".join(log.strip().splitlines()[-25:])
            raise ToolError(f"west build for {self.board.name} failed (exit {returncode}):\n{tail}\n"
                            f"command: {' '.join(cmd)} (in {self.ws.topdir}); full log: "
                            f"{self.build_dir / 'zgen-build.log'}")
        stamp.write_bytes(lock)
        app = str(self.app)
        warnings = sorted({m.group(0).strip() for m in _WARNING.finditer(log) if m.group("file").startswith(app)}
                          | {m.group(0).strip() for m in _KCONFIG_WARNING.finditer(log)})
        memory = {m.group(1): (_bytes(m.group(2), m.group(3)), _bytes(m.group(4), m.group(5)))
                  for m in _MEMORY.finditer(log)}
        linker_map = self.build_dir / "zephyr" / "zephyr.map"
        if not memory and linker_map.is_file():  # nothing was relinked: ld printed no usage
            sizes = mapfile.read(linker_map)
            if sizes.flash_region:
                memory = {"FLASH": (sizes.flash_used, sizes.regions[sizes.flash_region][1]),
                          "RAM": (sizes.ram_used, sizes.regions[sizes.ram_region][1])}
        return BuildResult(self.build_dir, log, time.monotonic() - start, warnings, memory)

    def run(self, timeout: float = 300, progress=None) -> RunResult:
        """Run the firmware until its end line; `progress(line)` sees each `zgen:` line as it comes."""
        cmd = self.command()
        start = time.monotonic()
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True)
        except FileNotFoundError:
            raise ToolError(f"{cmd[0]} is not installed ({self.name}); see `zgen doctor`") from None
        output, events, finished = [], [], False
        try:
            for line in read_lines(proc, timeout):
                if line is None:
                    break
                output.append(line)
                text = line.rstrip("\r\n")
                at = text.find("zgen: ")
                if at >= 0:
                    events.append(text[at:])
                    if progress is not None:
                        progress(text[at:])
                    if text[at:].startswith(("zgen: end ", "zgen: error=")):
                        finished = text[at:].startswith("zgen: end ")
                        break
        finally:
            stop_process_group(proc)
        return RunResult(events, "".join(output), time.monotonic() - start, finished)


def read_lines(proc: subprocess.Popen, timeout: float):
    """The lines a process prints (stdout), as they come, until it closes its output; a final None
    when `timeout` seconds pass first. A thread reads, so a silent process never blocks the clock."""
    out: queue.Queue[str | None] = queue.Queue()

    def pump():
        for line in proc.stdout:
            out.put(line)
        out.put(None)

    threading.Thread(target=pump, daemon=True).start()
    start = time.monotonic()
    while True:
        left = timeout - (time.monotonic() - start)
        if left <= 0:
            yield None
            return
        try:
            line = out.get(timeout=min(left, 1.0))
        except queue.Empty:
            continue
        if line is None:
            return
        yield line


def stop_process_group(proc: subprocess.Popen) -> None:
    """Stop a simulator started with start_new_session=True and everything it started (renode-test
    starts Renode as its own child): SIGTERM to the group, SIGKILL after 5 s. A no-op once the
    group is empty."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=5)
            break
        except subprocess.TimeoutExpired:
            continue
    proc.wait()


def get_runner(name: str) -> type[SimRunner]:
    if name not in RUNNERS:
        raise ToolError(f"no simulator '{name}': choose one of {', '.join(sorted(RUNNERS))}")
    return RUNNERS[name]
