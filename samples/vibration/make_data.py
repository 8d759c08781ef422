#!/usr/bin/env python3
"""Synthetic, seeded accelerometer recordings of a centrifugal pump with an outer-race bearing fault.

Physical model (a LIS2DW12 on top of the pump's drive-end bearing housing, m/s^2, 800 Hz;
the shaft is horizontal: x is radial horizontal, y axial, z radial vertical and carries gravity):
- a 4-pole induction motor on a 50 Hz supply: synchronous 1500 rpm, 1480 rpm at full load
  (slip 1.33 %, proportional to the load), so the shaft rate f_r ~ 24.67 Hz moves by a few
  hundredths of a Hz as the load drifts;
- the load (flow) drifts slowly: set points reached with a 3 s lag, plus a slow random wander;
  in the test recording fixed set points (TEST_LOAD_POINTS) within 0.75-1.00 of full load, the
  highest and the lowest in healthy stretches; in the training recordings random ones 10-30 s
  apart over 0.60-1.10, with the supply at 49.9-50.1 Hz;
- shaft unbalance at 1x: an elliptical radial orbit (x leads z by 90 deg), 0.9 and 0.7 m/s^2
  peak, a little axial; 85 % of it is mechanical (load independent), 15 % hydraulic;
- misalignment at 2x (strongest axially, 0.45 m/s^2) and a little 3x, both growing with the
  transmitted torque (the load);
- vane pass: 5 impeller vanes at 5x ~ 123 Hz (and 10x), pressure pulsations growing as load^1.5;
- magnetic vibration at twice the line frequency, 100 Hz, 0.05 m/s^2;
- broadband flow turbulence, sigma 0.12 m/s^2 x load, and the sensor's own noise, sigma 0.018 m/s^2
  (LIS2DW12 high-performance mode: ~90 ug/sqrt(Hz) over 400 Hz);
- readings rounded to 0.001 m/s^2, as samples/anomaly's data.
With the load drift, the healthy machine's AC RMS moves by several %: in the test recording
+-5 % on z (sd 2.8 % over its seconds), +-13 % axially (y), and more over training's loads.

Rolling-element bearing: a 6205 deep-groove ball bearing (CWRU's drive-end bearing): 9 balls of
7.94 mm on a 39.04 mm pitch diameter, contact angle 0 deg, outer race fixed. With r = d/D cos(a):
    BPFO = n/2 (1 - r) f_r = 3.585 f_r ~ 88.4 Hz     (ball pass, outer race)
    BPFI = n/2 (1 + r) f_r = 5.415 f_r ~ 133.6 Hz    (ball pass, inner race)
    BSF  = D/(2d) (1 - r^2) f_r = 2.357 f_r ~ 58.1 Hz (ball spin)
    FTF  = 1/2 (1 - r) f_r = 0.398 f_r ~ 9.8 Hz      (cage)

Outer-race fault (a spall in the load zone, at the bottom of the race): each ball rolling over it
strikes it, BPFO times a second (following the shaft's actual speed, with 1 % random jitter of
each strike from ball slip). Each strike is a short force pulse (Gaussian, sigma 0.5 ms, less the
housing's slower recoil on its mount, sigma 4 ms, of the same area: no net velocity) that
reaches the sensor directly through the stiff housing and also rings the housing's vertical
bending resonance, 290 Hz with 6 % damping (a bearing housing's kHz resonances are above this
sensor's 400 Hz Nyquist, so the in-band one is used). Strength follows the load and the rotating
unbalance force (+-25 % at 1x: 1x sidebands), with +-15 % scatter per strike; mostly vertical
(z 1, x 0.4, y 0.15). The impacts are synthesised at 6400 Hz and band-limited to 380 Hz before
taking every 8th sample (the sensor's digital low-pass). The spectrum then holds lines at BPFO
and its harmonics (88, 177, 265, 354 Hz), strongest near the resonance, with 1x sidebands.
An early spall's impacts come and go (debris rolled into it, lubricant bridging it, load): here
they are intermittent, on and off at the known times in FAULTS, independent of the load drift,
where a grown spall would not heal.

Overall level does not reveal it, by construction: inside each fault episode every axis is scaled
(gain interpolated between 0.25 s blocks) so that its AC RMS equals that of the same machine
without the fault, within 1 % over every second, as an incipient bearing fault hardly moves the
overall level. The fault would add ~4 % RMS on z unscaled, less than the load drift moves the
healthy level (the machine's own components are ~4 % lower on z during the episodes, as load
changes also make them); an RMS-only detector cannot see it, a spectral one (power near BPFO) can:
in the test recording the z power within 2 Hz of BPFO is ~25x, of 2xBPFO ~40x the healthy one.

Run: python samples/vibration/make_data.py  (writes data/test.csv, 80 s, and data/faults.json;
--train also writes the healthy-only train.csv, 300 s, and val.csv, 60 s, which are not
committed; --check prints RMS per second and the BPFO band power, healthy against fault).
"""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

