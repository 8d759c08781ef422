"""`zgen simulate`: the firmware's pipeline on the host.

The C runtime (zgen._runtime, compiled from app_template/lib/zgen) does the
windowing, features, quantisation, post-processing and formatting; TFLM's host
interpreter runs the model. The lines are those the firmware prints.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import numpy as np

from zgen import __version__
from zgen.data import Recording
from zgen.errors import ZgenError
from zgen.manifest import Manifest
from zgen.model.arena import ArenaMeasurement, measure, round_up
from zgen.pipeline import runtime_config
from zgen.runtime import interpreter, stream


@dataclass(slots=True)
class Window:
    """One decision, with what led to it (for tests, --json and plots)."""

    t: int
    features: list[float]  # the model input before quantisation (streams: every frame's, oldest first)
    score: float
    line: str
    changed: bool  # the debounced state changed (its event line may be suppressed)
    outputs: list[float] = field(default_factory=list)  # the model's outputs, dequantised

    @property
    def event(self) -> str | None:
        return self.line.rsplit(" event=", 1)[1] if " event=" in self.line else None


@dataclass
class Simulation:
    lines: list[str] = field(default_factory=list)
    windows: list[Window] = field(default_factory=list)


def run(m: Manifest, recording: Recording | None = None, arena: ArenaMeasurement | None = None) -> Simulation:
    from zgen import _runtime

    rec = recording or m.recording
    if rec is None:
        raise ZgenError.at(str(m.path), *m.where(), "the manifest has no test data to simulate",
                           "add `test: {data: data/test.csv}` or pass --data CSV")
    # Measured first, in a child process: a model TFLM crashes on is reported, not run in-process.
    arena = arena or measure(m.model.path)
    cfg = runtime_config(m)
    pipe = _runtime.Pipeline(cfg)
    interp = interpreter(m.model.path)
    in_dtype = m.model.inputs[0].dtype
    in_shape = m.model.inputs[0].shape
    # The start line shows what the firmware on the manifest's board will print.
    arena_used = arena.used_on(m.board.arch, m.kernels_on(m.board))
    arena_size = plan_arena(m, arena, m.board.arch, m.kernels_on(m.board))

    sim = Simulation()
    sim.lines.append(pipe.start_line(__version__, m.name, m.model.short_hash, arena_used, arena_size))
    raw_outs = []  # each decision's model output, as the runtime read it
    out_dtype = None
    for kind, item in stream(pipe, rec, m.faults if recording is None else (), m.rate_hz,
                             m.window_stride if m.microphone is not None else None):
        if kind == "line":
            sim.lines.append(item)
            continue
        model_in, feats = item
        interp.set_input(np.frombuffer(model_in, dtype=in_dtype).reshape(in_shape), 0)
        interp.invoke()
        raw_out = np.ascontiguousarray(interp.get_output(0))
        out_dtype = raw_out.dtype
        raw = raw_out.tobytes()
        line, changed, score = pipe.decide(model_in, raw)
        sim.lines.append(line)
        at = line.index("t=") + 2  # t: the number after the line's first "t="
        end = line.find(" ", at)
        sim.windows.append(Window(int(line[at:] if end < 0 else line[at:end]), feats, score, line, changed))
        raw_outs.append(raw)
        sim.lines.extend(pipe.actions())  # each output's action, as the firmware prints it
    sim.lines.append(pipe.end_line())
    if raw_outs:  # dequantised all at once: the same arithmetic per element, one numpy pass
        raw = np.frombuffer(b"".join(raw_outs), dtype=out_dtype).reshape(len(raw_outs), -1)
        for w, outputs in zip(sim.windows, _dequantize(raw, m.model.outputs[0])):
            w.outputs = outputs
    return sim


def _dequantize(raw: np.ndarray, t) -> list[list[float]]:
    """Each row's outputs as the runtime reads them: float32 (q - zero_point) * scale."""
    if t.dtype == "float32":
        return raw.astype(np.float64).tolist()
    return ((raw.astype(np.int32) - t.zero_point).astype(np.float32) * np.float32(t.scale)).astype(np.float64).tolist()


def plan_arena(m: Manifest, arena: ArenaMeasurement, arch: str, kernels: str = "reference") -> int:
    """The arena the app is generated with for boards of `arch` with that TFLM
    kernel set: the manifest's size, or the plan from the measurement. A manual size below what
    AllocateTensors() needs on the manifest's board is an error here, before any build: TFLM
    would stop the firmware at start-up."""
    if not isinstance(m.arena, int):
        return arena.planned_for(arch, kernels)
    needed = arena.needed_on(arch, kernels)
    if m.arena < needed and (arch, kernels) == (m.board.arch, m.kernels_on(m.board)):
        raise ZgenError.at(str(m.path), *m.where("model", "arena"),
                           f"arena: {m.arena} is below the {needed} bytes {m.model.path.name} needs on "
                           f"{m.board.name} ({arena.note_for(arch, kernels)})",
                           f"set `arena: auto`, or at least {round_up(needed)}")
    return m.arena
