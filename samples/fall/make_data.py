#!/usr/bin/env python3
"""Synthetic, seeded waist-worn accelerometer recordings of falls and the activities that look like them.

Physical model (an LIS2DW12 clipped to the belt, 50 Hz, m/s^2; the sensor reads specific force,
the acceleration minus gravity's, so at rest it reads 1 g pointing up). Frames: the world's z is
up; the body's x points forward, y to the left, z up the trunk; the sensor's x is forward, y up the
trunk and z to the right, mounted with a random tilt of up to 8 deg. Each activity is a specific
force in the world frame f(t) (g) and an attitude of the sensor A(t) (sensor -> world); the sensor
reads A(t)^T f(t). Attitudes between two postures turn about one axis (the shortest rotation).
Vertical velocity is kept: every drop's velocity deficit (the integral of 1 - f_z) is what its
impact gives back, so the body starts and ends at rest; the impact peaks below follow from the
drop's depth and length and the impact's length (drawn, then kept when the peak is in range):
- standing still: 1 g with postural sway (0.005-0.015 g below 1 Hz) and the trunk swaying 1 deg;
- walking: steps at 1.8-2.2 Hz; vertical 0.15-0.3 g at the step rate plus its second harmonic,
  heel strikes (a 0.15-0.35 g biphasic transient over 3 samples), fore-aft 0.1-0.25 g at the step rate,
  sideways 0.05-0.15 g at half of it; the trunk pitches +-2 deg;
- running: steps at 2.6-3 Hz, a flight phase of 30-40 % of each step at 0.05-0.3 g, stance a
  half sine whose peak makes the step's mean 1 g, plus a heel strike: peaks 2-3 g; fore-aft
  0.3-0.5 g; the trunk leans forward 5-15 deg;
- sitting down hard: the trunk drops for 0.25-0.4 s (the magnitude down to about 0.5-0.7 g) while it
  tilts back 20-40 deg, lands on the seat in 0.1-0.2 s (1.5-2.5 g) with a small damped rebound,
  then sits still; standing up again is a 1-1.5 s push (+0.2-0.35 g, then as much below 1 g);
- jumping: a countermovement (down to 0.55-0.75 g for 0.25-0.35 s), a push-off of 0.3-0.45 s
  (1.5-2.2 g), a flight of 0.3-0.4 s at 0-0.1 g (the takeoff speed is g x flight / 2), a landing
  of 0.06-0.14 s (3-5 g) absorbed by the knees (a damped 4-6 Hz oscillation), then standing or
  walking again: never still;
- the device dropped: it slips off the belt and falls freely for 0.35-0.5 s (0-0.05 g: only its
  tumbling, 2-6 rad/s), hits a hard floor in 3-5 samples (60-100 ms as the 50 Hz output shows it;
  6-10 g) and bounces 2-3 times (restitution 0.1-0.3, the flights again near 0 g), rocks to rest on
  one of its faces (within 5 deg) and lies still; later it is picked up (a 0.8-1.2 s lift, +0.15-0.3 g,
  back to its place on the belt);
- lying down slowly: the trunk turns 70-100 deg about a random horizontal axis in 2-4 s, the
  magnitude within 0.15 g of 1 g; lying still (breathing: 0.002-0.005 g at 0.2-0.35 Hz); getting up
  takes 2-4 s (two or three pushes of 0.1-0.3 g, zero net);
- the FALL: from standing or walking, a descent of 0.4-0.8 s: the vertical specific force ramps
  down in the first 30-60 % of it and stays low (with the body's forward/sideways acceleration,
  0.05-0.25 g, the magnitude falls to 0.2-0.6 g: a body toppling about its feet is not in free
  fall), while the trunk turns 70-110 deg about a random horizontal axis (gravity moves to another
  axis); a body impact of 0.1-0.2 s (a half sine, 2.5-6 g) that stops the vertical and horizontal
  motion, soft tissue ringing after it (a damped 5-8 Hz oscillation, 10-30 % of the impact, zero net
  impulse); then lying still for several seconds;
- sensor noise sigma 0.02 g per axis; readings rounded to 0.001 m/s^2. Everything stays far inside
  the LIS2DW12's +-16 g range (the manifest sets `range: 16`: the dropped device's 10 g would clip
  at 8 g).
Not modelled: the centripetal and tangential terms of the trunk's rotation, sensor bias and
temperature drift, the part's digital filter (the shapes above are what its 50 Hz output shows).

Outputs:
- default: data/test.csv (160 s, header accel_x,accel_y,accel_z) holding 7 falls and several of
  each look-alike (sitting down hard, jumps, running, the device dropped, lying down slowly) at
  known times, and data/falls.json, the ground truth: each fall's start (the descent's first
  sample), its impact and how long the person lay, and every other activity's kind and times;
- --train: data/train/adl/NNNN.csv and data/train/fall/NNNN.csv, clips exactly one window long
  (100 samples, 2 s), not committed. Fall clips hold the descent (at least 60 % of it), the
  impact and 0.25 s or more of lying still, at offsets drawn uniformly; adl clips are windows of
  standing, walking, running and the transitions between them, sitting down hard (the landing
  anywhere in the window), jumps, the dropped device, lying down slowly, lying and sitting still,
  and getting up. The training clips come from their own seeds, never from the test recording's.

Run: python samples/fall/make_data.py [--train] [--per-class N]
"""
from __future__ import annotations

