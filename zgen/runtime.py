"""The host side of the C runtime (zgen._runtime): the firmware's own feature
arithmetic, for simulate, training and calibration alike. Model code uses this
module, never simulate."""
from __future__ import annotations

import errno

import numpy as np

from zgen.data import Recording
from zgen.manifest import Manifest
from zgen.pipeline import runtime_config
from zgen.sensors import MIC_BLOCKS


def windows(pipe, recording: Recording):
    """Yield (model_input bytes, float features) for each decision (each window, or for streams
    every frame_stride frames once the stack is full)."""
    for _, decision in stream(pipe, recording):  # no faults: decisions only
        yield decision


def stream(pipe, recording: Recording, faults=(), rate_hz: float = 1.0, block: int | None = None):
    """The firmware's main loop on the host, with the replay source's injected faults: yields
    ("line", text) for a read error or an overrun, ("decision", (model_input, features)) for each
    decision, in the order the firmware prints them. `block`: a microphone's DMIC block (one hop
    of samples), whose replay fails, drops and stalls blocks (replay_dmic.c); None: a sensor's."""
    values = np.ascontiguousarray(recording.sensor_values())

    def push(chunk: np.ndarray):
        data = memoryview(np.ascontiguousarray(chunk)).cast("B")  # the samples' bytes, not a copy
        i = 0
        while True:
            i, ready = pipe.push(data, i)
            if not ready:
                return
            out = pipe.features()
            if out is not None:
                yield "decision", out

    if block is not None:
        yield from _dmic(pipe, values, sorted(faults, key=lambda f: f.sample), rate_hz, block, push)
        return
    k = 0
    for f in faults:
        yield from push(values[k:f.sample])
        if f.kind == "read_errors":
            for _ in range(f.amount):  # each failed read costs its sample
                yield "line", pipe.read_error_line(-errno.EIO)
            k = f.sample + f.amount
        elif f.kind == "drop":
            k = f.sample + f.amount
        else:  # stall_ms: the periods the sampler misses while that read blocks
            k = f.sample
            yield "line", pipe.overrun_line(max(1, int(f.amount * rate_hz / 1000) - 1))
    yield from push(values[k:])


def _dmic(pipe, values, faults, rate_hz: float, block: int, push):
    """replay_dmic.c's reads: each fault on the first read whose block reaches its sample."""

    n, at, fi, failing = len(values), 0, 0, 0
    while at < n:
        if failing:
            failing -= 1
            at += block
            yield "line", pipe.read_error_line(-errno.EIO)
            continue
        failed = stalled = False
        while fi < len(faults) and faults[fi].sample < at + block:
            f = faults[fi]
            if f.kind == "read_errors":
                fi, failing, at, failed = fi + 1, f.amount - 1, at + block, True
                break
            if f.kind != "stall_ms":
                break
            fi, stalled = fi + 1, f.amount
        if failed:
            yield "line", pipe.read_error_line(-errno.EIO)
            continue
        if stalled:  # the blocks due meanwhile, beyond those the app's slab holds (count not compared)
            yield "line", pipe.overrun_line(max(1, int(stalled * rate_hz / 1000 / block) - MIC_BLOCKS) * block)
        if not (fi < len(faults) and faults[fi].kind == "drop" and faults[fi].sample < at + block):
            yield from push(values[at:at + block])  # the block as recorded
            at += block
            continue
        take = []
        while len(take) < block:
            while fi < len(faults) and faults[fi].kind == "drop" and faults[fi].sample <= at:
                at += faults[fi].amount
                fi += 1
            if at >= n:
                break
            take.append(at)
            at += 1
        yield from push(values[take])


def extract_features(m: Manifest, recording: Recording) -> np.ndarray:
    """float32 [windows, features]: the feature vectors the firmware computes
    for each window of `recording` (needs no model)."""
    from zgen import _runtime

    pipe = _runtime.Pipeline(runtime_config(m, features_only=True))
    rows = [feats for _, feats in windows(pipe, recording)]
    return np.array(rows, dtype=np.float32).reshape(len(rows), -1)


def interpreter(model_path):
    """TFLM's host interpreter for a model, with an arena it cannot run out of."""
    from tflite_micro.python.tflite_micro import runtime

    data = model_path.read_bytes()
    return runtime.Interpreter.from_bytes(data, arena_size=max(len(data) * 10, 4 << 20))


def run_model(m: Manifest, recording: Recording) -> tuple[np.ndarray, np.ndarray]:
    """Every window through the firmware's quantisation, TFLM's interpreter and
    the C score: returns (scores, classes), one per window."""
    from zgen import _runtime

    pipe = _runtime.Pipeline(runtime_config(m))
    interp = interpreter(m.model.path)
    t = m.model.inputs[0]
    scores, classes = [], []
    for model_in, _ in windows(pipe, recording):
        interp.set_input(np.frombuffer(model_in, dtype=t.dtype).reshape(t.shape), 0)
        interp.invoke()
        score, cls = pipe.score(model_in, np.ascontiguousarray(interp.get_output(0)).tobytes())
        scores.append(score)
        classes.append(cls)
    return np.array(scores), np.array(classes, dtype=np.int64)