RATE_HZ = 800
OVERSAMPLE = 8              # the impacts are synthesised at 6400 Hz, then band-limited
GRAVITY = 9.80665
TILT = np.array([0.12, -0.05, 0.0])  # m/s^2 of gravity on x and y from the mount's tilt

LINE_HZ = 50.0
POLES = 4
SYNC_RPM = 120 * LINE_HZ / POLES     # 1500
RATED_RPM = 1480.0                    # at full load (load 1.0)
SHAFT_HZ = RATED_RPM / 60             # 24.667
VANES = 5

# Bearing: 6205 deep-groove ball bearing.
BEARING = {"designation": "6205", "balls": 9, "ball_diameter_mm": 7.94, "pitch_diameter_mm": 39.04,
           "contact_angle_deg": 0.0}
RESONANCE_HZ = 290.0
RESONANCE_DAMPING = 0.06
PULSE_SIGMA_S = 0.0005
RECOIL_SIGMA_S = 0.004
IMPACT_AXES = np.array([0.4, 0.15, 1.0])  # x, y, z
FAULT_RMS = 0.30            # RMS of the impacts on z at full load, relative to the healthy z RMS
SLIP_JITTER = 0.01          # of a ball-pass period, per strike

# Healthy vibration, peak m/s^2 at full load: [x, y, z]
UNBALANCE_1X = np.array([0.9, 0.15, 0.7])
MISALIGN_2X = np.array([0.25, 0.45, 0.20])
HARMONIC_3X = np.array([0.08, 0.10, 0.06])
VANE_PASS = np.array([0.30, 0.10, 0.35])
VANE_PASS_2 = np.array([0.06, 0.03, 0.08])
MAGNETIC_100HZ = np.array([0.05, 0.02, 0.05])
FLOW_NOISE = 0.12
SENSOR_NOISE = 0.018

SEED = 20261125
TEST_SECONDS = 80.0
# (start s, end s, kind) in the test recording
FAULTS = [(18.0, 30.0, "bearing_outer_race"), (42.0, 52.0, "bearing_outer_race"),
          (62.0, 71.0, "bearing_outer_race")]
TEST_LOAD = (0.75, 1.00)
# The test recording's load set points (from s, load): both the healthy stretches and the fault
# episodes run at high and low load, the highest and the lowest load are healthy.
TEST_LOAD_POINTS = [(0, 0.84), (10, 0.93), (22, 0.80), (32, 0.98), (40, 0.90), (47, 0.80), (56, 0.76),
                    (64, 0.94), (73, 0.82)]
TRAIN_LOAD = (0.60, 1.10)


def bearing_orders(b: dict = BEARING) -> dict[str, float]:
    """Fault frequencies as multiples of the shaft rate, from the bearing's geometry."""
    n = b["balls"]
    r = b["ball_diameter_mm"] / b["pitch_diameter_mm"] * np.cos(np.deg2rad(b["contact_angle_deg"]))
    return {"bpfo": n / 2 * (1 - r), "bpfi": n / 2 * (1 + r),
            "bsf": b["pitch_diameter_mm"] / (2 * b["ball_diameter_mm"]) * (1 - r * r), "ftf": (1 - r) / 2}


def fault_frequencies(shaft_hz: float = SHAFT_HZ) -> dict[str, float]:
    return {f"{k}_hz": v * shaft_hz for k, v in bearing_orders().items()}


