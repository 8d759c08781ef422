"""The tensor arena a model needs: measured by running it in TFLM's host
interpreter, then carried over to the 32-bit target.

The interpreter runs in a child process: TFLM can crash, rather than fail
cleanly, on arenas that are too small or on hostile models, and a crash must not
take zgen down with it. The host measures the head (the planned tensors), which
is the same on every target. Its tail (persistent structs and kernel data) is
that of a 64-bit build of a later TFLM, so for Arm boards the tail is replayed
for Cortex-M at the module's revision (zgen.model.tflm_layout); other targets,
and models the replay does not cover, get the host total, an upper bound.
"""
from __future__ import annotations

import re
import sys
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from zgen.errors import ZgenError
from zgen.model.tflite import read_model
from zgen.model.tflm_layout import KERNEL_SETS, TFLM_REVISION, Replay, replay, unsupported

ALIGN = 16  # TFLM aligns arena buffers to 16 bytes; keep the size a multiple


@dataclass(frozen=True)
class ArenaMeasurement:
    total: int  # bytes the host interpreter used (head + tail)
    head: int  # non-persistent tensors, planned: the same on every target
    tail: int  # persistent structs: larger on a 64-bit host
    # TFLM's recording allocator, per kind of allocation: (bytes used, allocations)
    categories: dict = field(default_factory=dict, compare=False)
    # Per kernel set (tflm_layout.KERNEL_SETS): the allocations replayed for
    # Cortex-M, or None when the replay does not cover the model, with why.
    targets: dict = field(default_factory=dict)
    gaps: dict = field(default_factory=dict)
    # Set when the workspace is not the Zephyr / TFLM the replay was made for: why. The plan is
    # then the host's total plus FOREIGN_MARGIN, for every target.
    foreign: str | None = None

    def on_foreign_workspace(self, why: str) -> "ArenaMeasurement":
        """This measurement for a workspace at other revisions than zgen's replay holds for."""
        return dataclasses.replace(self, targets={}, gaps={}, foreign=why)

    @property
    def target(self) -> Replay | None:
        return self.targets.get("reference")

    @property
    def target_tail(self) -> int | None:
        return self.target.tail if self.target else None

    def _replay(self, arch: str, kernels: str) -> Replay | None:
        return self.targets.get(kernels) if arch == "arm" else None

    def used_on(self, arch: str, kernels: str = "reference") -> int:
        """arena_used_bytes() the firmware will report on a board of this arch
        and kernel set (an upper bound where CMSIS-NN adds scratch buffers)."""
        r = self._replay(arch, kernels)
        if r is not None:
            return self.head + r.scratch + r.tail
        return self.total

    def needed_on(self, arch: str, kernels: str = "reference") -> int:
        """The smallest arena AllocateTensors() succeeds with: the use, or the
        transient need of Prepare and planning when that is larger."""
        r = self._replay(arch, kernels)
        if r is not None:
            return max(self.used_on(arch, kernels), r.transient)
        if self.foreign:
            return -(-self.total * (100 + FOREIGN_MARGIN_PERCENT) // 100)
        if self.target is None:
            return self.total
        # Other 32-bit targets (native_sim's i386, RV32) are not replayed; the
        # host total bounds their use, and their transient need is close to
        # Cortex-M's.
        return max(self.total, self.target.transient)

    def planned_for(self, arch: str, kernels: str = "reference") -> int:
        """The arena to generate for that arch: the need rounded up to ALIGN.
        The replay is byte-exact on the models measured (bench/arena.py), so
        the only margin is the rounding."""
        return round_up(self.needed_on(arch, kernels))

    def note_for(self, arch: str, kernels: str = "reference") -> str:
        r = self._replay(arch, kernels)
        if r is not None:
            why = (f"; AllocateTensors() needs {r.transient} B on the way (Prepare's temporary "
                   "tensors, planning)" if r.transient > self.used_on(arch, kernels) else "")
            scratch = f" + CMSIS-NN scratch buffers {r.scratch} B (an upper bound)" if r.scratch else ""
            kind = " with CMSIS-NN kernels" if kernels == "cmsis-nn" else ""
            return (f"head {self.head} B measured by TFLM's host interpreter{scratch} + tail {r.tail} B "
                    f"replayed for Cortex-M{kind} (TFLM {TFLM_REVISION}){why}, rounded up to {ALIGN} B")
        if self.foreign:
            return (f"{self.total} B measured by TFLM's 64-bit host interpreter + {FOREIGN_MARGIN_PERCENT} %, "
                    f"rounded up to {ALIGN} B: the workspace has {self.foreign}, where zgen's replay of "
                    f"TFLM {TFLM_REVISION}'s allocations does not hold")
        gap = self.gaps.get(kernels)
        why = f" ({gap})" if arch == "arm" and gap else ""
        return (f"{self.total} B measured by TFLM's 64-bit host interpreter, an upper bound of a 32-bit "
                f"target's need{why}, rounded up to {ALIGN} B")


# On a workspace at other Zephyr / TFLM revisions: the 64-bit host's total (an upper bound of a
# 32-bit target's use at the pinned revision: bench/arena.py) plus this, for what another TFLM may
# allocate more (a persistent buffer added to a kernel, a larger struct).
FOREIGN_MARGIN_PERCENT = 25


def round_up(size: int) -> int:
    return -(-size // ALIGN) * ALIGN


# Patterns, not compiled ones: only a model measured for the first time needs them (re caches them).
_LINE = r"Arena allocation (total|head|tail) (\d+) bytes"
_CATEGORY = r"'([^']+)' used (\d+) bytes with alignment overhead \(requested \d+ bytes for (\d+) "


_host: dict[str, tuple[dict, dict]] = {}


def measure(model: Path, timeout: float = 120.0) -> ArenaMeasurement:
    """The model's arena: TFLM's host interpreter's figures (measured once per model content in
    this process: a `zgen new` asks twice) and the target replays."""
    import hashlib

    key = hashlib.sha256(Path(model).read_bytes()).hexdigest()
    if key not in _host:
        _host[key] = _read_cache(key) or _write_cache(key, _measure_host(model, timeout))
    found, categories = _host[key]
    info = read_model(model)
    return ArenaMeasurement(found["total"], found["head"], found["tail"], categories,
                            {k: replay(info, k) for k in KERNEL_SETS},
                            {k: unsupported(info, k) for k in KERNEL_SETS})


def _cache_path(key: str) -> Path | None:
    """Where a model's host measurement is kept between runs: by its content and the tflite-micro
    package that measured it (XDG_CACHE_HOME or ~/.cache, zgen/arena/)."""
    import os

    version = _tflm_version()
    if version is None:
        return None
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "zgen" / "arena" / f"{key}-tflm-{version}.json"


def _tflm_version() -> str | None:
    """The installed tflite-micro's version, as importlib.metadata.version gives it: the Version
    field of the METADATA beside the package (importing importlib.metadata costs a `zgen
    simulate` tens of milliseconds), else importlib.metadata's answer; None: not installed."""
    import importlib.util

    spec = importlib.util.find_spec("tflite_micro")
    if spec is not None and spec.origin:
        found = list(Path(spec.origin).parent.parent.glob("tflite_micro-*.dist-info/METADATA"))
        if len(found) == 1:
            try:
                with found[0].open(encoding="utf-8") as f:
                    for line in f:
                        if line.startswith("Version:"):
                            return line.split(":", 1)[1].strip()
                        if not line.strip():
                            break  # the headers end: the body follows
            except (OSError, UnicodeDecodeError):
                pass
    from importlib import metadata

    try:
        return metadata.version("tflite-micro")
    except metadata.PackageNotFoundError:
        return None


def _read_cache(key: str):
    import json

    path = _cache_path(key)
    try:
        data = json.loads(path.read_text()) if path is not None else None
        found = {k: int(data["found"][k]) for k in ("total", "head", "tail")}
        categories = {str(n): (int(u), int(c)) for n, (u, c) in data["categories"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # none yet, or unreadable: measure again
    return found, categories


def _write_cache(key: str, measured: tuple[dict, dict]) -> tuple[dict, dict]:
    import json
    import os
    import tempfile

    path = _cache_path(key)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".arena-")
            with os.fdopen(fd, "w") as f:
                json.dump({"found": measured[0], "categories": measured[1]}, f)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only home: measure each time
    return measured


def _measure_host(model: Path, timeout: float) -> tuple[dict, dict]:
    """TFLM's host interpreter in a child process (a corrupt model may crash it, not zgen)."""
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-m", "zgen.model.arena", str(model)],
        capture_output=True, text=True, timeout=timeout,
    )
    found = {k: int(v) for k, v in re.findall(_LINE, proc.stderr + proc.stdout)}
    if proc.returncode < 0:  # TFLM crashed or aborted on the model: the file is bad, zgen lives on
        import signal

        name = signal.Signals(-proc.returncode).name
        raise ZgenError.at(str(model), None, None, f"TFLM's interpreter crashed ({name}) on this model",
                           "re-export the model (a complete .tflite that TFLM runs); "
                           "`zgen model inspect` shows what zgen can read of it")
    if proc.returncode != 0 or set(found) != {"total", "head", "tail"}:
        tail = [l for l in (proc.stderr or proc.stdout).strip().splitlines() if l.strip()][-3:]
        raise ZgenError.at(str(model), None, None,
                           "TFLM's interpreter cannot run this model (" + " | ".join(tail)[-300:] + ")",
                           "re-export it with the ops and types TFLM supports (`zgen model inspect` lists them)")
    categories = {name: (int(used), int(n)) for name, used, n in re.findall(_CATEGORY, proc.stderr + proc.stdout)}
    return found, categories


def _child(path: str) -> int:
    import numpy as np
    from tflite_micro.python.tflite_micro import runtime

    data = Path(path).read_bytes()
    # Generous: recording only reports what was used, whatever the size.
    interp = runtime.Interpreter.from_bytes(data, arena_size=max(len(data) * 10, 4 << 20))
    details = interp.get_input_details(0)
    interp.set_input(np.zeros(details["shape"], dtype=details["dtype"]), 0)
    interp.invoke()
    sys.stdout.flush()
    interp.print_allocations()
    return 0


if __name__ == "__main__":
    raise SystemExit(_child(sys.argv[1]))
