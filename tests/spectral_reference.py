"""An independent float64 NumPy oracle of zgen's feature steps, written from the
textbook definitions the step descriptions cite (zgen/steps/*.py docstrings),
not from zgen's own table builders or the C sources: nothing here imports
zgen. Arrays are [rows][channels] as the runtime's matrices are.

Conventions (the steps' documented ones):
- windows are periodic (DFT-even): Hann 0.5 - 0.5 cos(2 pi i / n), Hamming
  0.54 - 0.46 cos(2 pi i / n), i < n;
- the spectrum is the one-sided DFT X[k] = sum_i w[i] x[i] e^(-2 pi j k i / n),
  k = 0 .. n / 2, bin k at k * rate / n Hz; power |X|^2 or magnitude |X|;
- a band [lo, hi) holds the bins with lo <= f < hi, the last band also f = hi;
- mel = 2595 log10(1 + f / 700) (HTK), bands + 2 points evenly spaced in mel,
  band b the unnormalised triangle rising from point b to 1 at point b + 1 and
  falling to 0 at point b + 2;
- logs are natural, ln(x + floor);
- the DCT-II is orthonormal: c[k] = s_k sum_i x[i] cos(pi k (2 i + 1) / (2 N)),
  s_0 = sqrt(1 / N), s_k = sqrt(2 / N).
"""
from __future__ import annotations

import math

import numpy as np

D = np.float64


def _col(x) -> np.ndarray:
    a = np.asarray(x, D)
    return a[:, None] if a.ndim == 1 else a


# --- time domain -------------------------------------------------------------------------------

def normalize(x, mean, std) -> np.ndarray:
    return (_col(x) - np.asarray(mean, D)) / np.asarray(std, D)


def scale(x, factor, offset) -> np.ndarray:
    return _col(x) * np.asarray(factor, D) + np.asarray(offset, D)


def clip(x, lo, hi) -> np.ndarray:
    return np.minimum(np.maximum(_col(x), np.asarray(lo, D)), np.asarray(hi, D))


