#!/usr/bin/env python3
"""Synthetic, seeded wrist accelerometer recordings of boxing gestures.

Physical model (an accelerometer strapped to the wrist, m/s^2, 100 Hz; x along
the forearm towards the fist, y across the wrist, z out of the back of the hand):
- guard (idle): the fist held up, gravity mostly on -y, with slow sway
  (+-0.15 g below 2 Hz) and physiological tremor (8-12 Hz, 0.02 g);
- punch: a straight thrust along x lasting 0.22-0.34 s: one period of a sine,
  peak 2.4-3.6 g (acceleration, then braking), the wrist keeps its attitude, so
  gravity stays on -y; a small lateral wobble;
- upper cut: the forearm swings upward through 50-80 deg in
  0.35-0.5 s: the hand accelerates along z (peak 1.8-2.8 g, then braking),
  a centripetal pull along -x (up to 1 g), and gravity turns from -y towards +x;
- sensor noise sigma 0.02 g per axis; readings rounded to 0.001 m/s^2.

The test recording (data/test.csv, 60 s) holds 16 gestures at known times
(data/gestures.json). Training recordings (--train, not committed) hold many
gestures of each class at random offsets, plus guard only.

Run: python samples/gesture/make_data.py [--train]
"""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

RATE_HZ = 100
G = 9.80665
NOISE_G = 0.02
GUARD = np.array([0.15, -0.97, 0.18])  # gravity's direction in the guard pose (unit vector, roughly)
TEST_SECONDS = 60.0
# (start s, gesture) in the test recording: 8 of each, at least 2.5 s apart
TEST_GESTURES = [(3.0, "punch"), (6.5, "punch"), (9.5, "upper_cut"), (13.0, "punch"), (16.5, "upper_cut"),
                 (19.5, "upper_cut"), (23.0, "punch"), (26.0, "upper_cut"), (29.5, "punch"),
                 (33.0, "upper_cut"), (36.5, "punch"), (40.0, "upper_cut"), (43.5, "punch"),
                 (47.0, "upper_cut"), (50.5, "punch"), (54.0, "upper_cut")]


def guard(n: int, rng: np.random.Generator) -> np.ndarray:
    """[n, 3] in g: gravity in the guard pose with sway and tremor."""
    t = np.arange(n) / RATE_HZ
    out = np.repeat(GUARD[None], n, axis=0)
    for axis in range(3):
        for _ in range(3):  # sway: a few slow sines per axis
            out[:, axis] += rng.uniform(0.01, 0.05) * np.sin(2 * np.pi * rng.uniform(0.2, 2.0) * t
                                                              + rng.uniform(0, 2 * np.pi))
        out[:, axis] += 0.02 * np.sin(2 * np.pi * rng.uniform(8, 12) * t + rng.uniform(0, 2 * np.pi))
    return out


def punch(rng: np.random.Generator) -> np.ndarray:
    """[m, 3] in g added to the guard signal: the thrust along x."""
    m = int(round(rng.uniform(0.22, 0.34) * RATE_HZ))
    s = np.sin(2 * np.pi * np.arange(m) / m)
    out = np.zeros((m, 3))
    out[:, 0] = rng.uniform(2.4, 3.6) * s
    out[:, 1] = rng.uniform(-0.3, 0.3) * s
    out[:, 2] = rng.uniform(-0.3, 0.3) * np.sin(np.pi * np.arange(m) / m)
    return out


def upper_cut(rng: np.random.Generator) -> np.ndarray:
    """[m, 3] in g added to the guard signal: the upward swing (linear part, centripetal part,
    and gravity turning with the forearm, as a change from the guard pose)."""
    m = int(round(rng.uniform(0.35, 0.5) * RATE_HZ))
    u = np.arange(m) / m
    swing = np.deg2rad(rng.uniform(50, 80)) * (1 - np.cos(np.pi * u)) / 2  # angle, smooth
    out = np.zeros((m, 3))
    out[:, 2] = rng.uniform(1.8, 2.8) * np.sin(2 * np.pi * u)
    out[:, 0] = -rng.uniform(0.5, 1.0) * np.sin(np.pi * u) ** 2
    # gravity (in the guard pose on -y) turned by `swing` towards +x, minus the guard's own
    out[:, 0] += -GUARD[1] * np.sin(swing)
    out[:, 1] += GUARD[1] * (np.cos(swing) - 1)
    return out


GESTURES = {"punch": punch, "upper_cut": upper_cut}


def recording(seconds: float, events: list[tuple[float, str]], rng: np.random.Generator) -> np.ndarray:
    """[samples, 3] in m/s^2, rounded to 0.001."""
    n = int(round(seconds * RATE_HZ))
    g = guard(n, rng)
    for start, kind in events:
        shape = GESTURES[kind](rng)
        i = int(round(start * RATE_HZ))
        g[i:i + len(shape)] += shape[: n - i]
    g += rng.normal(0.0, NOISE_G, g.shape)
    return np.round(g * G, 3)


def training_set(kind: str, count: int, seed: int) -> np.ndarray:
    """One gesture (or guard only) per second, at a random offset inside that second."""
    rng = np.random.default_rng(seed)
    if kind == "guard":
        return recording(float(count), [], rng)
    events = [(k + rng.uniform(0.05, 0.45), kind) for k in range(count)]
    return recording(float(count), events, rng)


def write_csv(path: Path, data: np.ndarray) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["accel_x", "accel_y", "accel_z"])
        for row in data:
            w.writerow([f"{v:.3f}" for v in row])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    ap.add_argument("--train", action="store_true",
                    help="also write train_<class>.csv (200 s of each gesture, 200 s of guard)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(args.out / "test.csv", recording(TEST_SECONDS, TEST_GESTURES, np.random.default_rng(20261125)))
    (args.out / "gestures.json").write_text(json.dumps(
        {"rate_hz": RATE_HZ, "gestures": [{"start_s": s, "kind": k} for s, k in TEST_GESTURES]}, indent=2) + "\n")
    if args.train:
        for seed, kind in enumerate(("guard", "punch", "upper_cut"), start=1):
            write_csv(args.out / f"train_{kind}.csv", training_set(kind, 200, seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