def load_profile(n: int, rng: np.random.Generator, lo: float, hi: float, rate: int = RATE_HZ,
                 set_points=None) -> np.ndarray:
    """Load (fraction of full) over n samples: set points ([(from s, load)], or drawn 10-30 s
    apart in [lo, hi]) approached with a 3 s first-order lag, plus a slow wander (+-2 %)."""
    target = np.empty(n)
    if set_points is None:
        i = 0
        while i < n:
            hold = int(rng.uniform(10, 30) * rate)
            target[i:i + hold] = rng.uniform(lo + 0.02, hi - 0.02)
            i += hold
    else:
        for start, value in set_points:
            target[int(start * rate):] = value
    alpha = 1 / (3.0 * rate)
    load = np.empty(n)
    acc = target[0]
    for k in range(n):                  # first-order lag (a few 10^5 steps: fast enough)
        acc += alpha * (target[k] - acc)
        load[k] = acc
    wander = np.cumsum(rng.normal(0.0, 1.0, n))
    kernel = np.ones(2 * rate) / (2 * rate)
    wander = np.convolve(wander - wander.mean(), kernel, mode="same")
    wander *= 0.02 / max(np.abs(wander).max(), 1e-9)
    return np.clip(load + wander, lo, hi)


def shaft_rate(load: np.ndarray, line_hz: float = LINE_HZ) -> np.ndarray:
    """Shaft rate (Hz): the motor's slip grows in proportion to the load."""
    rated_slip = 1 - RATED_RPM / SYNC_RPM
    return line_hz / (POLES / 2) * (1 - rated_slip * load)


def _lowpass_decimate(x: np.ndarray, cutoff: float = 380.0) -> np.ndarray:
    """x at RATE_HZ*OVERSAMPLE -> RATE_HZ: zero everything above `cutoff` (cosine taper from
    0.9 cutoff), then every OVERSAMPLE-th sample."""
    fs = RATE_HZ * OVERSAMPLE
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1 / fs)
    mask = np.clip((cutoff - f) / (0.1 * cutoff), 0.0, 1.0)
    mask = 0.5 - 0.5 * np.cos(np.pi * mask)
    return np.fft.irfft(spec * mask, len(x))[::OVERSAMPLE]


