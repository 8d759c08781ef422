"""Time-domain steps (lib/zgen/src/zgen_features.c): per-channel affine maps,
frame statistics, vector magnitude, decimation and first difference."""
from __future__ import annotations

from dataclasses import dataclass

from zgen.steps import KIND, CStep, Shape, Step, StepError, f32

_PER_CHANNEL = {"type": "array", "items": {"type": "number"}, "minItems": 1}


def _time(name: str, shape: Shape) -> None:
    if shape.domain != "time":
        raise StepError(f"{name} works on samples, but the step before it gives {shape.domain}",
                        f"move {name} before the spectral steps")


def _unbinned(shape: Shape) -> str:
    """Rows combined across FFT bins are no longer bins at k * bin_hz: spectral steps must refuse them."""
    return "bands" if shape.domain == "spectrum" else shape.domain


@dataclass(frozen=True)
class PerChannel(Step):
    """normalize, scale, clip: two per-channel vectors."""

    keys: tuple[str, str] = ("mean", "std")

    def lower(self, p, shape):
        a, b = (p[k] for k in self.keys)
        # One value per channel, or (after spectral steps, e.g. per band) one per row and channel.
        per_row = len(a) == shape.count and shape.rows > 1 and len(a) != shape.channels
        if len(a) != shape.channels and not per_row:
            raise StepError(f"{self.name}.{self.keys[0]} has {len(a)} value(s) but a sample has {shape.channels} "
                            f"channel(s)", f"give one {self.keys[0]} per channel, in sensor and axis order"
                            + (f", or one per row and channel ({shape.count}, rows first)" if shape.rows > 1 else ""),
                            self.keys[0])
        if len(a) != len(b):
            raise StepError(f"{self.name}: {len(a)} {self.keys[0]} but {len(b)} {self.keys[1]}",
                            "give both the same number of values", self.keys[1])
        if self.name == "clip" and any(lo > hi for lo, hi in zip(a, b)):
            raise StepError("clip: a min is above its max", "give min <= max for every value", "min")
        return [CStep(KIND[self.name], args=(1 if per_row else 0,), tables=(f32(a), f32(b)))], shape


@dataclass(frozen=True)
class Reduction(Step):
    def lower(self, p, shape):
        frames = p.get("frames", 1)
        if self.name == "zcr":
            _time(self.name, shape)
        if frames > shape.rows:
            raise StepError(f"{self.name}: {frames} frames from {shape.rows} rows", f"use at most {shape.rows} frames",
                            "frames" if "frames" in p else None)
        if shape.rows % frames != 0:
            raise StepError(f"{self.name}: {shape.rows} samples do not split into {frames} equal frames",
                            f"use a frames value that divides {shape.rows}", "frames" if "frames" in p else None)
        hz = shape.row_hz * frames / shape.rows if shape.domain == "time" else 0.0
        return [CStep(KIND[self.name], args=(frames,))], shape.to(rows=frames, row_hz=hz, domain=_unbinned(shape))


@dataclass(frozen=True)
class Magnitude(Step):
    def lower(self, p, shape):
        return [CStep(KIND["magnitude"])], shape.to(channels=1)


@dataclass(frozen=True)
class Decimate(Step):
    def lower(self, p, shape):
        _time("decimate", shape)
        factor = p["factor"]
        if factor > shape.rows:
            raise StepError(f"decimate by {factor} leaves no sample of {shape.rows}",
                            f"use a factor of at most {shape.rows}", "factor")
        return ([CStep(KIND["decimate"], args=(factor,))],
                shape.to(rows=shape.rows // factor, row_hz=shape.row_hz / factor))


@dataclass(frozen=True)
class Diff(Step):
    def lower(self, p, shape):
        if shape.rows < 2:
            raise StepError("diff needs at least 2 rows", "apply it before reducing the window to one row")
        return [CStep(KIND["diff"])], shape.to(rows=shape.rows - 1, domain=_unbinned(shape))


_FRAMES = {"frames": {"type": "integer", "minimum": 1, "maximum": 65535,
                      "description": "number of equal frames the window is split into; one value per frame and "
                                     "channel (default 1: the whole window)"}}


def _reduction(name: str, what: str) -> Step:
    return Reduction(name, f"{what} of each frame, per channel.", dict(_FRAMES), {"frames": 4},
                     "[frames][channels].")


STEPS = [
    PerChannel("normalize", "x = (x - mean) / std, per channel (or, after spectral steps, per row and channel: "
               "one value per band and channel, rows first).",
               {"mean": {**_PER_CHANNEL, "description": "one mean per channel"},
                "std": {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0}, "minItems": 1,
                        "description": "one standard deviation (> 0) per channel"}},
               {"mean": [0, 0, 9.81], "std": [1, 1, 1]}, "the same shape.", ("mean", "std"), ("mean", "std")),
    PerChannel("scale", "x = x * factor + offset, per channel (units, gains).",
               {"factor": {**_PER_CHANNEL, "description": "one factor per channel"},
                "offset": {**_PER_CHANNEL, "description": "one offset per channel, added after the factor"}},
               {"factor": [0.10197], "offset": [0]}, "the same shape.", ("factor", "offset"), ("factor", "offset")),
    PerChannel("clip", "x limited to [min, max], per channel.",
               {"min": {**_PER_CHANNEL, "description": "one lower bound per channel"},
                "max": {**_PER_CHANNEL, "description": "one upper bound per channel"}},
               {"min": [-20], "max": [20]}, "the same shape.", ("min", "max"), ("min", "max")),
    _reduction("rms", "root mean square"),
    _reduction("mean", "mean"),
    _reduction("std", "standard deviation (population)"),
    _reduction("peak", "largest |x|"),
    _reduction("min", "smallest value"),
    _reduction("max", "largest value"),
    _reduction("zcr", "zero-crossing rate (sign changes between consecutive samples / (samples - 1))"),
    Magnitude("magnitude", "vector magnitude sqrt(x^2 + y^2 + ...) over the channels (an orientation-free "
              "accelerometer signal).", {}, {}, "[rows][1]."),
    Decimate("decimate", "mean of each `factor` consecutive samples (a boxcar low-pass, then every "
             "factor-th sample): the rate drops by factor.",
             {"factor": {"type": "integer", "minimum": 1, "maximum": 4096, "description": "samples averaged into one"}},
             {"factor": 4}, "[rows / factor][channels].", ("factor",)),
    Diff("diff", "first difference x[n + 1] - x[n] (removes offsets such as gravity).", {}, {},
         "[rows - 1][channels]."),
]