import argparse
import csv
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RATE_HZ = 50
DT = 1.0 / RATE_HZ
G = 9.80665
NOISE_G = 0.02
CLIP = 100  # samples per training clip: the manifest's window (2 s)
TEST_SEED = 20261126
UP = np.array([0.0, 0.0, 1.0])
# body (forward, left, up) -> sensor (x forward, y up the trunk, z to the right)
MOUNT = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


# --- rotations -----------------------------------------------------------------------------------

def rot(axis: np.ndarray, angle) -> np.ndarray:
    """Rotation matrices about a unit axis (Rodrigues): [3, 3] for a scalar angle, [n, 3, 3] for n."""
    a = np.asarray(angle, dtype=float)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    s, c = np.sin(a)[..., None, None], np.cos(a)[..., None, None]
    return np.eye(3) + s * k + (1 - c) * (k @ k)


def rot_log(r: np.ndarray) -> tuple[np.ndarray, float]:
    """(unit axis, angle) of a rotation matrix."""
    angle = float(np.arccos(np.clip((np.trace(r) - 1) / 2, -1.0, 1.0)))
    if angle < 1e-9:
        return np.array([1.0, 0.0, 0.0]), 0.0
    v = np.array([r[2, 1] - r[1, 2], r[0, 2] - r[2, 0], r[1, 0] - r[0, 1]])
    if angle > np.pi - 1e-6:  # 180 deg: the axis from the symmetric part
        w, vecs = np.linalg.eigh((r + r.T) / 2)
        return vecs[:, np.argmax(w)], angle
    return v / np.linalg.norm(v), angle


def turn(a0: np.ndarray, a1: np.ndarray, s: np.ndarray) -> np.ndarray:
    """[n, 3, 3]: attitudes from a0 (s = 0) to a1 (s = 1) about one axis."""
    axis, angle = rot_log(a0.T @ a1)
    return a0 @ rot(axis, angle * np.asarray(s, dtype=float))


def horizontal(azimuth: float) -> np.ndarray:
    return np.array([np.cos(azimuth), np.sin(azimuth), 0.0])


def smooth(u: np.ndarray) -> np.ndarray:
    """0 -> 1 with zero slope at both ends."""
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3 - 2 * u)


def half_sine(m: int) -> np.ndarray:
    return np.sin(np.pi * (np.arange(m) + 0.5) / m)


def ringing(m: int, hz: float, tau: float) -> np.ndarray:
    """A damped oscillation with zero net impulse (the derivative of a damped sine), peak 1."""
    t = np.arange(m + 1) * DT
    d = np.diff(np.exp(-t / tau) * np.sin(2 * np.pi * hz * t))
    return d / np.abs(d).max()


# --- segments ------------------------------------------------------------------------------------

@dataclass
class Seg:
    f: np.ndarray  # [n, 3] specific force, world frame, g
    a: np.ndarray  # [n, 3, 3] sensor -> world
    marks: dict = field(default_factory=dict)  # name -> sample index within the segment

    def __len__(self) -> int:
        return len(self.f)


class Person:
    """The wearer: the sensor's mounting and the body's current posture (body -> world)."""

    def __init__(self, rng: np.random.Generator):
        tilt = rot(horizontal(rng.uniform(0, 2 * np.pi)), np.deg2rad(rng.uniform(0, 8)))
        self.mount_t = (tilt @ MOUNT).T  # sensor -> body
        self.body = np.eye(3)  # upright

    def worn(self, body: np.ndarray) -> np.ndarray:
        return body @ self.mount_t


def _n(seconds: float) -> int:
    return max(1, int(round(seconds * RATE_HZ)))


def _steady(p: Person, n: int) -> np.ndarray:
    """The current posture's attitude, n times."""
    return np.repeat(p.worn(p.body)[None], n, axis=0)


