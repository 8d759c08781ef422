"""Recorded data into Renode's model of the real sensor part.

Where Renode models a manifest's external part, the Renode suite attaches that
model on the board's bus and feeds it the recording, so the firmware reads it
through the real Zephyr driver instead of the replay source. The part and its
driver both quantise: the part to its LSB, the driver by its own arithmetic
(float32 in the LIS2DW12's case). zgen computes what the driver will report,
and `zgen simulate` on those values gives the lines the firmware must print.

To keep that exact, the feed holds exact multiples of the part's LSB (Renode
truncates whatever it is fed to one), written as decimals Renode parses
without rounding.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from zgen.boards import Board
from zgen.data import Recording
from zgen.manifest import Manifest
from zgen.sensors import STANDARD_GRAVITY

SENSOR_G = 9806650


@dataclass(frozen=True)
class Lis2dw12:
    """ST LIS2DW12 as Zephyr 3.7's driver sets it up from zgen's overlay (high-performance mode:
    14 bits, 0.244 mg per LSB at the default 2 g range, doubling with each wider range) and as
    Renode 1.15.1's Sensors.LIS2DW12 converts a fed sample: trunc(g * 1000 / sensitivity), clamped
    to 14 bits, left-aligned in OUT_X/Y/Z."""

    renode_class: str = "Sensors.LIS2DW12"
    feed_command: str = "FeedAccelerationSample"  # one "x y z" line (g) per sample, from a file
    range_g: int = 2  # the overlay's `range`
    full_scale: tuple[int, int] = (-8192, 8191)

    @property
    def lsb_ug(self) -> int:
        """micro-g per LSB: the driver's LIS2DW12_FS_TO_GAIN(fs, 0) = 244 << fs, 2 g at fs 0."""
        return 244 * (self.range_g // 2)

    def counts(self, micro_ms2: np.ndarray) -> np.ndarray:
        """The part's output for values in micro m/s^2: the nearest LSB, clamped to the range."""
        g = micro_ms2.astype(np.float64) / 1e6 / STANDARD_GRAVITY
        return np.clip(np.rint(g * 1e6 / self.lsb_ug), *self.full_scale).astype(np.int64)

    def feed_lines(self, counts: np.ndarray) -> list[str]:
        """Each sample as exact decimal g: counts x 0.000244."""
        def dec(c: int) -> str:
            ug = abs(int(c)) * self.lsb_ug
            return f"{'-' if c < 0 else ''}{ug // 1_000_000}.{ug % 1_000_000:06d}"
        return [" ".join(dec(c) for c in row) for row in counts]

    def driver_micro(self, counts: np.ndarray) -> np.ndarray:
        """lis2dw12_convert(): dval = ((int64_t)raw * gain * SENSOR_G) / 1000000LL with a float gain,
        so every step is float32 and the cast to int64 truncates; dval is in micro m/s^2."""
        f = np.float32
        dval = (counts.astype(f) * f(self.lsb_ug)) * f(SENSOR_G) / f(1_000_000)
        return np.trunc(dval).astype(np.int64)


MODELS = {"st,lis2dw12": Lis2dw12()}


@dataclass(frozen=True)
class FedSensor:
    name: str  # the manifest's sensor
    peripheral: str  # Renode's name for the attached model, e.g. sysbus.twi0.accel
    registration: str  # the platform line that attaches it
    model: Lis2dw12
    first_column: int
    columns: int

    @property
    def feed_file(self) -> str:
        return f"{self.name}.feed"


def plan(m: Manifest, board: Board) -> list[FedSensor] | None:
    """The sensors to feed on this Renode board, or None when Renode does not model every one of
    the manifest's parts on that board (the suite then builds with the replay source)."""
    renode = board.simulators.get("renode")
    if not renode or not m.sensors:
        return None
    buses = renode.get("buses") or {}
    fed, col = [], 0
    for s in m.sensors:
        model = MODELS.get(s.part or "")
        if model is None or s.bus not in buses:
            return None
        if s.full_scale is not None:
            model = replace(model, range_g=s.full_scale)
        bus = buses[s.bus]
        fed.append(FedSensor(s.name, f"sysbus.{bus}.{s.name}", f"{s.name}: {model.renode_class} @ {bus} "
                             f"0x{s.address:02x}", model, col, len(s.columns)))
        col += len(s.columns)
    return fed


def _counts(rec: Recording, s: FedSensor) -> np.ndarray:
    return s.model.counts(rec.micro[:, s.first_column:s.first_column + s.columns])


def feeds(rec: Recording, fed: list[FedSensor]) -> dict[str, str]:
    """tests/renode/<sensor>.feed for each fed sensor."""
    return {s.feed_file: "\n".join(s.model.feed_lines(_counts(rec, s))) + "\n" for s in fed}


def driver_view(rec: Recording, fed: list[FedSensor]) -> Recording:
    """The recording as the firmware reads it through the parts and their Zephyr drivers."""
    micro, decimals = rec.micro.copy(), list(rec.decimals)
    for s in fed:
        columns = slice(s.first_column, s.first_column + s.columns)
        micro[:, columns] = s.model.driver_micro(_counts(rec, s))
        decimals[columns] = [6] * s.columns
    return replace(rec, micro=micro, decimals=tuple(decimals))
