"""One `zgen test` run: build, simulate, compare, report."""
from __future__ import annotations

import subprocess

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from zgen import boards
from zgen.codegen.lock import Lock, sha256
from zgen.errors import Problem, ToolError, ZgenError
from zgen.manifest import load_manifest
from zgen.progress import Progress
from zgen.testing.base import BuildResult, RunResult, get_runner
from zgen.testing.compare import Comparison, arena_figures, compare
from zgen.workspace import require_workspace


@dataclass
class TestOutcome:
    passed: bool
    build: BuildResult
    run: RunResult
    comparison: Comparison
    arena: tuple[int, int] | None  # firmware's (used, size)
    problems: list[str]


def run_limit(m, sim: str, board) -> float:
    """Seconds the firmware may run by default: 300, or for a board the simulator runs in real
    time (QEMU without -icount) the recording's duration and half again, plus a minute."""
    real_time = sim == "qemu" and not board.simulators.get("qemu", {}).get("icount", True)
    seconds = m.recording.samples / m.rate_hz
    return max(300.0, 1.5 * seconds + 60) if real_time else 300.0


def run_test(app: Path, sim: str, board: str | None = None, timeout: float | None = None,
             say: Callable[[str], None] = print, progress=None) -> TestOutcome:
    """Build, run, compare. `progress`: a stream to show the build's steps and the run's decisions
    on (zgen.progress), or None."""
    app = Path(app)
    lock = Lock.read(app)
    if lock is None:
        raise ZgenError(Problem(str(app), None, None, "is not a zgen app (no zgen.lock)",
                                "give the folder `zgen new` wrote"))
    manifest_path = (app / lock.manifest).resolve()
    m = load_manifest(manifest_path, allow=tuple(lock.allow))
    stale = [role for role, path in (("manifest", m.path), ("model", m.model.path), ("data", m.recording.path))
             if lock.inputs.get(role) != sha256(Path(path).read_bytes())]
    if stale:
        say(f"warning: {', '.join(stale)} changed since the app was generated; run `zgen new` again")

    runner_cls = get_runner(sim)
    target = boards.get(board or runner_cls.default_board)
    if target is None:
        raise ZgenError(Problem("--board", None, None, f"board '{board}' is not in the catalogue",
                                "`zgen boards` lists the boards"))
    ws = require_workspace()
    mismatch = ws.pin_mismatch()
    if mismatch:
        say(f"warning: the workspace at {ws.topdir} has {mismatch}: zgen's arena replay and memory plan were "
            "measured on zgen's revisions (apps generated here use a safe arena bound)")
    runner = runner_cls(app, target, ws)
    if not runner.supports(target):
        raise ToolError(f"{sim} cannot run {target.name}; boards it runs: "
                        + ", ".join(b.name for b in boards.catalogue().values() if runner.supports(b)))
    say(f"building {app} for {target.name} in {runner.ws.topdir} (Zephyr {runner.ws.version}) ...")
    bar = Progress("  build", progress) if progress is not None else None
    try:
        build = runner.build(progress=bar.update if bar else None)
    finally:
        if bar:
            bar.close()
    mem = ", ".join(f"{k} {u} of {s} B" for k, (u, s) in build.memory.items())
    say(f"built in {build.seconds:.0f} s: {mem}")
    say(f"running {' '.join(runner.command())}")
    expected, ends = runner.expected(m)
    timeout = timeout or run_limit(m, sim, target)
    decisions = sum(" win=" in line for line in expected)
    bar = Progress("  run (decisions)", progress) if progress is not None else None
    seen = [0]

    def on_line(line: str) -> None:
        if " win=" in line:
            seen[0] += 1
            bar.update(seen[0], decisions)

    try:
        result = runner.run(timeout=timeout, progress=on_line if bar else None)
    finally:
        if bar:
            bar.close()
    got = result.lines if ends else result.lines[:len(expected)]  # what followed the last window
    cmp = compare(expected, got, f"{sim} ({target.name})")

    problems = [f"build warning: {w}" for w in build.warnings]
    elf = build.build_dir / "zephyr" / "zephyr.elf"
    if target.arch != "posix" and elf.is_file():
        from zgen.memory.heap import report as heap_report

        try:
            heap = heap_report(elf)
        except (FileNotFoundError, OSError, subprocess.CalledProcessError) as e:
            say(f"heap: not checked ({e})")
        else:
            say(f"heap: {heap.summary()}")
            if not heap.ok:
                problems.append(f"the image can allocate after start-up: {heap.summary()}")
    if result.failure:
        problems.append(result.failure)
    if not result.finished:
        problems.append(f"the firmware did not print its end line within {timeout:.0f} s" if ends else
                        f"the firmware did not print every expected line within {timeout:.0f} s")
    arena = arena_figures(result.lines[0]) if result.lines else None
    if arena and arena[0] > arena[1]:
        problems.append(f"arena_used {arena[0]} exceeds the arena ({arena[1]})")
    if not cmp.equal:
        problems.append("event lines differ from `zgen simulate`")
    if cmp.overruns:
        say(f"warning: the firmware reported {cmp.overruns} overrun sample period(s)")
    return TestOutcome(not problems, build, result, cmp, arena, problems)
