"""An independent NumPy implementation of the zgen pipeline, written from the
design rules (float32, sequential sums in sample order, sqrt only, round half
away from zero, fixed-point printing), not from the C sources. Tests hold the
host runtime (the firmware's C code) to it bit for bit."""
from __future__ import annotations

import numpy as np

F = np.float32


def sensor_to_float(val1: np.ndarray, val2: np.ndarray) -> np.ndarray:
    return val1.astype(F) + val2.astype(F) / F(1e6)


def seq_sum(x: np.ndarray) -> F:
    """Left-to-right float32 sum (ufunc.accumulate never reorders)."""
    return np.add.accumulate(x.astype(F), dtype=F)[-1]


def features(window: np.ndarray, stages: list[dict]) -> np.ndarray:
    x = window.astype(F).copy()  # [rows, channels]
    for st in stages:
        kind = st["kind"]
        if kind == "normalize":
            x = (x - np.array(st["mean"], F)) / np.array(st["std"], F)
            continue
        frames = st["frames"]
        n = x.shape[0] // frames
        out = np.zeros((frames, x.shape[1]), F)
        for f in range(frames):
            for c in range(x.shape[1]):
                v = x[f * n:(f + 1) * n, c]
                if kind == "rms":
                    out[f, c] = np.sqrt(seq_sum(v * v) / F(n))
                elif kind == "mean":
                    out[f, c] = seq_sum(v) / F(n)
                elif kind == "std":
                    d = v - seq_sum(v) / F(n)
                    out[f, c] = np.sqrt(seq_sum(d * d) / F(n))
                elif kind == "peak":
                    out[f, c] = np.abs(v).max()
                elif kind == "min":
                    out[f, c] = v.min()
                elif kind == "max":
                    out[f, c] = v.max()
        x = out
    return x.ravel()


def quantize(x: np.ndarray, scale: float, zero_point: int, dtype=np.int8) -> np.ndarray:
    v = np.clip(x.astype(F) / F(scale), F(-65536), F(65536))
    r = np.where(v >= 0, np.floor(v + F(0.5)), -np.floor(-v + F(0.5))).astype(np.int64) + zero_point
    info = np.iinfo(dtype)
    return np.clip(r, info.min, info.max).astype(dtype)


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return (q.astype(np.int32) - zero_point).astype(F) * F(scale)


def mse(a: np.ndarray, b: np.ndarray) -> F:
    d = (b - a).astype(F)
    return seq_sum(d * d) / F(len(d))


def fixed(v: float, decimals: int) -> str:
    unit = 10 ** decimals
    scaled = F(abs(F(v))) * F(unit)
    q = int(F(scaled + F(0.5)))
    sign = "-" if v < 0 and q else ""
    return f"{sign}{q // unit}.{q % unit:0{decimals}d}" if decimals else f"{sign}{q}"


def windows(n_samples: int, length: int, stride: int):
    """Yield (index of the window's last sample) for each complete window."""
    end = length - 1
    while end < n_samples:
        yield end
        end += stride


def decisions(scores, threshold: float, above: bool, debounce: int, off: str, on: str, ends, decimals=4):
    """The decision lines, debounced as the design states: the state flips after
    `debounce` consecutive windows that disagree with it."""
    state, streak, lines = False, 0, []
    for win, (t, s) in enumerate(zip(ends, scores)):
        flag = s > F(threshold) if above else s < F(threshold)
        changed = False
        if flag != state:
            streak += 1
            if streak >= debounce:
                state, streak, changed = flag, 0, True
        else:
            streak = 0
        line = f"zgen: t={t} win={win} score={fixed(s, decimals)} state={on if state else off}"
        lines.append(line + (f" event={on if state else off}" if changed else ""))
    return lines
