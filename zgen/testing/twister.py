"""twister: the app's own sample.yaml scenarios, run in the workspace the way
Zephyr's CI runs them (the replay scenarios on the simulated boards with the
console harness matching `zgen simulate`'s lines; build-only scenarios on the
real ones).

One twister run per toolchain: native_sim builds with the host's GCC, the
other boards with the cross toolchain, and twister takes one toolchain per run.
`--subset N/M` is passed on, so a large board matrix spreads over CI machines.
"""
from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from zgen import boards
from zgen.boards import Board
from zgen.errors import ToolError, ZgenError, Problem
from zgen.workspace import Workspace, toolchain_env


@dataclass
class ScenarioResult:
    scenario: str
    platform: str
    status: str  # passed, failed, error, filtered, skipped, ...
    reason: str = ""


@dataclass
class TwisterOutcome:
    results: list[ScenarioResult] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    seconds: float = 0.0
    left_out: list[str] = field(default_factory=list)  # boards with no toolchain here, and why

    @property
    def ran(self) -> list[ScenarioResult]:
        return [r for r in self.results if r.status not in ("filtered", "skipped")]

    @property
    def passed(self) -> bool:
        return bool(self.ran) and all(r.status == "passed" for r in self.ran)


def default_boards() -> list[Board]:
    """The simulated boards: what `--twister` runs when no board is named."""
    return [b for b in boards.catalogue().values() if b.simulated]


def command(app: Path, platforms: list[str], outdir: Path, subset: str | None,
            toolchain: str | None = None) -> list[str]:
    cmd = ["west", "twister", "-T", str(app), "--outdir", str(outdir), "--inline-logs", "-v"]
    for p in platforms:
        cmd += ["-p", p]
    if subset:
        cmd += ["--subset", subset]
    if toolchain == "cross-compile":
        # Board YAMLs list the toolchains they were tested with (qemu_riscv32: zephyr, xtools);
        # twister filters out any other unless forced.
        cmd.append("--force-toolchain")
    return cmd


def read_report(path: Path) -> list[ScenarioResult]:
    """The scenarios of twister.json: (name, platform, status, reason)."""
    data = json.loads(path.read_text())
    return [ScenarioResult(s.get("name", "?"), s.get("platform", "?"), s.get("status", "?"), s.get("reason") or "")
            for s in data.get("testsuites", [])]


def run_twister(app: Path, ws: Workspace, board_names: list[str] | None = None, subset: str | None = None,
                timeout: float = 5400, say: Callable[[str], None] = print) -> TwisterOutcome:
    app = Path(app).resolve()
    if not (app / "sample.yaml").is_file():
        raise ZgenError(Problem(str(app), None, None, "has no sample.yaml", "give the folder `zgen new` wrote"))
    if board_names:
        chosen = []
        for name in board_names:
            b = boards.get(name)
            if b is None:
                raise ZgenError(Problem("--boards", None, None, f"board '{name}' is not in the catalogue",
                                        "`zgen boards` lists the boards"))
            chosen.append(b)
    else:
        chosen = default_boards()
    outcome = TwisterOutcome()
    groups: dict[str, list[Board]] = {}
    envs: dict[str, dict[str, str]] = {}  # per group: one toolchain per twister run
    for b in chosen:
        group = "host" if b.arch == "posix" else b.arch
        try:
            envs.setdefault(group, toolchain_env(b, ws))
        except ToolError as e:  # no toolchain here for this board: leave it out, with the reason
            outcome.left_out.append(f"{b.name}: {e}")
            continue
        groups.setdefault(group, []).append(b)
    start = time.monotonic()
    for group, members in groups.items():
        outdir = app / "build" / f"twister-{group}"
        env = envs[group]
        cmd = command(app, [b.twister_name for b in members], outdir, subset, env.get("ZEPHYR_TOOLCHAIN_VARIANT"))
        outcome.commands.append(" ".join(cmd))
        say(f"running {' '.join(cmd)}")
        try:
            proc = subprocess.run(cmd, cwd=ws.topdir, env=env, capture_output=True, text=True, timeout=timeout)
        except FileNotFoundError:
            raise ToolError("`west` is not installed: pip install west") from None
        except subprocess.TimeoutExpired:
            raise ToolError(f"twister ({group}) took longer than {timeout:.0f} s") from None
        outdir.mkdir(parents=True, exist_ok=True)
        (outdir / "zgen-twister.log").write_text(proc.stdout + proc.stderr)
        report = outdir / "twister.json"
        if not report.is_file():
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
            raise ToolError(f"twister ({group}) wrote no report (exit {proc.returncode}):\n{tail}\n"
                            f"full log: {outdir / 'zgen-twister.log'}")
        outcome.results += read_report(report)
    outcome.seconds = time.monotonic() - start
    return outcome
