"""Spectral steps (lib/zgen/src/zgen_spectral.c): windowed real FFT, band
energies, log-mel spectrogram and MFCC. Every table (window, twiddles, filter
weights, DCT) is computed here in float64 and rounded once to float32, so the
firmware evaluates no transcendental function."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from zgen.steps import KIND, CStep, Shape, Step, StepError, f32

LOG_FLOOR = 1e-6


def window(kind: str, n: int) -> np.ndarray:
    """Periodic windows (the DFT-even form spectral analysis uses): Hann 0.5 - 0.5 cos(2 pi i / n),
    Hamming 0.54 - 0.46 cos(2 pi i / n)."""
    i = np.arange(n, dtype=np.float64)
    if kind == "hann":
        return 0.5 - 0.5 * np.cos(2 * np.pi * i / n)
    if kind == "hamming":
        return 0.54 - 0.46 * np.cos(2 * np.pi * i / n)
    return np.ones(n)


def twiddles(n: int) -> np.ndarray:
    k = np.arange(n // 2, dtype=np.float64)
    return np.stack([np.cos(2 * np.pi * k / n), np.sin(2 * np.pi * k / n)], axis=1).reshape(-1)


def _spectrum(name: str, shape: Shape) -> None:
    if shape.domain != "spectrum":
        raise StepError(f"{name} needs a spectrum, but the step before it gives {shape.domain}",
                        f"put `- fft: {{}}` before {name}")


def _filterbank(weights: np.ndarray, log: bool, floor: float, name: str) -> CStep:
    """A sparse filter bank from dense weights [bands][bins]: each band keeps its run of bins
    from the first to the last non-zero weight."""
    offsets, firsts, flat = [0], [], []
    for b, row in enumerate(weights):
        nz = np.nonzero(row)[0]
        if len(nz) == 0:
            raise StepError(f"{name}: band {b + 1} holds no FFT bin",
                            "use fewer bands, a wider frequency range or a longer fft")
        first, last = int(nz[0]), int(nz[-1])
        firsts.append(first)
        flat.extend(row[first:last + 1])
        offsets.append(offsets[-1] + last - first + 1)
    if offsets[-1] > 65535:
        raise StepError(f"{name}: the filter bank needs {offsets[-1]} weights", "use fewer bands or a shorter fft")
    tables = (np.array(offsets, np.uint16), np.array(firsts, np.uint16), f32(flat), f32([floor]))
    return CStep(KIND["filterbank"], args=(len(weights), 1 if log else 0, weights.shape[1]), tables=tables,
                 scratch=weights.shape[1] + len(weights))


@dataclass(frozen=True)
class Fft(Step):
    def lower(self, p, shape):
        if shape.domain != "time":
            raise StepError(f"fft needs samples, but the step before it gives {shape.domain}",
                            "put fft right after the time-domain steps")
        n = p.get("length", shape.rows)
        if n & (n - 1) or n < 4:
            lo, hi = 1 << max(2, n.bit_length() - 1), 1 << max(2, n.bit_length())
            sizes = f"{lo}" + (f" or {hi}" if hi != lo else "")
            fix = (f"use {sizes} (and a window that gives fft that many rows)" if "length" in p else
                   f"give fft {sizes} rows: the window (or frame) length, counting the rows the steps "
                   "before it drop (diff drops one)")
            raise StepError(f"fft length {n} is not a power of two (4 or more)", fix,
                            "length" if "length" in p else None)
        if n != shape.rows:
            more = n - shape.rows
            raise StepError(f"fft length {n} but the steps before it give {shape.rows} rows",
                            f"make the window (or frame) give fft {n} samples" +
                            (f" ({more} more than now)" if more > 0 else f" ({-more} fewer than now)"), "length")
        power = p.get("output", "power") == "power"
        step = CStep(KIND["fft"], args=(n, 1 if power else 0),
                     tables=(f32(window(p.get("window", "hann"), n)), f32(twiddles(n))), scratch=2 * n)
        return [step], shape.to(rows=n // 2 + 1, domain="spectrum", bin_hz=shape.row_hz / n, power=power, row_hz=0.0)


def band_edges(p: dict, nyquist: float) -> list[float]:
    if "edges_hz" in p:
        return [float(e) for e in p["edges_hz"]]
    if "bands" not in p:
        raise StepError("spectral_bands needs its bands: edges_hz or bands",
                        "give `edges_hz: [10, 50, 100, 200]` (band edges in Hz) or `bands: 8`")
    lo, hi, n = float(p.get("low_hz", 0.0)), float(p.get("high_hz", nyquist)), p["bands"]
    if p.get("spacing", "linear") == "log":
        if lo <= 0:
            raise StepError("log-spaced bands need low_hz > 0", "set low_hz, e.g. 10", "low_hz")
        return list(np.geomspace(lo, hi, n + 1))
    return list(np.linspace(lo, hi, n + 1))


@dataclass(frozen=True)
class Bands(Step):
    def lower(self, p, shape):
        _spectrum("spectral_bands", shape)
        nyquist = shape.bin_hz * (shape.rows - 1)
        edges = band_edges(p, nyquist)
        if any(b <= a for a, b in zip(edges, edges[1:])):
            raise StepError("band edges must rise", "list the edges in Hz from low to high",
                            "edges_hz" if "edges_hz" in p else None)
        if edges[-1] > nyquist * (1 + 1e-9) or edges[0] < 0:
            raise StepError(f"band edges reach {edges[-1]:g} Hz, beyond the {nyquist:g} Hz the spectrum holds",
                            f"keep the edges within 0..{nyquist:g} Hz (half the sampling rate)",
                            "edges_hz" if "edges_hz" in p else "high_hz")
        freqs = np.arange(shape.rows) * shape.bin_hz
        w = np.zeros((len(edges) - 1, shape.rows))
        for b, (lo, hi) in enumerate(zip(edges, edges[1:])):
            last = b == len(edges) - 2
            w[b] = ((freqs >= lo) & ((freqs <= hi) if last else (freqs < hi))).astype(np.float64)
        step = _filterbank(w, bool(p.get("log", False)), float(p.get("floor", LOG_FLOOR)), "spectral_bands")
        return [step], shape.to(rows=len(edges) - 1, domain="bands")


def mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, np.float64) / 700.0)


def mel_weights(bands: int, bins: int, bin_hz: float, lo: float, hi: float) -> np.ndarray:
    """HTK mel triangles (unnormalised) over FFT bins."""
    pts = 700.0 * (10.0 ** (np.linspace(mel(lo), mel(hi), bands + 2) / 2595.0) - 1.0)
    freqs = np.arange(bins) * bin_hz
    w = np.zeros((bands, bins))
    for b in range(bands):
        left, mid, right = pts[b], pts[b + 1], pts[b + 2]
        up = (freqs - left) / (mid - left)
        down = (right - freqs) / (right - mid)
        w[b] = np.maximum(0.0, np.minimum(up, down))
    return w


def dct_matrix(n_out: int, n_in: int) -> np.ndarray:
    """DCT-II, orthonormal (scipy.fft.dct(type=2, norm='ortho')), first n_out rows."""
    k = np.arange(n_out)[:, None]
    i = np.arange(n_in)[None, :]
    m = np.cos(np.pi * k * (2 * i + 1) / (2 * n_in)) * math.sqrt(2.0 / n_in)
    m[0] /= math.sqrt(2.0)
    return m


@dataclass(frozen=True)
class LogMel(Step):
    def mel_step(self, p, shape) -> tuple[CStep, int]:
        _spectrum(self.name, shape)
        nyquist = shape.bin_hz * (shape.rows - 1)
        lo, hi = float(p.get("low_hz", 20.0)), float(p.get("high_hz", nyquist))
        if not 0 <= lo < hi <= nyquist * (1 + 1e-9):
            raise StepError(f"{self.name}: {lo:g}..{hi:g} Hz is not within 0..{nyquist:g} Hz",
                            "give 0 <= low_hz < high_hz <= half the sampling rate", "high_hz")
        bands = p.get("bands", 40)
        w = mel_weights(bands, shape.rows, shape.bin_hz, lo, hi)
        return _filterbank(w, True, float(p.get("floor", LOG_FLOOR)), self.name), bands

    def lower(self, p, shape):
        step, bands = self.mel_step(p, shape)
        return [step], shape.to(rows=bands, domain="bands")


@dataclass(frozen=True)
class Mfcc(LogMel):
    def lower(self, p, shape):
        step, bands = self.mel_step(p, shape)
        n = p.get("coefficients", 13)
        if n > bands:
            raise StepError(f"mfcc: {n} coefficients from {bands} mel bands", f"use at most {bands} coefficients",
                            "coefficients")
        dct = CStep(KIND["matrix"], args=(n, bands), tables=(f32(dct_matrix(n, bands)),), scratch=bands + n)
        return [step, dct], shape.to(rows=n, domain="cepstrum")


_HZ = {"type": "number", "minimum": 0}
_MEL = {"bands": {"type": "integer", "minimum": 1, "maximum": 256, "description": "mel bands (default 40)"},
        "low_hz": {**_HZ, "description": "lowest frequency (default 20 Hz)"},
        "high_hz": {**_HZ, "description": "highest frequency (default: half the sampling rate)"},
        "floor": {"type": "number", "exclusiveMinimum": 0,
                  "description": f"added before the logarithm (default {LOG_FLOOR:g})"}}

STEPS = [
    Fft("fft", "windowed real FFT of each channel over the window (or frame); radix-2 in float32, tables "
        "from zgen.", {
            "length": {"type": "integer", "minimum": 4, "maximum": 4096,
                       "description": "points, a power of two equal to the window's (or frame's) samples "
                                      "(default: that)"},
            "window": {"enum": ["hann", "hamming", "none"], "description": "periodic window (default hann)"},
            "output": {"enum": ["power", "magnitude"], "description": "|X|^2 (default) or |X|"}},
        {"window": "hann", "output": "power"}, "[length / 2 + 1][channels] bins from 0 Hz to half the rate."),
    Bands("spectral_bands", "sum of the spectrum's bins in each band (a bin at f joins [lo, hi); the last band "
          "includes hi): energy per band from a power spectrum.", {
              "edges_hz": {"type": "array", "items": _HZ, "minItems": 2, "description": "band edges in Hz, rising"},
              "bands": {"type": "integer", "minimum": 1, "maximum": 256,
                        "description": "instead of edges_hz: this many bands from low_hz to high_hz"},
              "low_hz": {**_HZ, "description": "with bands: the first edge (default 0)"},
              "high_hz": {**_HZ, "description": "with bands: the last edge (default: half the rate)"},
              "spacing": {"enum": ["linear", "log"], "description": "with bands: edges spaced evenly or "
                          "geometrically (default linear)"},
              "log": {"type": "boolean", "description": "natural log of (energy + floor) (default false)"},
              "floor": {"type": "number", "exclusiveMinimum": 0,
                        "description": f"with log: added before the logarithm (default {LOG_FLOOR:g})"}},
          {"edges_hz": [10, 50, 100, 200, 400]}, "[bands][channels]."),
    LogMel("log_mel", "log-mel spectrogram: HTK mel triangles over the power spectrum, then ln(x + floor).",
           dict(_MEL), {"bands": 40, "low_hz": 20, "high_hz": 4000}, "[bands][channels]."),
    Mfcc("mfcc", "MFCC: log_mel, then the orthonormal DCT-II, first `coefficients`.",
         {**_MEL, "coefficients": {"type": "integer", "minimum": 1, "maximum": 256,
                                   "description": "cepstral coefficients kept (default 13)"}},
         {"coefficients": 13, "bands": 40}, "[coefficients][channels]."),
]