def _ramp(n: int, edge: int) -> np.ndarray:
    """1 inside, rising and falling over `edge` samples at the ends (activities start and stop)."""
    e = min(edge, n // 2)
    w = np.ones(n)
    if e > 0:
        w[:e] = smooth(np.arange(e) / e)
        w[n - e:] = w[:e][::-1]
    return w


def still(p: Person, seconds: float, rng: np.random.Generator, kind: str = "stand") -> Seg:
    """Standing (sway), or sitting/lying (breathing) in the current posture."""
    n = _n(seconds)
    t = np.arange(n) * DT
    f = np.repeat(UP[None], n, axis=0).astype(float)
    if kind == "stand":
        for axis in range(3):
            for _ in range(2):
                f[:, axis] += rng.uniform(0.002, 0.0075) * np.sin(2 * np.pi * rng.uniform(0.1, 1.0) * t
                                                                 + rng.uniform(0, 2 * np.pi))
        sway = np.deg2rad(1.0) * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t + rng.uniform(0, 2 * np.pi))
        a = np.einsum("ij,njk->nik", p.body, rot(horizontal(rng.uniform(0, np.pi)), sway)) @ p.mount_t
    else:
        f[:, 2] += rng.uniform(0.002, 0.005) * np.sin(2 * np.pi * rng.uniform(0.2, 0.35) * t
                                                      + rng.uniform(0, 2 * np.pi))
        a = _steady(p, n)
    return Seg(f, a)


def walk(p: Person, seconds: float, rng: np.random.Generator) -> Seg:
    n = _n(seconds)
    t = np.arange(n) * DT
    rate = rng.uniform(1.8, 2.2) * (1 + 0.03 * np.sin(2 * np.pi * rng.uniform(0.05, 0.2) * t))
    phase = np.cumsum(rate) * DT + rng.uniform(0, 1)  # steps
    w = _ramp(n, _n(0.5))
    f = np.zeros((n, 3))
    f[:, 2] = (rng.uniform(0.15, 0.3) * np.sin(2 * np.pi * phase)
               + rng.uniform(0.03, 0.08) * np.sin(4 * np.pi * phase + rng.uniform(0, 2 * np.pi)))
    # heel strikes: a biphasic 40 ms transient at each step
    strike = np.flatnonzero(np.diff(np.floor(phase)) > 0) + 1
    for i in strike:
        amp = rng.uniform(0.15, 0.35)
        for k, v in enumerate((amp, -0.6 * amp, -0.4 * amp)):
            if i + k < n:
                f[i + k, 2] += v
    f[:, 0] = rng.uniform(0.1, 0.25) * np.sin(2 * np.pi * phase + rng.uniform(0.5, 1.5))
    f[:, 1] = rng.uniform(0.05, 0.15) * np.sin(np.pi * phase + rng.uniform(0, 2 * np.pi))
    f *= w[:, None]
    f[:, 2] += 1.0
    pitch = np.deg2rad(2.0) * w * np.sin(2 * np.pi * phase + rng.uniform(0, 2 * np.pi))
    a = np.einsum("ij,njk->nik", p.body, rot(np.array([0.0, 1.0, 0.0]), pitch)) @ p.mount_t
    return Seg(f, a)


def run(p: Person, seconds: float, rng: np.random.Generator) -> Seg:
    n = _n(seconds)
    t = np.arange(n) * DT
    rate = rng.uniform(2.6, 3.0) * (1 + 0.02 * np.sin(2 * np.pi * rng.uniform(0.05, 0.2) * t))
    phase = np.cumsum(rate) * DT + rng.uniform(0, 1)
    step = np.floor(phase).astype(int)
    u = phase - step
    steps = step.max() - step.min() + 1
    flight = rng.uniform(0.3, 0.4)
    level = rng.uniform(0.05, 0.3, steps)
    # stance: a half sine over (1 - flight) of the step whose peak makes the step's mean 1 g
    peak = (1 - flight * level) * np.pi / (2 * (1 - flight)) * rng.uniform(0.92, 1.08, steps)
    k = step - step.min()
    stance = u >= flight
    f = np.zeros((n, 3))
    f[:, 2] = np.where(stance, peak[k] * np.sin(np.pi * np.clip((u - flight) / (1 - flight), 0, 1)), level[k])
    starts = np.flatnonzero(stance[1:] & ~stance[:-1]) + 1
    for i in starts:  # heel strike
        amp = rng.uniform(0.2, 0.5)
        for j, v in enumerate((amp, -0.5 * amp)):
            if i + j < n:
                f[i + j, 2] += v
    f[:, 0] = -rng.uniform(0.3, 0.5) * np.where(stance, np.sin(2 * np.pi * (u - flight) / (1 - flight)), 0.0)
    f[:, 1] = rng.uniform(0.1, 0.2) * np.sin(np.pi * phase + rng.uniform(0, 2 * np.pi))
    # starting and stopping: blend from and to standing over 0.6 s
    w = _ramp(n, _n(0.6))
    f[:, 2] = 1.0 + w * (f[:, 2] - 1.0)
    f[:, :2] *= w[:, None]
    lean = np.deg2rad(rng.uniform(5, 15)) * w
    a = np.einsum("ij,njk->nik", p.body, rot(np.array([0.0, 1.0, 0.0]), lean)) @ p.mount_t
    return Seg(f, a)


