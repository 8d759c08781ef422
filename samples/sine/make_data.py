#!/usr/bin/env python3
"""Synthetic, seeded recordings of a mains voltage sense signal: zgen's
smallest app, one ADC channel carrying a sine.

Physical model (230 V / 50 Hz mains through an isolating transformer and a
divider to 1.0 V peak at nominal voltage, riding on the ADC's 1.65 V bias;
a 12-bit ADC over 3.3 V sampled at 1 kHz):
- frequency wanders within 49.9-50.1 Hz; amplitude within +-4 % (the grid's
  slow load changes); a little 3rd and 5th harmonic (1 % and 0.6 %), as real
  mains carries; noise sigma 2 mV; readings quantised to the ADC's LSB
  (3.3 V / 4096), printed in volts.

Disturbances (EN 50160's kinds), injected at known times (see DISTURBANCES):
- sag: the voltage drops to 60 % for 200 ms (a motor start nearby);
- swell: 125 % for 100 ms (a large load switched off);
- interruption: 0 V for 80 ms (a breaker reclosing);
- clipping: the wave's top flattened at 80 % of its peak for 1 s (a saturating
  transformer);
- transient: a 1.5 V spike decaying in 2 ms (a switching surge).

Run: python samples/sine/make_data.py  (writes data/test.csv; --train writes the
normal-only train.csv that `zgen train` reads, which is not committed).
"""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

RATE_HZ = 1000
BIAS_V = 1.65
LSB_V = 3.3 / 4096
TEST_SECONDS = 20.0
# (start s, end s, kind) in the test recording
DISTURBANCES = [(3.0, 3.2, "sag"), (6.0, 6.1, "swell"), (9.0, 9.08, "interruption"),
                (12.0, 13.0, "clipping"), (16.0, 16.002, "transient")]


def mains(seconds: float, rng: np.random.Generator, disturbances=()) -> np.ndarray:
    """[samples] of ADC readings in volts."""
    n = int(round(seconds * RATE_HZ))
    t = np.arange(n) / RATE_HZ
    drift = np.convolve(rng.normal(0, 1, n), np.ones(500) / 500, mode="same")
    drift /= max(np.abs(drift).max(), 1e-9)
    freq = 50.0 + 0.1 * drift
    phase = 2 * np.pi * np.cumsum(freq) / RATE_HZ + rng.uniform(0, 2 * np.pi)
    amp = 1.0 + 0.04 * np.convolve(rng.normal(0, 1, n), np.ones(2000) / 2000, mode="same") / 0.025
    amp = np.clip(amp, 0.96, 1.04)
    wave = np.sin(phase) + 0.01 * np.sin(3 * phase + 0.4) + 0.006 * np.sin(5 * phase + 1.1)
    for start, end, kind in disturbances:
        on = (t >= start) & (t < end)
        if kind == "sag":
            amp[on] *= 0.6
        elif kind == "swell":
            amp[on] *= 1.25
        elif kind == "interruption":
            amp[on] = 0.0
        elif kind == "clipping":
            wave[on] = np.clip(wave[on], -0.8, 0.8)
    v = amp * wave
    for start, _, kind in disturbances:
        if kind == "transient":
            i = int(round(start * RATE_HZ))
            v[i:i + 10] += 1.5 * np.exp(-np.arange(min(10, n - i)) / 2.0)
    v = BIAS_V + v + rng.normal(0, 0.002, n)
    return np.clip(np.round(v / LSB_V), 0, 4095) * LSB_V


def write_csv(path: Path, volts: np.ndarray) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["mains"])
        for v in volts:
            w.writerow([f"{v:.4f}"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    ap.add_argument("--train", action="store_true", help="also write train.csv (120 s of normal mains)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(args.out / "test.csv", mains(TEST_SECONDS, np.random.default_rng(20261125), DISTURBANCES))
    (args.out / "disturbances.json").write_text(json.dumps(
        {"rate_hz": RATE_HZ, "disturbances": [{"start_s": s, "end_s": e, "kind": k} for s, e, k in DISTURBANCES]},
        indent=2) + "\n")
    if args.train:
        rng = np.random.default_rng(1)
        write_csv(args.out / "train.csv", np.concatenate([mains(20.0, rng) for _ in range(6)]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
