"""The runtime configuration of one manifest: the single description that both
the host runtime (zgen._runtime.Pipeline) and the generated C tables are made
from, so the two cannot drift apart.

Every float is rounded to float32 here, once: the generated C literal and the
value handed to the host runtime are then the same float.
"""
from __future__ import annotations

import numpy as np

from zgen.manifest import Manifest

DTYPES = {"float32": 0, "int8": 1, "uint8": 2}
SCORES = {"reconstruction_mse": 1, "output": 2, "class": 3, "reconstruction_mae": 4}
OUTPUT_KINDS = {"level": 1, "pulse": 2, "callback": 3}
SCORE_DECIMALS = 4
# Table element types the runtime's steps use: numpy dtype -> (code for the host binding, C type).
TABLE_TYPES = {"float32": (0, "float"), "int16": (1, "int16_t"), "uint16": (2, "uint16_t"),
               "int32": (3, "int32_t"), "uint32": (4, "uint32_t"), "int8": (5, "int8_t"),
               "uint8": (6, "uint8_t")}


def f32(x: float) -> float:
    return float(np.float32(x))


def sample_queue_length(m: Manifest) -> int:
    """Messages the sampling thread may queue ahead of processing (ZGEN_SAMPLE_QUEUE): two strides,
    so a window's features and inference never cost a sample."""
    return max(16, 2 * m.window_stride)


def steps(m: Manifest) -> list[dict]:
    """The runtime's step records (struct zgen_feature), each step's state at its offset."""
    out, state = [], 0
    for r in m.chain:
        out.append({"kind": r.kind, "args": list(r.args) + [0] * (16 - len(r.args)),
                    "tables": [np.ascontiguousarray(t) for t in r.tables], "state": state})
        state += r.state_words
    return out


def buffer_sizes(m: Manifest) -> dict:
    """Sizes of the buffers the caller gives lib/zgen (floats, or words for state)."""
    d = m.decision
    n = len(d.labels) if d and d.score == "class" else 1
    average = d.average if d else 1
    return {
        "ring": m.window_length * m.channels,
        "work": m.window_length * m.channels,
        "scratch": max([r.scratch for r in m.chain], default=0),
        "state": sum(r.state_words for r in m.chain),
        "stack": m.frame_count * m.feature_shape.count if m.streaming else 0,
        "history": average * n if average > 1 else 0,
    }


def samples_of_ms(m: Manifest, ms: float) -> int:
    return int(round(ms * m.rate_hz / 1000.0))


def decision_config(m: Manifest) -> dict:
    """Post-processing and outputs (struct zgen_config's decision fields)."""
    d = m.decision
    cfg = {"score": SCORES[d.score], "score_index": d.score_index, "threshold_above": 1 if d.above else 0,
           "threshold": f32(d.threshold), "debounce": int(d.debounce), "average": int(d.average),
           "suppress": samples_of_ms(m, d.suppress_ms), "rate_limit": samples_of_ms(m, d.rate_limit_ms),
           "state_off": d.state_off, "state_on": d.state_on, "state_unknown": d.state_unknown,
           "labels": list(d.labels), "top_k": d.top_k,
           "class_on": [f32(v) for v in d.class_on] if d.class_on else None,
           "class_off": [f32(v) for v in d.class_off] if d.class_off else None,
           "confidence": f32(d.confidence) if d.confidence is not None else None,
           "gate_index": d.gate[0] if d.gate else -1,
           "gate_above": int(d.gate[1]) if d.gate else 1,
           "gate_threshold": f32(d.gate[2]) if d.gate else 0.0,
           "outputs": [{"kind": OUTPUT_KINDS[o.mode], "state": o.state, "pulse_ms": o.pulse_ms, "name": o.name}
                       for o in m.outputs]}
    if d.threshold_off is not None:
        cfg["threshold_off"] = f32(d.threshold_off)
    return cfg


def runtime_config(m: Manifest, features_only: bool = False) -> dict:
    """The runtime configuration; features_only gives float features and no
    model (for training, where the model does not exist yet)."""

    def tensor(t):
        return {"dtype": DTYPES[t.dtype], "scale": f32(t.scale), "zero_point": int(t.zero_point),
                "count": int(t.count)}

    if features_only:
        n = m.feature_count()
        io = {"input": {"dtype": DTYPES["float32"], "scale": 0.0, "zero_point": 0, "count": n},
              "output": {"dtype": DTYPES["float32"], "scale": 0.0, "zero_point": 0, "count": 1},
              "score": SCORES["output"], "threshold_above": 1, "threshold": 0.0, "debounce": 1,
              "average": 1, "suppress": 0, "state_off": "off", "state_on": "on"}
    else:
        io = {"input": tensor(m.model.inputs[0]), "output": tensor(m.model.outputs[0]),
              **decision_config(m)}
    sizes = buffer_sizes(m) if not features_only else {**buffer_sizes(m), "history": 0}
    return {
        "rate_hz": int(round(m.rate_hz)),
        "channels": m.channels,
        "window_length": m.window_length,
        "window_stride": m.window_stride,
        "frame_count": m.frame_count,
        "frame_stride": m.frame_stride,
        "frame_features": m.feature_shape.count if m.streaming else 0,
        "scratch_len": sizes["scratch"],
        "state_words": sizes["state"],
        "features": steps(m),
        "score_decimals": SCORE_DECIMALS,
        **io,
    }
