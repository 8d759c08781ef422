"""The host runtime (the firmware's C code, via zgen._runtime) against the
independent NumPy reference: features, model input, scores and lines."""
from __future__ import annotations

import numpy as np
import pytest

import reference_pipeline as ref
from conftest import ANOMALY
from zgen import _runtime
from zgen.manifest import load_manifest
from zgen.simulate import run


@pytest.fixture(scope="module")
def anomaly():
    return load_manifest(ANOMALY)


def _ref_stages(m):
    return [{"kind": f.kind, "frames": f.frames, "mean": f.mean, "std": f.std} for f in m.features]


def _step(kind, args=(), tables=()):
    """A runtime step record (struct zgen_feature), as zgen.pipeline.steps makes them."""
    return {"kind": kind, "args": list(args), "tables": [np.array(t, np.float32) for t in tables], "state": 0}


def test_sensor_value_conversion_matches_reference():
    cases = [(0, 0), (9, 806650), (-1, -500000), (0, -1), (2147, 483647), (-32768, 0)]
    for v1, v2 in cases:
        want = ref.sensor_to_float(np.array([v1]), np.array([v2]))[0]
        assert np.float32(_runtime.sensor_value_to_float(v1, v2)) == want, (v1, v2)


def test_anomaly_sample_bit_identical_to_numpy_reference(anomaly):
    m = anomaly
    sim = run(m)
    sv = m.recording.sensor_values()
    x = ref.sensor_to_float(sv[..., 0], sv[..., 1])  # [samples, channels]
    tin, tout = m.model.inputs[0], m.model.outputs[0]
    from tflite_micro.python.tflite_micro import runtime

    interp = runtime.Interpreter.from_file(str(m.model.path))
    ends = list(ref.windows(len(x), m.window_length, m.window_stride))
    assert len(ends) == len(sim.windows) == 99
    scores = []
    for w, end in zip(sim.windows, ends):
        feats = ref.features(x[end - m.window_length + 1:end + 1], _ref_stages(m))
        assert np.array_equal(np.array(w.features, np.float32), feats), f"features differ at t={end}"
        q = ref.quantize(feats, tin.scale, tin.zero_point)
        interp.set_input(q.reshape(tin.shape), 0)
        interp.invoke()
        out = interp.get_output(0).ravel()
        s = ref.mse(ref.dequantize(q, tin.scale, tin.zero_point), ref.dequantize(out, tout.scale, tout.zero_point))
        assert np.float32(w.score) == s, f"score differs at t={end}"
        scores.append(s)
    d = m.decision
    want = ref.decisions(scores, d.threshold, d.above, d.debounce, d.state_off, d.state_on, ends)
    assert [line for line in sim.lines[1:-1] if " out=" not in line] == want
    # led0 follows the state: a line after each event (tests/test_postprocess_steps.py holds the rules)
    leds = [line for line in sim.lines if " out=" in line]
    assert leds == [f"zgen: {w.split()[1]} out=led0 level={int(w.endswith('event=anomaly'))}"
                    for w in want if " event=" in w]
    assert sim.lines[-1] == "zgen: end samples=6400 windows=99 read_errors=0 overruns=0"


@pytest.mark.parametrize("kind", ["rms", "mean", "std", "peak", "min", "max"])
def test_every_reduction_matches_reference(kind):
    rng = np.random.default_rng(3)
    cfg = {"rate_hz": 100, "channels": 2, "window_length": 24, "window_stride": 8,
           "features": [_step(1, tables=[[0.5, -1.0], [2.0, 0.3]]),
                        _step({"rms": 2, "mean": 3, "std": 4, "peak": 5, "min": 6, "max": 7}[kind], args=[4])],
           "input": {"dtype": 1, "scale": 0.05, "zero_point": 3, "count": 8},
           "output": {"dtype": 0, "scale": 0.0, "zero_point": 0, "count": 1},
           "score": 2, "score_decimals": 3, "threshold_above": 1, "threshold": 0.5, "debounce": 2,
           "state_off": "low", "state_on": "high"}
    pipe = _runtime.Pipeline(cfg)
    micro = rng.integers(-3_000_000, 3_000_000, size=(60, 2))
    val1 = np.sign(micro) * (np.abs(micro) // 1_000_000)
    sv = np.stack([val1, micro - val1 * 1_000_000], -1).astype(np.int32)
    x = ref.sensor_to_float(sv[..., 0], sv[..., 1])
    stages = [{"kind": "normalize", "mean": [0.5, -1.0], "std": [2.0, 0.3]}, {"kind": kind, "frames": 4}]
    i, checked = 0, 0
    for end in ref.windows(60, 24, 8):
        i, ready = pipe.push(sv.tobytes(), i)
        assert ready and i == end + 1
        model_in, feats = pipe.features()
        want = ref.features(x[end - 23:end + 1], stages)
        assert np.array_equal(np.array(feats, np.float32), want)
        assert np.array_equal(np.frombuffer(model_in, np.int8), ref.quantize(want, 0.05, 3))
        checked += 1
    assert checked == 5


def test_quantisation_saturates_and_rounds_half_away_from_zero():
    cfg = {"rate_hz": 1, "channels": 1, "window_length": 4, "window_stride": 4,
           "features": [_step(1, tables=[[0.0], [1.0]])],
           "input": {"dtype": 1, "scale": 1.0, "zero_point": 0, "count": 4},
           "output": {"dtype": 0, "scale": 0.0, "zero_point": 0, "count": 1},
           "score": 2, "score_decimals": 2, "threshold_above": 1, "threshold": 0.0, "debounce": 1,
           "state_off": "a", "state_on": "b"}
    pipe = _runtime.Pipeline(cfg)
    # 2.5 -> 3, -2.5 -> -3, 1000 -> 127, -1000 -> -128
    sv = np.array([[[2, 500000]], [[-2, -500000]], [[1000, 0]], [[-1000, 0]]], np.int32)
    _, ready = pipe.push(sv.tobytes(), 0)
    assert ready
    assert list(np.frombuffer(pipe.features()[0], np.int8)) == [3, -3, 127, -128]


def test_score_printing_matches_reference_rounding():
    cfg = {"rate_hz": 1, "channels": 1, "window_length": 1, "window_stride": 1,
           "features": [], "input": {"dtype": 0, "scale": 0.0, "zero_point": 0, "count": 1},
           "output": {"dtype": 0, "scale": 0.0, "zero_point": 0, "count": 1},
           "score": 2, "score_decimals": 4, "threshold_above": 1, "threshold": 10.0, "debounce": 1,
           "state_off": "off", "state_on": "on"}
    for v in [0.0, 0.00004, 0.00005, 1.23456, -0.5, 123.4567, 3e9]:
        pipe = _runtime.Pipeline(cfg)
        pipe.push(np.array([[[0, 0]]], np.int32).tobytes(), 0)
        model_in, _ = pipe.features()
        line, _, score = pipe.decide(model_in, np.array([v], np.float32).tobytes())
        expect = ref.fixed(np.float32(v), 4) if abs(v) < 1e5 else "200000.0000"
        assert f"score={expect} " in line, (v, line)
