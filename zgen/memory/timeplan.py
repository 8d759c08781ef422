"""The time plan (`zgen check`): instructions per decision against the decision period, before
any build, from instruction counts measured in QEMU (boards/memory/time.yaml, written by
bench/time_plan.py).

Model: per core and TFLM kernel set, each operator family (zgen.model.work: conv, depthwise, fc,
other) costs `fixed + per_unit x work` instructions, fitted to the per-operator counts of profiled
builds; plus a fixed cost per Invoke(). Features: per step family (the module of zgen.steps that
describes the step: stats, spectral, audio), `per_value x` the values the step reads per decision
(a stream runs its chain once per frame, `stride` frames per decision), plus a fixed cost per
decision. One instruction per cycle at the board's core clock gives the busy share:
instructions / (clock x period). Cortex-M3/M4/M33 retire most instructions in a cycle (loads,
multiplies and taken branches take more), so this is a floor; the plan warns from 30 % busy (BUSY_WARN).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import yaml

from zgen.boards import _LOADER, Board
from zgen.manifest import Manifest
from zgen.model.work import model_work
from zgen.resources import boards_dir

# One instruction per cycle is a floor: MLPerf Tiny's reference board (a Cortex-M4F at 120 MHz with
# flash wait states) took 2.6-3.5 cycles per instruction bench/time_plan.py counts for the same
# models (bench/run.py), so from about 30 % busy a real board may not keep up.
BUSY_WARN = 0.3
# Cores QEMU cannot run under zgen's boards, planned from a core with the same instructions: the
# Cortex-M4F and the Cortex-M33 with DSP both execute Thumb-2 with the DSP extension (SMLAD and
# the like, which CMSIS-NN's int8 kernels use) and a single-precision FPU; the same C compiles to
# the same instruction counts to within the compiler's scheduling.
SAME_INSTRUCTIONS = {"cortex-m4f": "cortex-m33"}
# Cores measured with their FPU and DSP on (bench/time_plan.py). A board whose core has neither
# (floats in software) is planned with that core's counts without them where measured
# ("cortex-m33 without FPU": mps2/an521/cpu0 as Zephyr builds it), else with the Cortex-M3's.
# Measured: the M3's counts planned cpu0 at 1.18-1.32 of its own (ARMv8-M code for the same C
# takes fewer instructions: kws_ref_model 207 M against the M3's 259 M).
MEASURED_WITH_FPU = {"cortex-m33", "cortex-m4f"}
WITHOUT_FPU = " without FPU"


@lru_cache(maxsize=1)
def measured() -> dict:
    path = boards_dir() / "memory" / "time.yaml"
    return yaml.load(path.read_text(), Loader=_LOADER) if path.is_file() else {"cores": {}}


def step_family(kind: str) -> str:
    from zgen.steps import registry

    step = registry()[kind]
    return type(step).__module__.rsplit(".", 1)[-1]


def features_work(m: Manifest) -> dict[str, int]:
    """Values each step family reads per decision, and the model input values quantised
    ("quantize": every decision writes the whole input tensor, a float-to-integer conversion each,
    in software on cores without an FPU; "copy" for a float input)."""
    from zgen.steps import Shape, registry

    steps = registry()
    shape = Shape(m.window_length, m.channels, m.rate_hz or 1.0)
    per_run: dict[str, int] = {}
    for f in m.features:
        fam = step_family(f.kind)
        per_run[fam] = per_run.get(fam, 0) + shape.count
        _, shape = steps[f.kind].lower(f.params or {}, shape)
    runs = m.window_stride if m.streaming else 1
    out = {fam: n * runs for fam, n in per_run.items()}
    if m.model is not None and m.model.inputs:
        x = m.model.inputs[0]
        out["quantize" if x.dtype != "float32" else "copy"] = x.count
    return out


@dataclass
class TimePlan:
    board: Board
    kernels: str
    model: int = 0              # instructions per decision
    features: int = 0
    period_s: float = 0.0       # between two decisions
    missing: list[str] = field(default_factory=list)
    measured_on: str = ""       # the core whose counts plan this one

    @property
    def total(self) -> int:
        return self.model + self.features

    @property
    def busy(self) -> float | None:
        """Share of the core's cycles the pipeline needs (one instruction per cycle)."""
        if not self.board.cpu_hz or not self.period_s:
            return None
        return self.total / (self.board.cpu_hz * self.period_s)


def op_key(op: str, fam: str, coeff: dict) -> str:
    """The coefficients of one operator: its own where it was measured (ops outside the
    multiply-accumulate families differ too much to share one: a RESHAPE copies, a MEAN divides
    per element, a SOFTMAX takes an exponential), else its family's."""
    own = f"{op}_f32" if fam.endswith("_f32") else op
    return own if not fam.startswith(("conv", "depthwise", "fc")) and coeff["ops"].get(own) else fam


def model_instructions(m: Manifest, coeff: dict) -> int:
    total = coeff.get("invoke", 0)
    for op, fam, work in model_work(m.model):
        fixed, per_unit = coeff["ops"][op_key(op, fam, coeff)]
        total += fixed + per_unit * work
    return round(total)


def features_instructions(m: Manifest, coeff: dict) -> int:
    total = coeff.get("decision", 0)
    for fam, n in features_work(m).items():
        total += coeff.get("steps", {}).get(fam, 0) * n
    return round(total)


def time_plan(m: Manifest, board: Board, kernels: str | None = None, data: dict | None = None) -> TimePlan | None:
    """The time plan on one board, or None for native_sim (the host's own speed)."""
    if board.arch == "posix":
        return None
    data = data or measured()
    kset = kernels or m.kernels_on(board)
    p = TimePlan(board, kset, period_s=m.decision_samples() / m.rate_hz if m.rate_hz else 0.0)
    core = board.core if board.core in data["cores"] else SAME_INSTRUCTIONS.get(board.core, board.core)
    if board.arch == "arm" and not board.fpu and not board.dsp and core in MEASURED_WITH_FPU:
        core = core + WITHOUT_FPU if core + WITHOUT_FPU in data["cores"] else "cortex-m3"
    coeff = data["cores"].get(core, {}).get(kset)
    if coeff is None:
        p.missing.append(f"instructions per operator on {board.core} ({kset}): not measured")
        return p
    p.measured_on = core
    p.model = model_instructions(m, coeff)
    if "steps" in coeff:
        p.features = features_instructions(m, coeff)
    return p


def describe(p: TimePlan) -> str:
    """"4.1 M instructions per decision, 64 MHz, 250 ms stride: 26 % busy"."""
    if p.missing:
        return "time: " + "; ".join(p.missing)
    text = (f"{p.total / 1e6:.2f} M instructions per decision (model {p.model / 1e6:.2f} M, features "
            f"{p.features / 1e6:.2f} M{'' if p.measured_on == p.board.core else ', counted on ' + p.measured_on})")
    if p.busy is None:
        return text + f", {p.period_s * 1000:g} ms between decisions (core clock unknown)"
    text += f", {p.board.cpu_hz / 1e6:g} MHz, {p.period_s * 1000:g} ms between decisions: {100 * p.busy:.0f} % busy"
    if p.busy > 1:
        text += " - CANNOT keep up: decisions would fall behind (a faster core, a smaller model, or a longer stride)"
    elif p.busy > BUSY_WARN:
        text += (f" - over {100 * BUSY_WARN:.0f} % at one instruction per cycle: a real core takes up to about 3"
                 " cycles per instruction (wait states, multi-cycle loads), so measure on the target")
    return text
