#!/usr/bin/env python3
"""Synthetic, seeded indoor climate recordings: temperature, relative humidity
and barometric pressure of an office, as the B-L475E-IOT01A's HTS221 and
LPS22HB report them, once a second.

Physical model:
- temperature: a thermostat holds 21.5 C (set point drawn per recording in
  20.5-22.5 C) with its heating cycle, a 0.4 C sawtooth of 15-25 min period;
  sensor noise sigma 0.02 C; the HTS221 reports 0.01 C;
- relative humidity: 35-50 % drifting slowly with occupancy (+-3 % over tens of
  minutes), moving against the temperature cycle as relative humidity does
  (-1.5 %RH per +1 C); noise 0.1 %RH;
- pressure: 99-103 kPa with weather drift (up to 0.15 kPa per hour); noise
  0.002 kPa; readings rounded to 1 Pa.

Anomalies, at known times (see EVENTS):
- window_open: cold, damp air: the temperature falls towards 12 C with a
  6-minute time constant, humidity rises by 12 %RH, pressure unchanged;
  after closing, the room recovers with the same constant;
- steam: a kettle left boiling (or a shower next door): humidity climbs by up
  to 20 %RH with a 1-minute time constant while it runs and decays with a
  4-minute one afterwards; the temperature rises by 0.5 C.

Run: python samples/environmental/make_data.py  (writes data/test.csv, 40 min;
--train writes the normal-only train.csv, 60 rooms of 20 min, that `zgen train` reads, which
is not committed).
"""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

RATE_HZ = 1
TEST_MINUTES = 40
# (start min, end min, kind) in the test recording
EVENTS = [(8.0, 14.0, "window_open"), (28.0, 33.0, "steam")]


def _smooth_walk(n: int, rng: np.random.Generator, width: int) -> np.ndarray:
    walk = np.cumsum(rng.normal(0, 1, n + width))
    walk = np.convolve(walk, np.ones(width) / width, mode="valid")[:n]
    walk -= walk.mean()
    return walk / max(np.abs(walk).max(), 1e-9)


def room(minutes: float, rng: np.random.Generator, events=()) -> np.ndarray:
    """[seconds, 3]: temperature C, relative humidity %, pressure kPa."""
    n = int(round(minutes * 60 * RATE_HZ))
    t_min = np.arange(n) / RATE_HZ / 60
    set_point = rng.uniform(20.5, 22.5)
    period = rng.uniform(15, 25)
    cycle = 0.4 * (((t_min + rng.uniform(0, period)) / period) % 1.0 - 0.5)
    temp = set_point + cycle
    rh_base = rng.uniform(35, 50) + 3 * _smooth_walk(n, rng, 600)
    press = rng.uniform(99, 103) + 0.15 * minutes / 60 * _smooth_walk(n, rng, 1800)
    offset = np.zeros(n)  # temperature change caused by events
    for start, end, kind in events:
        if kind == "window_open":
            on = (t_min >= start) & (t_min < end)
            after = t_min >= end
            drop = (12.0 - set_point) * (1 - np.exp(-(t_min - start) / 6.0))
            offset[on] = drop[on]
            at_close = (12.0 - set_point) * (1 - np.exp(-(end - start) / 6.0))
            offset[after] += at_close * np.exp(-(t_min[after] - end) / 6.0)
            rh_base[on] += 12 * (1 - np.exp(-(t_min[on] - start) / 3.0))
            rh_base[after] += 12 * (1 - np.exp(-(end - start) / 3.0)) * np.exp(-(t_min[after] - end) / 6.0)
        elif kind == "steam":
            on = (t_min >= start) & (t_min < end)
            after = t_min >= end
            rise = 1 - np.exp(-(t_min - start) / 1.0)
            at_end = 1 - np.exp(-(end - start) / 1.0)
            rh_base[on] += 20 * rise[on]
            rh_base[after] += 20 * at_end * np.exp(-(t_min[after] - end) / 4.0)
            offset[on] += 0.5 * rise[on]
            offset[after] += 0.5 * at_end * np.exp(-(t_min[after] - end) / 8.0)
    temp = temp + offset
    rh = rh_base - 1.5 * (temp - set_point)
    out = np.stack([temp + rng.normal(0, 0.02, n), rh + rng.normal(0, 0.1, n),
                    press + rng.normal(0, 0.002, n)], axis=1)
    return np.stack([np.round(out[:, 0], 2), np.round(out[:, 1], 1), np.round(out[:, 2], 3)], axis=1)


def write_csv(path: Path, data: np.ndarray) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["temperature", "humidity", "pressure"])
        for t, h, p in data:
            w.writerow([f"{t:.2f}", f"{h:.1f}", f"{p:.3f}"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    ap.add_argument("--train", action="store_true", help="also write train.csv (60 rooms, 20 min each, normal only)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(args.out / "test.csv", room(TEST_MINUTES, np.random.default_rng(20261125), EVENTS))
    (args.out / "events.json").write_text(json.dumps(
        {"rate_hz": RATE_HZ, "events": [{"start_min": s, "end_min": e, "kind": k} for s, e, k in EVENTS]},
        indent=2) + "\n")
    if args.train:
        rng = np.random.default_rng(1)
        write_csv(args.out / "train.csv", np.concatenate([room(20, rng) for _ in range(60)]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
