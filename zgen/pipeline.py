"""The runtime configuration of one manifest: the single description that both
the host runtime (zgen._runtime.Pipeline) and the generated C tables are made
from, so the two cannot drift apart.

Every float is rounded to float32 here, once: the generated C literal and the
value handed to the host runtime are then the same float.
"""
from __future__ import annotations

import numpy as np

from zgen.manifest import Manifest

FEATURE_KINDS = {"normalize": 1, "rms": 2, "mean": 3, "std": 4, "peak": 5, "min": 6, "max": 7}
DTYPES = {"float32": 0, "int8": 1, "uint8": 2}
SCORES = {"reconstruction_mse": 1, "output": 2, "class": 3}
SCORE_DECIMALS = 4


def f32(x: float) -> float:
    return float(np.float32(x))


def sample_queue_length(m: Manifest) -> int:
    """Messages the sampling thread may queue ahead of processing (ZGEN_SAMPLE_QUEUE): two strides,
    so a window's features and inference never cost a sample."""
    return max(16, 2 * m.window_stride)


def runtime_config(m: Manifest, features_only: bool = False) -> dict:
    """The runtime configuration; features_only gives float features and no
    model (for training, where the model does not exist yet)."""

    def tensor(t):
        return {"dtype": DTYPES[t.dtype], "scale": f32(t.scale), "zero_point": int(t.zero_point),
                "count": int(t.count)}

    features = []
    for f in m.features:
        if f.kind == "normalize":
            features.append({"kind": FEATURE_KINDS["normalize"], "frames": 0,
                             "a": [f32(v) for v in f.mean], "b": [f32(v) for v in f.std]})
        else:
            features.append({"kind": FEATURE_KINDS[f.kind], "frames": int(f.frames)})
    if features_only:
        n = m.feature_rows() * m.channels
        io = {"input": {"dtype": DTYPES["float32"], "scale": 0.0, "zero_point": 0, "count": n},
              "output": {"dtype": DTYPES["float32"], "scale": 0.0, "zero_point": 0, "count": 1},
              "score": SCORES["output"], "threshold_above": 1, "threshold": 0.0, "debounce": 1,
              "state_off": "off", "state_on": "on"}
    else:
        d = m.decision
        io = {"input": tensor(m.model.inputs[0]), "output": tensor(m.model.outputs[0]),
              "score": SCORES[d.score], "threshold_above": 1 if d.above else 0,
              "threshold": f32(d.threshold), "debounce": int(d.debounce),
              "state_off": d.state_off, "state_on": d.state_on, "labels": list(d.labels)}
    return {
        "rate_hz": int(round(m.rate_hz)),
        "channels": m.channels,
        "window_length": m.window_length,
        "window_stride": m.window_stride,
        "features": features,
        "score_decimals": SCORE_DECIMALS,
        **io,
    }