def _frames(x, frames: int) -> np.ndarray:
    """[frames][rows per frame][channels]; the rows must split evenly."""
    x = _col(x)
    assert x.shape[0] % frames == 0
    return x.reshape(frames, x.shape[0] // frames, x.shape[1])


def rms(x, frames=1):
    return np.sqrt(np.mean(_frames(x, frames) ** 2, axis=1))


def mean(x, frames=1):
    return np.mean(_frames(x, frames), axis=1)


def std(x, frames=1):
    """Population standard deviation (divides by n)."""
    f = _frames(x, frames)
    return np.sqrt(np.mean((f - f.mean(axis=1, keepdims=True)) ** 2, axis=1))


def peak(x, frames=1):
    return np.max(np.abs(_frames(x, frames)), axis=1)


def minimum(x, frames=1):
    return np.min(_frames(x, frames), axis=1)


def maximum(x, frames=1):
    return np.max(_frames(x, frames), axis=1)


def zcr(x, frames=1):
    """Sign changes between consecutive samples of a frame / (samples - 1). The sign of a sample is
    negative (x < 0) or not (x >= 0): zero counts with the positives, so 0 -> 1 is no crossing and
    -1 -> 0 is one."""
    f = _frames(x, frames)
    n = f.shape[1]
    if n < 2:
        return np.zeros((f.shape[0], f.shape[2]))
    neg = f < 0
    return np.sum(neg[:, 1:] != neg[:, :-1], axis=1) / (n - 1)


def magnitude(x):
    """sqrt of the sum of squares over the channels: [rows][1]."""
    return np.sqrt(np.sum(_col(x) ** 2, axis=1, keepdims=True))


def decimate(x, factor: int):
    """Boxcar: the mean of each `factor` consecutive rows; a last incomplete group is dropped."""
    x = _col(x)
    keep = x.shape[0] // factor
    return x[:keep * factor].reshape(keep, factor, x.shape[1]).mean(axis=1)


def diff(x):
    x = _col(x)
    return x[1:] - x[:-1]


# --- spectral ----------------------------------------------------------------------------------

def window(kind: str, n: int) -> np.ndarray:
    i = np.arange(n, dtype=D)
    if kind == "hann":
        return 0.5 - 0.5 * np.cos(2.0 * math.pi * i / n)
    if kind == "hamming":
        return 0.54 - 0.46 * np.cos(2.0 * math.pi * i / n)
    if kind == "none":
        return np.ones(n)
    raise ValueError(kind)


def dft(x, kind: str = "hann") -> np.ndarray:
    """The complex one-sided spectrum [n / 2 + 1][channels] of the windowed columns."""
    x = _col(x)
    return np.fft.rfft(x * window(kind, x.shape[0])[:, None], axis=0)


def naive_dft(x, kind: str = "hann") -> np.ndarray:
    """The same from the DFT's sum (to check the oracle itself on small n)."""
    x = _col(x)
    n = x.shape[0]
    k = np.arange(n // 2 + 1)[:, None]
    i = np.arange(n)[None, :]
    return np.exp(-2j * math.pi * k * i / n) @ (x * window(kind, n)[:, None])


def spectrum(x, kind: str = "hann", output: str = "power") -> np.ndarray:
    X = dft(x, kind)
    p = X.real ** 2 + X.imag ** 2
    return p if output == "power" else np.sqrt(p)


def bin_freqs(n: int, rate_hz: float) -> np.ndarray:
    """Centre frequency of each of the n / 2 + 1 bins of an n-point DFT at rate_hz."""
    return np.arange(n // 2 + 1, dtype=D) * rate_hz / n


def band_edges(nyquist: float, edges_hz=None, bands=None, low_hz=0.0, high_hz=None, spacing="linear"):
    if edges_hz is not None:
        return [float(e) for e in edges_hz]
    hi = nyquist if high_hz is None else float(high_hz)
    lo = float(low_hz)
    if spacing == "log":
        return [lo * (hi / lo) ** (i / bands) for i in range(bands + 1)]
    return [lo + (hi - lo) * i / bands for i in range(bands + 1)]


def band_weights(edges, freqs) -> np.ndarray:
    """[bands][bins] 0/1: bin f joins [lo, hi), the last band includes hi."""
    freqs = np.asarray(freqs, D)
    w = np.zeros((len(edges) - 1, len(freqs)))
    for b in range(len(edges) - 1):
        lo, hi = edges[b], edges[b + 1]
        inside = (freqs >= lo) & ((freqs <= hi) if b == len(edges) - 2 else (freqs < hi))
        w[b, inside] = 1.0
    return w


def hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, D) / 700.0)


def mel_to_hz(m):
    return 700.0 * (np.power(10.0, np.asarray(m, D) / 2595.0) - 1.0)


def mel_weights(bands: int, freqs, low_hz: float, high_hz: float) -> np.ndarray:
    """[bands][bins] HTK triangles (peak 1, not area-normalised)."""
    freqs = np.asarray(freqs, D)
    pts = mel_to_hz(hz_to_mel(low_hz) + (hz_to_mel(high_hz) - hz_to_mel(low_hz)) * np.arange(bands + 2) / (bands + 1))
    w = np.zeros((bands, len(freqs)))
    for b in range(bands):
        left, centre, right = pts[b], pts[b + 1], pts[b + 2]
        for k, f in enumerate(freqs):
            if left < f <= centre:
                w[b, k] = (f - left) / (centre - left)
            elif centre < f < right:
                w[b, k] = (right - f) / (right - centre)
    return w


def apply_bank(weights, spec) -> np.ndarray:
    """[bands][channels] = weights [bands][bins] @ spec [bins][channels]."""
    return np.asarray(weights, D) @ _col(spec)


def log_floor(x, floor: float) -> np.ndarray:
    return np.log(np.asarray(x, D) + floor)


def dct_ortho(n_out: int, n_in: int) -> np.ndarray:
    """[n_out][n_in] orthonormal DCT-II rows, from the definition."""
    m = np.zeros((n_out, n_in))
    for k in range(n_out):
        s = math.sqrt(1.0 / n_in) if k == 0 else math.sqrt(2.0 / n_in)
        for i in range(n_in):
            m[k, i] = s * math.cos(math.pi * k * (2 * i + 1) / (2 * n_in))
    return m


def log_mel(x, rate_hz: float, bands: int, low_hz: float, high_hz: float | None, floor: float,
            kind: str = "hann", output: str = "power") -> np.ndarray:
    x = _col(x)
    n = x.shape[0]
    freqs = bin_freqs(n, rate_hz)
    hi = rate_hz / 2 if high_hz is None else high_hz
    return log_floor(apply_bank(mel_weights(bands, freqs, low_hz, hi), spectrum(x, kind, output)), floor)


def mfcc(x, rate_hz: float, coefficients: int, bands: int, low_hz: float, high_hz: float | None,
         floor: float, kind: str = "hann", output: str = "power") -> np.ndarray:
    lm = log_mel(x, rate_hz, bands, low_hz, high_hz, floor, kind, output)
    return dct_ortho(coefficients, bands) @ lm
