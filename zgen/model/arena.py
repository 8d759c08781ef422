"""The tensor arena a model needs, measured by running it in TFLM's host
interpreter (never guessed).

The interpreter runs in a child process: TFLM can crash, rather than fail
cleanly, on arenas that are too small or on hostile models, and a crash must not
take zgen down with it. The host is 64-bit, so its persistent structs are larger
than on a 32-bit MCU; the measured total is therefore an upper bound of the
target's need, and that difference is the plan's stated margin.
"""
from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from zgen.errors import ToolError

ALIGN = 16  # TFLM aligns arena buffers to 16 bytes; keep the size a multiple


@dataclass(frozen=True)
class ArenaMeasurement:
    total: int  # bytes the host interpreter used (head + tail)
    head: int  # non-persistent tensors, planned: the same on every target
    tail: int  # persistent structs: larger on a 64-bit host
    # TFLM's recording allocator, per kind of allocation: (bytes used, allocations)
    categories: dict = field(default_factory=dict, compare=False)

    @property
    def planned(self) -> int:
        """The arena to generate: the host total rounded up to ALIGN."""
        return round_up(self.total)

    @property
    def margin_note(self) -> str:
        return ("host-measured total (64-bit structs, an upper bound of the 32-bit need) "
                f"rounded up to {ALIGN} bytes")


def round_up(size: int) -> int:
    return -(-size // ALIGN) * ALIGN


_LINE = re.compile(r"Arena allocation (total|head|tail) (\d+) bytes")
_CATEGORY = re.compile(r"'([^']+)' used (\d+) bytes with alignment overhead \(requested \d+ bytes for (\d+) ")


def measure(model: Path, timeout: float = 120.0) -> ArenaMeasurement:
    proc = subprocess.run(
        [sys.executable, "-m", "zgen.model.arena", str(model)],
        capture_output=True, text=True, timeout=timeout,
    )
    found = {k: int(v) for k, v in _LINE.findall(proc.stderr + proc.stdout)}
    if proc.returncode != 0 or set(found) != {"total", "head", "tail"}:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise ToolError(
            f"measuring the arena of {model} failed (exit {proc.returncode}): " + " | ".join(tail)
        )
    categories = {name: (int(used), int(n)) for name, used, n in _CATEGORY.findall(proc.stderr + proc.stdout)}
    return ArenaMeasurement(found["total"], found["head"], found["tail"], categories)


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