def impacts(n: int, shaft_phase: np.ndarray, load: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """[n] z-direction acceleration of the outer-race strikes (unit scale, everywhere; the caller
    switches it on in the fault episodes). shaft_phase in turns, at RATE_HZ."""
    fs = RATE_HZ * OVERSAMPLE
    m = n * OVERSAMPLE
    # Strike k when the ball-pass phase (BPFO order x shaft turns) crosses k, +- slip jitter.
    ball_phase = bearing_orders()["bpfo"] * shaft_phase
    count = int(np.floor(ball_phase[-1]))
    k = np.arange(1, count + 1) + rng.normal(0.0, SLIP_JITTER, count)
    t_hit = np.interp(k, ball_phase, np.arange(n) / RATE_HZ)     # seconds
    at = np.clip(t_hit * RATE_HZ, 0, n - 1).astype(int)
    weight = load[at] * (1 + 0.25 * np.cos(2 * np.pi * shaft_phase[at])) * rng.lognormal(0.0, 0.15, count)
    # Impulse train at fs, each strike split between its two neighbouring samples.
    pos = t_hit * fs
    i0 = np.floor(pos).astype(int)
    frac = pos - i0
    train = np.zeros(m + 1)
    np.add.at(train, i0, weight * (1 - frac))
    np.add.at(train, i0 + 1, weight * frac)
    train = train[:m]
    # One strike as the housing's acceleration: the force pulse less the housing's slower recoil on
    # its mount (same area: acceleration integrates to no net velocity), plus the resonance it
    # rings (equal peak).
    tk = np.arange(int(0.08 * fs)) / fs
    wn = 2 * np.pi * RESONANCE_HZ
    wd = wn * np.sqrt(1 - RESONANCE_DAMPING ** 2)
    pulse = np.exp(-0.5 * ((tk - 8 * PULSE_SIGMA_S) / PULSE_SIGMA_S) ** 2)
    recoil = np.exp(-0.5 * ((tk - 8 * PULSE_SIGMA_S) / RECOIL_SIGMA_S) ** 2)
    direct = pulse - recoil * pulse.sum() / recoil.sum()
    ring = np.convolve(direct, np.exp(-RESONANCE_DAMPING * wn * tk) * np.sin(wd * tk))[: len(tk)]
    kernel = direct + 1.2 * ring / np.abs(ring).max()
    size = m + len(kernel)
    x = np.fft.irfft(np.fft.rfft(train, size) * np.fft.rfft(kernel, size), size)[:m]
    return _lowpass_decimate(x)


def machine(seconds: float, rng: np.random.Generator, faults=(), load_range=TEST_LOAD,
            line_hz: float = LINE_HZ, normalise: bool = True, set_points=None) -> np.ndarray:
    """[samples, 3] acceleration of the housing in m/s^2 (unrounded); `faults` as in FAULTS.
    The healthy part draws from rng first, so the same seed without faults gives the same
    machine without them (the fault's counterpart). normalise=False: the fault added unscaled."""
    n = int(round(seconds * RATE_HZ))
    t = np.arange(n) / RATE_HZ
    load = load_profile(n, rng, *load_range, set_points=set_points)
    fr = shaft_rate(load, line_hz)
    phase = np.cumsum(fr) / RATE_HZ + rng.uniform(0, 1)     # shaft turns
    w = 2 * np.pi * phase
    out = np.zeros((n, 3))
    p1 = np.array([0.0, 0.4, -np.pi / 2])                     # z lags x by 90 deg: elliptical orbit
    p2 = rng.uniform(0, 2 * np.pi, 3)
    p3 = rng.uniform(0, 2 * np.pi, 3)
    pv = rng.uniform(0, 2 * np.pi, 3)
    pm = rng.uniform(0, 2 * np.pi, 3)
    for a in range(3):
        out[:, a] += UNBALANCE_1X[a] * (0.85 + 0.15 * load) * np.sin(w + p1[a])
        out[:, a] += MISALIGN_2X[a] * load * np.sin(2 * w + p2[a])
        out[:, a] += HARMONIC_3X[a] * load * np.sin(3 * w + p3[a])
        out[:, a] += VANE_PASS[a] * load ** 1.5 * np.sin(VANES * w + pv[a])
        out[:, a] += VANE_PASS_2[a] * load ** 1.5 * np.sin(2 * VANES * w + 2 * pv[a])
        out[:, a] += MAGNETIC_100HZ[a] * np.sin(2 * np.pi * 2 * line_hz * t + pm[a])
        out[:, a] += rng.normal(0.0, 1.0, n) * FLOW_NOISE * load
        out[:, a] += rng.normal(0.0, SENSOR_NOISE, n)
    if faults:
        hit = impacts(n, phase, load, rng)
        z = out[:, 2]
        hit *= FAULT_RMS * np.sqrt(np.mean((z - z.mean()) ** 2)) / np.sqrt(np.mean(hit ** 2))
        block = RATE_HZ // 4
        for start, end, _ in faults:
            i, j = int(round(start * RATE_HZ)), int(round(end * RATE_HZ))
            for a in range(3):
                healthy = out[i:j, a] - out[i:j, a].mean()
                faulty = healthy + IMPACT_AXES[a] * hit[i:j]
                # Gain per 0.25 s block: the faulty block's RMS made the healthy block's.
                edges = np.arange(0, j - i, block)
                gains = [np.sqrt(np.sum(healthy[e:e + block] ** 2) / np.sum(faulty[e:e + block] ** 2))
                         for e in edges]
                centres = np.minimum(edges + block / 2, j - i)
                gain = np.interp(np.arange(j - i), centres, gains)
                out[i:j, a] += (faulty * gain if normalise else faulty) - healthy
    out += TILT
    out[:, 2] += np.sqrt(GRAVITY ** 2 - np.sum(TILT ** 2))
    return out


def normal_operation(seconds: float, seed: int) -> np.ndarray:
    """Healthy only, over the training load range (0.60-1.10), the supply at 49.9-50.1 Hz."""
    rng = np.random.default_rng(seed)
    return np.round(machine(seconds, rng, load_range=TRAIN_LOAD, line_hz=rng.uniform(49.9, 50.1)), 3)


def test_recording(seed: int = SEED, seconds: float = TEST_SECONDS, faults=FAULTS, normalise: bool = True
                   ) -> np.ndarray:
    return np.round(machine(seconds, np.random.default_rng(seed), faults=faults, normalise=normalise,
                            set_points=TEST_LOAD_POINTS), 3)


def ground_truth(seed: int = SEED, seconds: float = TEST_SECONDS, faults=FAULTS) -> dict:
    orders = bearing_orders()
    return {
        "rate_hz": RATE_HZ, "units": "m/s^2", "columns": ["accel_x", "accel_y", "accel_z"],
        "seed": seed, "samples": int(round(seconds * RATE_HZ)), "seconds": seconds,
        "machine": {"rpm": RATED_RPM, "shaft_hz": round(SHAFT_HZ, 4), "line_hz": LINE_HZ, "poles": POLES,
                    "vanes": VANES, "vane_pass_hz": round(VANES * SHAFT_HZ, 3),
                    "load_range": list(TEST_LOAD),
                    "shaft_hz_range": [round(float(shaft_rate(np.array(TEST_LOAD[1]))), 4),
                                       round(float(shaft_rate(np.array(TEST_LOAD[0]))), 4)]},
        "bearing": {**BEARING, "orders": {k: round(v, 5) for k, v in orders.items()},
                    **{k: round(v, 3) for k, v in fault_frequencies().items()},
                    "bpfo_hz_range": [round(orders["bpfo"] * float(shaft_rate(np.array(load))), 3)
                                      for load in TEST_LOAD[::-1]]},
        "resonance": {"hz": RESONANCE_HZ, "damping": RESONANCE_DAMPING},
        "faults": [{"kind": k, "start_s": s, "end_s": e, "start_sample": int(round(s * RATE_HZ)),
                    "end_sample": int(round(e * RATE_HZ)),
                    "frequencies_hz": {"bpfo": round(orders["bpfo"] * SHAFT_HZ, 3),
                                       "bpfo_harmonics": [round(h * orders["bpfo"] * SHAFT_HZ, 3)
                                                          for h in (1, 2, 3, 4)],
                                       "sideband_spacing": round(SHAFT_HZ, 3)}}
                   for s, e, k in faults],
        "note": "end_sample is exclusive; the episodes' AC RMS is the healthy machine's (within 1 % per "
                "second); the fault shows only in the spectrum (BPFO and its harmonics).",
    }


def write_csv(path: Path, data: np.ndarray) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["accel_x", "accel_y", "accel_z"])
        for row in data:
            w.writerow([f"{v:.3f}" for v in row])