def _drop(seconds: tuple[float, float], lowest: tuple[float, float], sideways: tuple[float, float],
          rng: np.random.Generator, direction: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """A drop: the vertical specific force ramps down in the first 30-60 % and stays low, a
    horizontal push along `direction`. Returns (f [m, 3], vertical deficit g*s, horizontal impulse)."""
    m = _n(rng.uniform(*seconds))
    u = (np.arange(m) + 0.5) / m
    ramp = smooth(u / rng.uniform(0.3, 0.6))
    h = rng.uniform(*sideways) * ramp
    target = rng.uniform(*lowest)  # the magnitude at the bottom
    fz_low = np.sqrt(max(target ** 2 - h[-1] ** 2, 0.0025))
    fz = 1 - (1 - fz_low) * ramp + rng.uniform(0.0, 0.04) * np.sin(2 * np.pi * rng.uniform(3, 6) * u * m * DT) * ramp
    f = np.outer(h, direction)
    f[:, 2] = fz
    return f, float(np.sum(1 - fz) * DT), np.sum(np.outer(h, direction), axis=0) * DT


def _impact(m: int, vertical: float, horizontal_impulse: np.ndarray) -> np.ndarray:
    """A half sine of m samples that gives back a vertical deficit (g*s) and stops a horizontal
    impulse: [m, 3] specific force (g)."""
    shape = half_sine(m)
    f = np.zeros((m, 3))
    f[:, 2] = 1.0 + vertical / (np.sum(shape) * DT) * shape
    f -= np.outer(shape / (np.sum(shape) * DT), horizontal_impulse)
    return f


def fall(p: Person, rng: np.random.Generator, lie_s: float) -> Seg:
    """Descent, impact, lying still for lie_s seconds (the person stays down: see get_up)."""
    while True:
        direction = horizontal(rng.uniform(0, 2 * np.pi))
        f_d, deficit, push = _drop((0.4, 0.8), (0.2, 0.6), (0.05, 0.25), rng, direction)
        f_i = _impact(_n(rng.uniform(0.1, 0.2)), deficit, push)
        peak = np.linalg.norm(f_i, axis=1).max()
        low = np.linalg.norm(f_d, axis=1).min()
        if 2.5 <= peak <= 6.0 and 0.2 <= low <= 0.6:
            break
    ring_n = _n(0.4)
    ring = ringing(ring_n, rng.uniform(5, 8), rng.uniform(0.06, 0.12)) * rng.uniform(0.1, 0.3) * (peak - 1)
    rest = still(p, lie_s, rng, kind="lie")
    f_rest = rest.f.copy()
    f_rest[:ring_n, 2] += ring[: len(f_rest)]
    f = np.concatenate([f_d, f_i, f_rest])
    nd, ni = len(f_d), len(f_i)
    # The trunk turns 70-110 deg towards the fall's direction, accelerating as it topples (u^2),
    # 85 % there at the impact, settling by its end.
    axis = np.cross(UP, direction)
    lie = rot(axis, np.deg2rad(rng.uniform(70, 110))) @ p.body
    s = np.concatenate([0.85 * ((np.arange(nd) + 0.5) / nd) ** 2,
                        0.85 + 0.15 * smooth((np.arange(ni) + 0.5) / ni), np.ones(len(f_rest))])
    a = np.einsum("nij,jk->nik", turn(p.body, lie, s), p.mount_t)
    p.body = lie
    return Seg(f, a, {"start": 0, "impact": nd, "impact_end": nd + ni, "still": nd + ni})


def sit_hard(p: Person, rng: np.random.Generator, sit_s: float) -> Seg:
    while True:
        back = horizontal(rng.uniform(np.pi - 0.3, np.pi + 0.3))
        f_d, deficit, push = _drop((0.25, 0.4), (0.5, 0.7), (0.0, 0.08), rng, back)
        f_i = _impact(_n(rng.uniform(0.1, 0.2)), deficit, push)
        peak = np.linalg.norm(f_i, axis=1).max()
        if 1.5 <= peak <= 2.5:
            break
    ring_n = _n(0.3)
    rest = still(p, sit_s, rng, kind="sit")
    f_rest = rest.f.copy()
    f_rest[:ring_n, 2] += (ringing(ring_n, rng.uniform(4, 7), rng.uniform(0.05, 0.1))
                           * rng.uniform(0.05, 0.2) * (peak - 1))[: len(f_rest)]
    f = np.concatenate([f_d, f_i, f_rest])
    nd, ni = len(f_d), len(f_i)
    # the trunk tilts back 20-40 deg (rotation about the left-right axis, up towards -x)
    seated = rot(np.cross(UP, back), np.deg2rad(rng.uniform(20, 40))) @ p.body
    s = np.concatenate([smooth((np.arange(nd + ni) + 0.5) / (nd + ni)), np.ones(len(f_rest))])
    a = np.einsum("nij,jk->nik", turn(p.body, seated, s), p.mount_t)
    p.body = seated
    return Seg(f, a, {"start": 0, "impact": nd, "impact_end": nd + ni, "still": nd + ni})


def get_up(p: Person, rng: np.random.Generator, from_floor: bool) -> Seg:
    """Back to upright: from a seat 1-1.5 s (one push), from the floor 2-4 s (two or three)."""
    n = _n(rng.uniform(2.0, 4.0) if from_floor else rng.uniform(1.0, 1.5))
    u = (np.arange(n) + 0.5) / n
    f = np.repeat(UP[None], n, axis=0).astype(float)
    pushes = int(rng.integers(2, 4)) if from_floor else 1
    for k in range(pushes):
        lo, hi = k / pushes, (k + 1) / pushes
        inside = (u >= lo) & (u < hi)
        v = (u[inside] - lo) / (hi - lo)
        amp = rng.uniform(0.1, 0.3) if from_floor else rng.uniform(0.2, 0.35)
        f[inside, 2] += amp * np.sin(2 * np.pi * v)  # up then as much down: zero net
        f[inside, 0] += rng.uniform(-0.1, 0.1) * np.sin(2 * np.pi * v)
    upright = np.eye(3)
    a = np.einsum("nij,jk->nik", turn(p.body, upright, smooth(u)), p.mount_t)
    p.body = upright
    return Seg(f, a)


def lie_down(p: Person, rng: np.random.Generator, lie_s: float) -> Seg:
    """Lying down slowly (2-4 s), then lying still."""
    n = _n(rng.uniform(2.0, 4.0))
    u = (np.arange(n) + 0.5) / n
    f = np.repeat(UP[None], n, axis=0).astype(float)
    f[:, 2] += rng.uniform(0.05, 0.15) * -np.sin(2 * np.pi * u)  # lowering, then braking
    f[:, 2] += rng.uniform(0.0, 0.05) * np.sin(6 * np.pi * u)
    f[:, 0] += rng.uniform(-0.08, 0.08) * np.sin(2 * np.pi * u)
    lie = rot(horizontal(rng.uniform(0, 2 * np.pi)), np.deg2rad(rng.uniform(70, 100))) @ p.body
    a = np.einsum("nij,jk->nik", turn(p.body, lie, smooth(u)), p.mount_t)
    p.body = lie
    rest = still(p, lie_s, rng, kind="lie")
    return Seg(np.concatenate([f, rest.f]), np.concatenate([a, rest.a]), {"start": 0, "still": n})


def jump(p: Person, rng: np.random.Generator, after: str, after_s: float) -> Seg:
    """Countermovement, push-off, flight, landing, then `after` (stand or walk)."""
    while True:
        nc, npush = _n(rng.uniform(0.25, 0.35)), _n(rng.uniform(0.3, 0.45))
        nf, nl = _n(rng.uniform(0.3, 0.4)), _n(rng.uniform(0.06, 0.14))
        low = rng.uniform(0.55, 0.75)
        counter = 1 - (1 - low) * np.sin(np.pi * (np.arange(nc) + 0.5) / nc) ** 2
        dip = np.sum(1 - counter) * DT
        flight_f = rng.uniform(0.0, 0.1)
        takeoff = (1 - flight_f) * nf * DT / 2  # g*s: the vertical speed at takeoff / g
        push = half_sine(npush)
        push_f = 1 + (dip + takeoff) / (np.sum(push) * DT) * push
        land = half_sine(nl)
        land_f = 1 + takeoff / (np.sum(land) * DT) * land
        if 1.5 <= push_f.max() <= 2.2 and 3.0 <= land_f.max() <= 5.0:
            break
    ring_n = _n(0.5)
    knees = ringing(ring_n, rng.uniform(4, 6), rng.uniform(0.08, 0.15)) * rng.uniform(0.2, 0.4)
    fz = np.concatenate([counter, push_f, np.full(nf, flight_f), land_f])
    n0 = len(fz)
    f = np.zeros((n0, 3))
    f[:, 2] = fz
    f[:, 0] += rng.uniform(-0.1, 0.1) * np.sin(np.pi * np.arange(n0) / n0)
    a = _steady(p, n0)
    rest = walk(p, after_s, rng) if after == "walk" else still(p, after_s, rng)
    f_rest = rest.f.copy()
    f_rest[:ring_n, 2] += knees[: len(f_rest)]
    marks = {"start": 0, "takeoff": nc + npush, "impact": nc + npush + nf, "impact_end": n0}
    return Seg(np.concatenate([f, f_rest]), np.concatenate([a, rest.a]), marks)


def drop_device(p: Person, rng: np.random.Generator, rest_s: float) -> Seg:
    """The device slips off the belt, falls, bounces, lies on the floor rest_s seconds, is picked
    up and put back (the wearer stays upright)."""
    while True:
        free = rng.uniform(0.35, 0.5)
        v = free  # g*s: speed at the floor / g
        e = rng.uniform(0.1, 0.3)
        m = int(rng.integers(3, 6))
        shape = np.concatenate([[rng.uniform(0.3, 0.7)], np.ones(1), rng.uniform(0.2, 0.6, m - 2)])
        hit = 1 + v * (1 + e) / (np.sum(shape) * DT) * shape
        if 6.0 <= hit.max() <= 10.0:
            break
    parts = [np.full(_n(free), rng.uniform(0.0, 0.05))]
    marks = {"start": 0, "impact": len(parts[0])}
    parts.append(hit)
    speed = v * e
    for _ in range(int(rng.integers(2, 4))):  # bounces: flight 2 v / g, a smaller hit
        if speed < 0.02:
            break
        parts.append(np.full(max(1, _n(2 * speed)), rng.uniform(0.0, 0.05)))
        e2 = rng.uniform(0.1, 0.3)
        k = int(rng.integers(2, 4))
        bump = np.concatenate([np.ones(1), rng.uniform(0.2, 0.6, k - 1)])
        parts.append(1 + speed * (1 + e2) / (np.sum(bump) * DT) * bump)
        speed *= e2
    fz = np.concatenate(parts)
    n0 = len(fz)
    rock_n = _n(0.5)
    rock = ringing(rock_n, rng.uniform(3, 6), rng.uniform(0.08, 0.15)) * rng.uniform(0.05, 0.2)
    n_rest = _n(rest_s)
    n_lift = _n(rng.uniform(0.8, 1.2))
    f = np.repeat(UP[None], n0 + n_rest + n_lift, axis=0).astype(float)
    f[:n0, 2] = fz
    f[n0:n0 + rock_n, 2] += rock
    # tumbling: the device's own rotation in the air, 2-6 rad/s; its free-fall reading is only
    # that rotation's centripetal term (a few hundredths of g), already in the flight level
    a0 = p.worn(p.body)
    spin = horizontal(rng.uniform(0, 2 * np.pi)) + np.array([0, 0, rng.uniform(-1, 1)])
    spin /= np.linalg.norm(spin)
    tumble = a0 @ rot(spin, rng.uniform(2, 6) * np.arange(n0) * DT)
    # rest: on one of its faces (gravity along +-x, +-y or +-z of the sensor), within 5 deg
    face = np.zeros(3)
    face[rng.integers(3)] = rng.choice([-1.0, 1.0])
    yaw = rot(UP, rng.uniform(0, 2 * np.pi))
    # sensor -> world such that world up is the sensor's `face`
    align_axis = np.cross(face, UP)
    if np.linalg.norm(align_axis) < 1e-9:
        align = np.eye(3) if face @ UP > 0 else rot(np.array([1.0, 0.0, 0.0]), np.pi)
    else:
        align = rot(align_axis / np.linalg.norm(align_axis), np.arccos(np.clip(face @ UP, -1, 1)))
    resting = rot(horizontal(rng.uniform(0, 2 * np.pi)), np.deg2rad(rng.uniform(0, 5))) @ yaw @ align
    settle = turn(tumble[-1], resting, smooth((np.arange(rock_n) + 0.5) / rock_n))
    a = np.concatenate([tumble, settle, np.repeat(resting[None], n_rest - rock_n, axis=0)])
    u = (np.arange(n_lift) + 0.5) / n_lift
    f[n0 + n_rest:, 2] += rng.uniform(0.15, 0.3) * np.sin(2 * np.pi * u)
    a = np.concatenate([a, turn(resting, a0, smooth(u))])
    marks.update({"impact_end": marks["impact"] + len(hit), "still": n0 + rock_n, "pickup": n0 + n_rest})
    return Seg(f, a, marks)


# --- recordings ----------------------------------------------------------------------------------

def sensor(segs: list[Seg], rng: np.random.Generator) -> np.ndarray:
    """The LIS2DW12's readings of the segments, in m/s^2, rounded to 0.001: [n, 3]."""
    f = np.concatenate([s.f for s in segs])
    a = np.concatenate([s.a for s in segs])
    x = np.einsum("nji,nj->ni", a, f) + rng.normal(0.0, NOISE_G, f.shape)
    return np.round(np.clip(x, -16, 16) * G, 3)


class Timeline:
    """Segments one after another, with what happened when."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.person = Person(rng)
        self.segs: list[Seg] = []
        self.events: list[dict] = []
        self.n = 0

    def add(self, seg: Seg, kind: str | None = None, **extra) -> Seg:
        if kind is not None:
            e = {"kind": kind, "start_sample": self.n + seg.marks.get("start", 0)}
            for mark in ("impact", "still", "pickup"):
                if mark in seg.marks:
                    e[f"{mark}_sample"] = self.n + seg.marks[mark]
            if "impact" in seg.marks:  # the noise-free magnitudes: the drop's lowest, the impact's peak
                mag = np.linalg.norm(seg.f, axis=1)
                e["lowest_g"] = round(float(mag[seg.marks["start"]:seg.marks["impact"]].min()), 3)
                e["impact_g"] = round(float(mag[seg.marks["impact"]:seg.marks["impact_end"]].max()), 3)
            e["end_sample"] = self.n + len(seg)
            e.update(extra)
            self.events.append(e)
        self.segs.append(seg)
        self.n += len(seg)
        return seg

    def do(self, what: str, seconds: float = 0.0, **kw) -> None:
        p, rng = self.person, self.rng
        if what == "stand":
            self.add(still(p, seconds, rng))
        elif what == "walk":
            self.add(walk(p, seconds, rng))
        elif what == "run":
            self.add(run(p, seconds, rng), "run")
        elif what == "fall":
            self.add(fall(p, rng, seconds), "fall", lay_s=round(seconds, 3))
            self.add(get_up(p, rng, from_floor=True))
        elif what == "sit_hard":
            self.add(sit_hard(p, rng, seconds), "sit_hard")
            self.add(get_up(p, rng, from_floor=False))
        elif what == "lie_down":
            self.add(lie_down(p, rng, seconds), "lie_down")
            self.add(get_up(p, rng, from_floor=True))
        elif what == "jump":
            self.add(jump(p, rng, kw.get("after", "walk"), seconds), "jump")
        elif what == "drop":
            self.add(drop_device(p, rng, seconds), "drop_device")
        else:
            raise ValueError(what)


# The test recording: (activity, seconds). Falls at least 15 s apart; between them the look-alikes.
TEST_PLAN = [
    ("stand", 2), ("walk", 3), ("jump", 2), ("walk", 2), ("fall", 5), ("stand", 2), ("walk", 2),
    ("sit_hard", 3), ("walk", 2), ("run", 5), ("walk", 2), ("fall", 6), ("walk", 2), ("drop", 3),
    ("walk", 2), ("jump", 2), ("stand", 2), ("fall", 5), ("stand", 2), ("lie_down", 3), ("walk", 2),
    ("sit_hard", 3), ("walk", 2), ("fall", 6), ("walk", 2), ("run", 4), ("jump", 2), ("walk", 2),
    ("drop", 3), ("stand", 1), ("fall", 5), ("walk", 2), ("sit_hard", 3), ("run", 4), ("walk", 2),
    ("fall", 5), ("stand", 2), ("lie_down", 2), ("walk", 2), ("jump", 2), ("drop", 3), ("walk", 2),
    ("fall", 5), ("walk", 2),
]


def test_recording(seed: int = TEST_SEED, plan: list[tuple[str, float]] = TEST_PLAN) -> tuple[np.ndarray, dict]:
    """The test recording ([n, 3] m/s^2) and its ground truth; another seed gives another
    recording of the same plan (tests/test_fall_sample.py uses some as recordings training never saw)."""
    rng = np.random.default_rng(seed)
    tl = Timeline(rng)
    for what, seconds in plan:
        tl.do(what, float(seconds))
    data = sensor(tl.segs, rng)
    falls, others = [], []
    for e in tl.events:
        row = {k: v for k, v in e.items() if k != "kind"}
        for key in list(row):
            if key.endswith("_sample"):
                row[key.replace("_sample", "_s")] = round(row[key] / RATE_HZ, 3)
        (falls if e["kind"] == "fall" else others).append(row if e["kind"] == "fall" else {"kind": e["kind"], **row})
    truth = {"rate_hz": RATE_HZ, "samples": len(data), "seconds": len(data) / RATE_HZ,
             "falls": falls, "look_alikes": others}
    return data, truth


# --- training clips ------------------------------------------------------------------------------

def _pre(tl: Timeline, seconds: float) -> None:
    tl.do("walk" if tl.rng.random() < 0.5 else "stand", seconds)


def _cut(data: np.ndarray, lo: int, hi: int, rng: np.random.Generator) -> np.ndarray:
    """One clip starting at a uniformly drawn sample in [lo, hi]."""
    lo, hi = max(0, lo), min(len(data) - CLIP, hi)
    start = int(rng.integers(lo, hi + 1)) if hi > lo else max(0, min(lo, len(data) - CLIP))
    return data[start:start + CLIP]


def fall_clip(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    tl = Timeline(rng)
    _pre(tl, rng.uniform(2.5, 4.0))
    tl.do("fall", rng.uniform(3.0, 4.0))
    data = sensor(tl.segs, rng)
    e = tl.events[-1]
    start, end = e["start_sample"], e["still_sample"]
    descent = e["impact_sample"] - start
    # the window holds at least 60 % of the descent, the impact and >= 0.25 s of lying
    lo = end + _n(0.25) - CLIP
    hi = start + int(0.4 * descent)
    return _cut(data, lo, hi, rng)


ADL = ["walk", "run", "stand", "transition", "sit_hard", "jump", "drop", "lie_down", "lying", "seated",
       "get_up", "pickup"]
ADL_WEIGHTS = np.array([10, 10, 6, 8, 14, 14, 12, 8, 4, 4, 6, 4], dtype=float)


def adl_clip(seed: int) -> tuple[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    kind = ADL[int(rng.choice(len(ADL), p=ADL_WEIGHTS / ADL_WEIGHTS.sum()))]
    tl = Timeline(rng)
    if kind in ("walk", "run", "stand"):
        tl.do(kind, 5.0)
        return kind, _cut(sensor(tl.segs, rng), 0, 5 * RATE_HZ - CLIP, rng)
    if kind == "transition":
        a, b = rng.choice(["walk", "run", "stand"], size=2, replace=False)
        tl.do(str(a), rng.uniform(2.0, 3.0))
        edge = tl.n
        tl.do(str(b), 3.0)
        return kind, _cut(sensor(tl.segs, rng), edge - CLIP + 10, edge - 10, rng)
    if kind in ("sit_hard", "drop", "jump"):
        _pre(tl, rng.uniform(2.5, 4.0))
        if kind == "sit_hard":
            tl.do("sit_hard", 3.0)
        elif kind == "drop":
            tl.do("drop", rng.uniform(3.0, 4.0))
        else:
            tl.do("jump", 3.0, after="walk" if rng.random() < 0.6 else "stand")
        e = tl.events[-1]
        data = sensor(tl.segs, rng)
        # anywhere from the impact entering the window to leaving it, weighted to where the whole
        # event is inside it
        if rng.random() < 0.7:
            lo, hi = e.get("impact_sample") + _n(0.5) - CLIP, e["start_sample"]
        else:
            lo, hi = e["impact_sample"] - CLIP + 3, e["impact_sample"] + 3
        return kind, _cut(data, lo, hi, rng)
    if kind == "lie_down":
        _pre(tl, rng.uniform(2.0, 3.0))
        tl.do("lie_down", 3.0)
        e = tl.events[-1]
        return kind, _cut(sensor(tl.segs, rng), e["start_sample"] - CLIP // 2, e["still_sample"], rng)
    if kind in ("lying", "seated"):
        _pre(tl, 2.0)
        tl.do("lie_down" if kind == "lying" else "sit_hard", 5.0)
        e = tl.events[-1]
        return kind, _cut(sensor(tl.segs, rng), e["still_sample"] + _n(1.0), e["still_sample"] + _n(3.0), rng)
    if kind == "get_up":
        _pre(tl, 2.0)
        what = "lie_down" if rng.random() < 0.5 else "sit_hard"
        tl.do(what, 4.0)
        e = tl.events[-1]
        tl.do("walk" if rng.random() < 0.5 else "stand", 3.0)
        up = e["end_sample"]
        return kind, _cut(sensor(tl.segs, rng), up - CLIP + 20, up + 20, rng)
    # pickup: the device on the floor, lifted and worn again
    _pre(tl, 2.0)
    tl.do("drop", 4.0)
    e = tl.events[-1]
    _pre(tl, 3.0)
    return kind, _cut(sensor(tl.segs, rng), e["pickup_sample"] - CLIP + 20, e["pickup_sample"] + 20, rng)


# --- files ---------------------------------------------------------------------------------------

def write_csv(path: Path, data: np.ndarray) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["accel_x", "accel_y", "accel_z"])
        for row in data:
            w.writerow([f"{v:.3f}" for v in row])


def write_training(out: Path, per_class: int) -> dict:
    root = out / "train"
    if root.exists():
        shutil.rmtree(root)
    kinds: dict[str, int] = {}
    for label in ("adl", "fall"):
        (root / label).mkdir(parents=True)
    for i in range(per_class):
        write_csv(root / "fall" / f"{i:04d}.csv", fall_clip(1_000_000 + i))
    for i in range(int(per_class * 1.5)):  # more adl: many kinds of it
        kind, clip = adl_clip(2_000_000 + i)
        kinds[kind] = kinds.get(kind, 0) + 1
        write_csv(root / "adl" / f"{i:04d}.csv", clip)
    return kinds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    ap.add_argument("--train", action="store_true", help="also write data/train/{adl,fall}/*.csv (2 s clips)")
    ap.add_argument("--per-class", type=int, default=800, help="fall clips (adl: 1.5 times as many)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    data, truth = test_recording()
    write_csv(args.out / "test.csv", data)
    (args.out / "falls.json").write_text(json.dumps(truth, indent=2) + "\n")
    if args.train:
        kinds = write_training(args.out, args.per_class)
        print("adl clips by kind:", ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
