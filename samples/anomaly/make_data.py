#!/usr/bin/env python3
"""Synthetic, seeded accelerometer recordings of a rotating machine.

Physical model (accelerometer on a motor's bearing housing, m/s^2, 200 Hz):
- a 4-pole induction motor at ~1770 rpm: shaft rate f_r ~ 29.5 Hz, wandering
  slowly (+-0.3 %) with load;
- vibration at 1x, 2x and 3x f_r on each axis. x and y are the radial axes
  (the 1x orbit is elliptical: y lags x by 90 deg), z is axial and carries
  gravity (9.80665);
- broadband sensor and process noise, sigma 0.05 m/s^2 per axis;
- readings quantised to 0.001 m/s^2 (1 mm/s^2), as an accelerometer reports.

Faults, injected as steps at known times (see FAULTS):
- imbalance: the 1x radial amplitude grows 4x (centrifugal force of an
  unbalanced mass), axial unchanged;
- looseness: 2x and 3x grow 5x on every axis, a 0.5x sub-harmonic appears and
  the noise doubles (impacting of a loose mount).

Run: python samples/anomaly/make_data.py  (writes data/test.csv; --train and
--val write the normal-only sets train.py uses, which are not committed).
"""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

RATE_HZ = 200
GRAVITY = 9.80665
# (start s, end s, fault) in the test recording
FAULTS = [(12.0, 16.0, "imbalance"), (22.0, 26.0, "looseness")]
TEST_SECONDS = 32.0
# 1x, 2x, 3x amplitudes per axis (m/s^2) in normal operation
AMPLITUDES = np.array([[0.30, 0.10, 0.05],   # x, radial
                       [0.25, 0.08, 0.04],   # y, radial
                       [0.10, 0.05, 0.02]])  # z, axial
NOISE = 0.05


def machine(seconds: float, rng: np.random.Generator, faults=(), shaft_hz: float = 29.5,
            load: float = 1.0) -> np.ndarray:
    """[samples, 3] acceleration of the housing; `faults` as in FAULTS."""
    n = int(round(seconds * RATE_HZ))
    t = np.arange(n) / RATE_HZ
    # Slow speed wander: a random walk low-passed to well below 1 Hz.
    wander = np.cumsum(rng.normal(0.0, 1.0, n))
    wander = np.convolve(wander - wander.mean(), np.ones(200) / 200, mode="same")
    wander *= 0.003 / max(np.abs(wander).max(), 1e-9)
    phase = 2 * np.pi * np.cumsum(shaft_hz * (1 + wander)) / RATE_HZ
    amp = np.repeat((AMPLITUDES * load)[None], n, axis=0)  # [n, axis, harmonic]
    noise = np.full(n, NOISE)
    sub = np.zeros(n)
    for start, end, kind in faults:
        on = (t >= start) & (t < end)
        if kind == "imbalance":
            amp[on, 0:2, 0] *= 4.0
        elif kind == "looseness":
            amp[on, :, 1:] *= 5.0
            sub[on] = 0.3
            noise[on] *= 2.0
    axis_phase = np.array([0.0, -np.pi / 2, 0.3])  # y lags x by 90 deg
    out = np.zeros((n, 3))
    for a in range(3):
        for h in range(3):
            out[:, a] += amp[:, a, h] * np.sin((h + 1) * phase + axis_phase[a] * (h + 1) + 0.7 * h)
        out[:, a] += sub * np.sin(0.5 * phase + a)
        out[:, a] += rng.normal(0.0, 1.0, n) * noise
    out[:, 2] += GRAVITY
    return np.round(out, 3)


def normal_operation(seconds: float, seed: int) -> np.ndarray:
    """Normal data over several operating points (speed and load), 10 s each."""
    rng = np.random.default_rng(seed)
    parts = []
    for _ in range(int(np.ceil(seconds / 10))):
        parts.append(machine(10.0, rng, shaft_hz=rng.uniform(29.0, 29.8), load=rng.uniform(0.9, 1.1)))
    return np.concatenate(parts)[: int(seconds * RATE_HZ)]


def test_recording(seed: int = 20261125) -> np.ndarray:
    return machine(TEST_SECONDS, np.random.default_rng(seed), faults=FAULTS)


def write_csv(path: Path, data: np.ndarray) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["accel_x", "accel_y", "accel_z"])
        for row in data:
            w.writerow([f"{v:.3f}" for v in row])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    ap.add_argument("--train", action="store_true", help="also write train.csv (120 s) and val.csv (40 s)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(args.out / "test.csv", test_recording())
    (args.out / "faults.json").write_text(json.dumps(
        {"rate_hz": RATE_HZ, "faults": [{"start_s": s, "end_s": e, "kind": k} for s, e, k in FAULTS]},
        indent=2) + "\n")
    if args.train:
        write_csv(args.out / "train.csv", normal_operation(120.0, seed=1))
        write_csv(args.out / "val.csv", normal_operation(40.0, seed=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