def band_power(x: np.ndarray, rate: float, centre: float, half_width: float = 2.0) -> float:
    """Power ((m/s^2)^2) of x (mean removed, Hann window) in the bins within centre +- half_width Hz."""
    x = x - x.mean()
    win = np.hanning(len(x))
    spec = np.abs(np.fft.rfft(x * win)) ** 2 / np.sum(win ** 2) / len(x) * 2
    f = np.fft.rfftfreq(len(x), 1 / rate)
    return float(np.sum(spec[np.abs(f - centre) <= half_width]))


def _rms_per_second(x: np.ndarray, rate: int) -> np.ndarray:
    """[seconds, axes] AC RMS (each second's mean removed)."""
    n = len(x) // rate
    secs = x[: n * rate].reshape(n, rate, -1)
    return np.sqrt(np.mean((secs - secs.mean(1, keepdims=True)) ** 2, axis=1))


def self_check(data: np.ndarray, truth: dict) -> bool:
    """Print RMS per second and BPFO band power, healthy against fault. True when the fault is
    spectral, not in the level: every fault second's RMS within 1 % of the same machine's without
    the fault (regenerated from the seed), each episode's RMS within 5 % of the healthy seconds',
    and the power near BPFO and 2xBPFO up at least 10x."""
    rate = truth["rate_hz"]
    n = len(data) // rate
    fault = np.zeros(len(data), bool)
    for e in truth["faults"]:
        fault[e["start_sample"]:e["end_sample"]] = True
    sec_fault = fault[: n * rate].reshape(n, rate).all(1)
    sec_healthy = ~fault[: n * rate].reshape(n, rate).any(1)
    rms = _rms_per_second(data, rate)
    seconds = truth["seconds"]
    faults = [(e["start_s"], e["end_s"], e["kind"]) for e in truth["faults"]]
    twin = test_recording(truth["seed"], seconds, faults=())                  # the machine without the fault
    raw = test_recording(truth["seed"], seconds, faults, normalise=False)     # the fault, unscaled
    twin_rms, raw_rms = _rms_per_second(twin, rate), _rms_per_second(raw, rate)
    bpfo = truth["bearing"]["bpfo_hz"]
    ok = True
    print(f"vibration self-check: {n} s at {rate} Hz, BPFO {bpfo:.2f} Hz, healthy {sec_healthy.sum()} s, "
          f"fault {sec_fault.sum()} s (episodes {', '.join(f'{s:g}-{e:g}' for s, e, _ in faults)} s)")
    print("  z AC RMS per second (m/s^2; * = fault):")
    for row in range(0, n, 10):
        print("   " + " ".join(f"{rms[i, 2]:.3f}{'*' if sec_fault[i] else ' '}" for i in range(row, min(n, row + 10))))
    for a, name in enumerate(("x", "y", "z")):
        h, f = rms[sec_healthy, a], rms[sec_fault, a]
        twin_ratio = rms[sec_fault, a] / twin_rms[sec_fault, a]
        raw_ratio = raw_rms[sec_fault, a] / twin_rms[sec_fault, a]
        ok &= bool(np.all(np.abs(twin_ratio - 1) <= 0.01))
        print(f"  {name}: healthy {h.mean():.4f} (min {h.min():.4f}, max {h.max():.4f}, sd {h.std() / h.mean():.1%}), "
              f"fault {f.mean():.4f} (min {f.min():.4f}, max {f.max():.4f}): ratio {f.mean() / h.mean():.4f}; "
              f"per fault second vs the same machine without it {twin_ratio.min():.4f}-{twin_ratio.max():.4f} "
              f"(unscaled, the fault would add {raw_ratio.mean() - 1:+.1%})")
    for e in truth["faults"]:
        seg = data[e["start_sample"]:e["end_sample"]]
        r = np.sqrt(np.mean((seg - seg.mean(0)) ** 2, axis=0)) / rms[sec_healthy].mean(0)
        ok &= bool(np.all(np.abs(r - 1) < 0.05))
        print(f"  episode {e['start_s']:g}-{e['end_s']:g} s: RMS / healthy RMS x {r[0]:.4f} y {r[1]:.4f} z {r[2]:.4f}")
    secs = data[: n * rate].reshape(n, rate, 3)
    for name, centre in (("1x", truth["machine"]["shaft_hz"]), ("BPFO", bpfo), ("2xBPFO", 2 * bpfo),
                         ("3xBPFO", 3 * bpfo), ("4xBPFO", 4 * bpfo)):
        ph = np.mean([band_power(s[:, 2], rate, centre) for s in secs[sec_healthy]])
        pf = np.mean([band_power(s[:, 2], rate, centre) for s in secs[sec_fault]])
        print(f"  z power within {centre:.1f} +- 2 Hz ({name}): healthy {ph:.3e}, fault {pf:.3e} (m/s^2)^2, "
              f"ratio {pf / ph:.1f}")
        if name in ("BPFO", "2xBPFO"):
            ok &= pf / ph >= 10
    print("  " + ("OK: the RMS does not change, the power at BPFO does" if ok else "FAILED"))
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    ap.add_argument("--seed", type=int, default=SEED, help="seed of the test recording")
    ap.add_argument("--train", action="store_true",
                    help="also write train.csv and val.csv (healthy only, seeds 1 and 2)")
    ap.add_argument("--train-seconds", type=float, default=300.0, help="train.csv's length (val.csv: a fifth)")
    ap.add_argument("--check", action="store_true",
                    help="print RMS per second and BPFO band power, healthy vs fault; exit 1 if the fault "
                         "shows in the RMS or not at BPFO")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    data = test_recording(args.seed)
    truth = ground_truth(args.seed)
    write_csv(args.out / "test.csv", data)
    (args.out / "faults.json").write_text(json.dumps(truth, indent=2) + "\n")
    if args.train:
        write_csv(args.out / "train.csv", normal_operation(args.train_seconds, seed=1))
        write_csv(args.out / "val.csv", normal_operation(args.train_seconds / 5, seed=2))
    if args.check:
        return 0 if self_check(np.loadtxt(args.out / "test.csv", delimiter=",", skiprows=1), truth) else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
