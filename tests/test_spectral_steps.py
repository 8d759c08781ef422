"""The feature steps as the C runtime runs them (zgen._runtime, compiled from
app_template/lib/zgen) against an independent float64 NumPy oracle
(tests/spectral_reference.py), on seeded and adversarial signals.

Every pipeline is built the way zgen builds one: the step descriptions lower the chain
(zgen.steps.lower_chain), zgen.pipeline.steps turns the records into the runtime's dicts and
the config around them is the one zgen.pipeline.runtime_config writes, with a float32 model
input so that the features come out unquantised.

Tolerances. The C runtime works in float32 (unit roundoff EPS = 2^-24) while the oracle
computes in float64 from exact definitions, so every comparison is against a bound derived
from the operations the step performs (a forward error analysis, first order in EPS with
generous constants), never against a hand-tuned number:

- FFT (radix-2, decimation in time, twiddles rounded to float32): Higham, Accuracy and
  Stability of Numerical Algorithms, 2nd ed., Thm 24.2: ||X^ - X||_2 <= log2(n) eta ||X||_2
  (to first order), eta = mu + gamma_4 (sqrt 2 + mu), mu the twiddles' error (<= sqrt 2 EPS),
  gamma_4 ~ 4 EPS, so eta <= 7.1 EPS; we use 8 EPS. Windowing x * w with a float32 table adds
  2 EPS ||X||_2. By Parseval ||X||_2 = sqrt(n) ||x w||_2, and each bin's error is at most the
  error vector's norm:  E = (8 log2 n + 2) EPS sqrt(n) ||x w||_2  per bin and channel.
  Power |X|^2: 2 |X| E + E^2 plus 3 EPS for the two squares and their sum; magnitude: E plus
  3 EPS for those and the square root. A silent channel gets E = 0: its bins must be exactly 0.
- Filter banks (sum of w_i S_i over m bins, sequentially, weights rounded to float32):
  sum_i w_i (tol_S_i + (m + 2) EPS (S_i + tol_S_i)), plus 1e-12 sum S for the oracle's own
  float64 mel weights, which differ from zgen's by a few 1e-16.
- ln(B + floor): the argument lies in [(max(B - tol_B, 0) + floor)(1 - 3 EPS),
  (B + tol_B + floor)(1 + 3 EPS)] (the float32 floor and the sum each round once); the log's
  error is the wider side of that interval plus LOGF_ULPS ulps of zgen_logf.
- DCT: |D| tol_L + (bands + 2) EPS |D| (|L| + tol_L).
- Time-domain steps: sequential float32 sums of n terms, gamma_(n-1) <= (n - 1) EPS relative to
  the sum of magnitudes, one rounding per other operation. diff, clip, min, max, peak and zcr are
  exact (one correctly rounded operation, or none) and compared bit for bit.

zgen_logf (a logarithm from float arithmetic only) is checked directly over every binade,
subnormals, powers of two and the neighbourhood of 1 against np.log within LOGF_ULPS ulps:
the measured maximum is 2.83 ulps (near x = 1.28, where the atanh series' s is largest), the
bound is 4 (three roundings to form s = (m - 1) / (m + 1), one in the short Horner sum with
s^2 < 0.03, one in the final e ln 2 + poly sum).
"""
from __future__ import annotations

import ctypes
import math
from types import SimpleNamespace

import numpy as np
import pytest

import c_harness
import spectral_reference as ref
from zgen import _runtime
from zgen.pipeline import SCORE_DECIMALS, steps as runtime_steps
from zgen.steps import KIND, Shape, StepError, lower_chain

EPS = 2.0 ** -24  # float32 unit roundoff
LOGF_ULPS = 4.0
F32 = np.float32
I32_MAX, I32_MIN = 2147483647, -2147483648


# --- building and driving pipelines ------------------------------------------------------------

def config(records, shape_in: Shape, shape_out: Shape, stride: int | None = None) -> dict:
    """The runtime config zgen.pipeline.runtime_config(m, features_only=True) writes for a chain
    of `records` over a window of shape_in: float32 model input, no decisions worth speaking of."""
    return {
        "rate_hz": int(round(shape_in.row_hz)), "channels": shape_in.channels,
        "window_length": shape_in.rows, "window_stride": stride or shape_in.rows,
        "frame_count": 0, "frame_stride": 0, "frame_features": 0,
        "scratch_len": max([r.scratch for r in records], default=0),
        "state_words": sum(r.state_words for r in records),
        "features": runtime_steps(SimpleNamespace(chain=records)),
        "score_decimals": SCORE_DECIMALS,
        "input": {"dtype": 0, "scale": 0.0, "zero_point": 0, "count": shape_out.count},
        "output": {"dtype": 0, "scale": 0.0, "zero_point": 0, "count": 1},
        "score": 2, "threshold_above": 1, "threshold": 0.0, "debounce": 1, "average": 1, "suppress": 0,
        "state_off": "off", "state_on": "on",
    }


def build(chain, rows: int, channels: int, rate_hz: float, stride: int | None = None):
    shape_in = Shape(rows, channels, rate_hz)
    records, shape, problems = lower_chain(chain, shape_in)
    assert not problems, problems
    return _runtime.Pipeline(config(records, shape_in, shape, stride)), shape


def sensor_values(x) -> tuple[np.ndarray, np.ndarray]:
    """Signal values (float64, [rows][channels]) -> the int32 (val1, val2) pairs of Zephyr's
    struct sensor_value (integer and millionths, same sign) and the float32 samples the runtime
    makes of them: float(val1) + float(val2) / 1e6, in float32, as documented in zgen.h."""
    x = np.asarray(x, np.float64)
    x = x[:, None] if x.ndim == 1 else x
    micro = np.rint(x * 1e6).astype(np.int64)
    val1 = np.sign(micro) * (np.abs(micro) // 1_000_000)
    val1 = np.clip(val1, I32_MIN, I32_MAX)
    val2 = np.clip(micro - val1 * 1_000_000, -999_999, 999_999)
    sv = np.stack([val1, val2], axis=-1).astype(np.int32)
    return sv, samples_of(sv)


def samples_of(sv: np.ndarray) -> np.ndarray:
    return (sv[..., 0].astype(F32) + sv[..., 1].astype(F32) / F32(1e6)).astype(np.float64)


def run_windows(pipe, sv: np.ndarray, out_shape: Shape) -> list[np.ndarray]:
    """Push every sample; each ready window's features as [rows][channels] float64 (checking that
    the float32 model input holds exactly the same values)."""
    data, i, out = np.ascontiguousarray(sv).tobytes(), 0, []
    while True:
        i, ready = pipe.push(data, i)
        if not ready:
            return out
        model_in, feats = pipe.features()
        f = np.array(feats, F32)
        assert np.frombuffer(model_in, F32).tobytes() == f.tobytes()
        out.append(f.astype(np.float64).reshape(out_shape.rows, out_shape.channels))


def features(chain, x, rate_hz: float):
    """One window of signal x through the chain: (C features, float32 samples)."""
    sv, xs = sensor_values(x)
    pipe, shape = build(chain, sv.shape[0], sv.shape[1], rate_hz)
    (got,) = run_windows(pipe, sv, shape)
    return got, xs


def assert_within(got, want, tol, what: str):
    got, want, tol = (np.asarray(a, np.float64) for a in (got, want, tol))
    assert got.shape == want.shape, (what, got.shape, want.shape)
    assert np.all(np.isfinite(got)), what
    err = np.abs(got - want)
    bad = err > tol
    if bad.any():
        i = np.unravel_index(np.argmax(np.where(bad, err - tol, -np.inf)), err.shape)
        raise AssertionError(f"{what}: {bad.sum()} value(s) beyond the bound, worst at {i}: C {got[i]!r}, "
                             f"oracle {want[i]!r}, error {err[i]:.3g} > bound {tol[i]:.3g}")


# --- error bounds (see the module docstring) ---------------------------------------------------

def fft_bound(xs: np.ndarray, kind: str) -> np.ndarray:
    """E per channel: the bound on any bin's complex error."""
    n = xs.shape[0]
    xw = xs * ref.window(kind, n)[:, None]
    return (8.0 * math.log2(n) + 2.0) * EPS * math.sqrt(n) * np.linalg.norm(xw, axis=0)


def spectrum_tol(xs, kind: str, output: str) -> tuple[np.ndarray, np.ndarray]:
    """The oracle spectrum and its tolerance, [bins][channels]."""
    a = np.abs(ref.dft(xs, kind))
    e = fft_bound(xs, kind)[None, :]
    if output == "power":
        return a ** 2, 2 * a * e + e ** 2 + 3 * EPS * (a + e) ** 2
    return a, e + 3 * EPS * (a + e)


def bank_tol(w: np.ndarray, s: np.ndarray, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m = np.count_nonzero(w, axis=1)[:, None] + 2
    return w @ s, w @ ts + m * EPS * (w @ (s + ts)) + 1e-12 * s.sum(axis=0)[None, :]


def ulp32(v) -> np.ndarray:
    return np.spacing(np.abs(np.asarray(v, np.float64)).astype(F32)).astype(np.float64)


def log_tol(b: np.ndarray, tb: np.ndarray, floor: float) -> tuple[np.ndarray, np.ndarray]:
    y = ref.log_floor(b, floor)
    lo = np.log((np.maximum(b - tb, 0.0) + floor) * (1 - 3 * EPS))
    hi = np.log((b + tb + floor) * (1 + 3 * EPS))
    return y, np.maximum(hi - y, y - lo) + LOGF_ULPS * ulp32(np.maximum(np.abs(lo), np.abs(hi)))


def dct_tol(d: np.ndarray, lm: np.ndarray, tl: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ad = np.abs(d)
    return d @ lm, ad @ tl + (d.shape[1] + 2) * EPS * (ad @ (np.abs(lm) + tl))


# --- signals -----------------------------------------------------------------------------------

def signals(n: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Seeded and adversarial signals of n samples (one channel each)."""
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    k0 = max(1, n // 8)
    impulse = np.zeros(n)
    impulse[0] = 1000.0
    impulse_mid = np.zeros(n)
    impulse_mid[n // 2] = -3.5
    return {
        "noise": rng.uniform(-1000.0, 1000.0, n),
        "small_noise": rng.normal(0.0, 1e-3, n),
        "tone_on_bin": 100.0 * np.cos(2 * np.pi * k0 * i / n + 0.3),
        "tone_between_bins": 250.0 * np.sin(2 * np.pi * (k0 + 0.5) * i / n),
        "tone_off_bin": 10.0 * np.cos(2 * np.pi * (n / 4 - 0.37) * i / n),
        "nyquist": 5.0 * (-1.0) ** i,
        "dc": np.full(n, 7.25),
        "full_scale": np.where(rng.random(n) < 0.5, float(I32_MAX), float(I32_MIN)),
        "full_scale_tone": 2.0e9 * np.cos(2 * np.pi * 3 * i / n),
        "silence": np.zeros(n),
        "impulse": impulse,
        "impulse_mid": impulse_mid,
        "lsb": rng.choice([-1e-6, 0.0, 1e-6], n),
    }


def stack(sig: dict[str, np.ndarray], names=None) -> tuple[list[str], np.ndarray]:
    names = list(names or sig)
    assert len(names) <= _runtime.MAX_CHANNELS
    return names, np.stack([sig[k] for k in names], axis=1)


# --- the oracle itself -------------------------------------------------------------------------

def test_oracle_checks_itself():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 2))
    for kind in ("hann", "hamming", "none"):
        assert np.allclose(ref.dft(x, kind), ref.naive_dft(x, kind), atol=1e-12)
    # periodic windows: w[0] is the minimum, symmetric about n / 2
    w = ref.window("hann", 8)
    assert w[0] == 0.0 and w[4] == 1.0 and np.allclose(w[1:], w[1:][::-1])
    d = ref.dct_ortho(12, 12)
    assert np.allclose(d @ d.T, np.eye(12), atol=1e-13)
    try:
        from scipy.fft import dct
    except ImportError:
        pass
    else:
        v = rng.normal(size=12)
        assert np.allclose(d @ v, dct(v, type=2, norm="ortho"), atol=1e-12)
    freqs = ref.bin_freqs(64, 16000.0)
    mw = ref.mel_weights(10, freqs, 0.0, 8000.0)
    assert mw.max() <= 1.0 and np.all(mw >= 0)
    assert np.allclose(ref.mel_to_hz(ref.hz_to_mel([0.0, 700.0, 4000.0])), [0.0, 700.0, 4000.0])
    assert math.isclose(float(ref.hz_to_mel(700.0)), 2595.0 * math.log10(2.0))
    bw = ref.band_weights([0.0, 250.0, 500.0, 8000.0], freqs)
    assert bw.sum() == len(freqs)  # every bin in exactly one band; bin at 250 Hz in the second
    assert bw[1, 1] == 1.0 and bw[0, 1] == 0.0 and bw[2, -1] == 1.0


def test_sensor_value_conversion_is_the_runtimes():
    sv, xs = sensor_values(signals(64)["noise"][:, None] * 1e3)
    full = np.array([[[I32_MAX, 999_999]], [[I32_MIN, -999_999]], [[0, 1]], [[0, -1]], [[0, 0]]], np.int32)
    for v in (sv, full):
        got = [_runtime.sensor_value_to_float(int(a), int(b)) for a, b in v.reshape(-1, 2)]
        assert np.array_equal(np.array(got, np.float64), samples_of(v).ravel())


# --- fft ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [4, 8, 64, 256, 4096])
@pytest.mark.parametrize("kind", ["hann", "hamming", "none"])
@pytest.mark.parametrize("output", ["power", "magnitude"])
def test_fft_matches_oracle(n, kind, output):
    rate = 1000.0
    sig = signals(n, seed=n)
    names = [k for k in sig if n >= 8 or k not in ("tone_off_bin",)]
    names, x = stack(sig, names)
    chain = [("fft", {"window": kind, "output": output, **({"length": n} if n != 64 else {})})]
    got, xs = features(chain, x, rate)
    want, tol = spectrum_tol(xs, kind, output)
    assert got.shape == (n // 2 + 1, len(names))
    for c, name in enumerate(names):
        assert_within(got[:, c], want[:, c], tol[:, c], f"fft n={n} {kind} {output} on {name}")
    # silence is exactly zero in every bin; the power of a bin is non-negative
    assert np.all(got[:, names.index("silence")] == 0.0)
    assert np.all(got >= 0.0)


def test_fft_tone_lands_in_its_bins():
    """A tone on bin k with a Hann window gives energy in bins k - 1, k, k + 1 only (to the error
    bound), at 1/4, 1/2 (amplitude x n / 2 scaled), 1/4 in magnitude."""
    n, k = 256, 20
    x = 100.0 * np.cos(2 * np.pi * k * np.arange(n) / n)
    got, xs = features([("fft", {"output": "magnitude"})], x, 256.0)
    e = fft_bound(xs, "hann")[0]
    assert abs(got[k, 0] - 100.0 * n / 4) <= e + 3 * EPS * 100.0 * n
    assert abs(got[k - 1, 0] - 100.0 * n / 8) <= e + 3 * EPS * 100.0 * n
    others = np.delete(got[:, 0], [k - 1, k, k + 1])
    assert np.all(others <= e)


def test_fft_sliding_windows_and_channels_independent():
    """Several overlapping windows (stride n / 4: the ring's oldest-first order) and channels
    that do not leak into each other."""
    n, rate = 64, 800.0
    sig = signals(3 * n, seed=11)
    names, x = stack(sig, ["noise", "silence", "tone_between_bins", "full_scale", "impulse_mid"])
    sv, xs = sensor_values(x)
    pipe, shape = build([("fft", {})], n, len(names), rate, stride=n // 4)
    outs = run_windows(pipe, sv, shape)
    ends = list(range(n - 1, 3 * n, n // 4))
    assert len(outs) == len(ends)
    for end, got in zip(ends, outs):
        want, tol = spectrum_tol(xs[end - n + 1:end + 1], "hann", "power")
        assert_within(got, want, tol, f"window ending at {end}")
        assert np.all(got[:, 1] == 0.0)


# --- spectral_bands ----------------------------------------------------------------------------

BAND_CASES = [
    # edges exactly on bin centres (bin_hz = 15.625): the bin at an edge joins the upper band,
    # the last band includes the Nyquist bin.
    ("edges_on_bins", 1000.0, 64, {"edges_hz": [0.0, 31.25, 78.125, 203.125, 500.0]}, "power"),
    ("edges_between_bins", 1000.0, 64, {"edges_hz": [10.0, 50.0, 100.0, 200.0, 400.0]}, "power"),
    ("linear_log", 16000.0, 256, {"bands": 8, "log": True}, "power"),
    ("log_spacing", 16000.0, 512, {"bands": 6, "spacing": "log", "low_hz": 100.0, "log": True,
                                   "floor": 1e-3}, "magnitude"),
    ("range_part", 400.0, 128, {"bands": 5, "low_hz": 20.0, "high_hz": 180.0, "log": True, "floor": 0.5},
     "power"),
]


@pytest.mark.parametrize("name,rate,n,params,output", BAND_CASES, ids=[c[0] for c in BAND_CASES])
def test_spectral_bands_match_oracle(name, rate, n, params, output):
    names, x = stack(signals(n, seed=n + 1))
    chain = [("fft", {"output": output}), ("spectral_bands", params)]
    got, xs = features(chain, x, rate)
    s, ts = spectrum_tol(xs, "hann", output)
    edges = ref.band_edges(rate / 2, params.get("edges_hz"), params.get("bands"), params.get("low_hz", 0.0),
                           params.get("high_hz"), params.get("spacing", "linear"))
    w = ref.band_weights(edges, ref.bin_freqs(n, rate))
    b, tb = bank_tol(w, s, ts)
    if params.get("log"):
        floor = params.get("floor", 1e-6)
        want, tol = log_tol(b, tb, floor)
        # silence: ln(floor) in every band, bit-identical across bands
        sil = got[:, names.index("silence")]
        assert np.all(sil == sil[0]) and abs(sil[0] - math.log(floor)) <= 3 * EPS + LOGF_ULPS * ulp32(math.log(floor))
    else:
        want, tol = b, tb
        assert np.all(got[:, names.index("silence")] == 0.0)
    for c, nm in enumerate(names):
        assert_within(got[:, c], want[:, c], tol[:, c], f"spectral_bands {name} on {nm}")


def test_band_edge_membership_is_exact():
    """A pure tone with no window sits in exactly one bin; moving the tone across an edge moves its
    energy across bands: [lo, hi) below the last band, [lo, hi] in it."""
    n, rate = 64, 1000.0  # bin_hz = 15.625
    edges = [0.0, 31.25, 78.125, 500.0]
    i = np.arange(n)
    for k, band in [(1, 0), (2, 1), (4, 1), (5, 2), (31, 2), (32, 2)]:
        x = 8.0 * np.cos(2 * np.pi * k * i / n)
        got, xs = features([("fft", {"window": "none"}), ("spectral_bands", {"edges_hz": edges})], x, rate)
        total = float(np.sum(ref.spectrum(xs, "none")))
        assert got[band, 0] >= total * (1 - 1e-4), (k, got[:, 0])
        assert np.all(np.delete(got[:, 0], band) <= total * 1e-4), (k, got[:, 0])


# --- log_mel and mfcc --------------------------------------------------------------------------

MEL_CASES = [
    ("speech", 16000.0, 512, {"bands": 40, "low_hz": 20.0}, "hann", "power"),
    ("low_rate", 1000.0, 256, {"bands": 20, "low_hz": 0.0, "high_hz": 400.0, "floor": 1e-3}, "hamming", "power"),
    ("magnitude", 8000.0, 128, {"bands": 12, "low_hz": 100.0, "high_hz": 3500.0}, "none", "magnitude"),
]


def _mel_oracle(xs, rate, n, p, kind, output):
    s, ts = spectrum_tol(xs, kind, output)
    w = ref.mel_weights(p["bands"], ref.bin_freqs(n, rate), p.get("low_hz", 20.0), p.get("high_hz", rate / 2))
    b, tb = bank_tol(w, s, ts)
    return log_tol(b, tb, p.get("floor", 1e-6))


@pytest.mark.parametrize("name,rate,n,params,kind,output", MEL_CASES, ids=[c[0] for c in MEL_CASES])
def test_log_mel_matches_oracle(name, rate, n, params, kind, output):
    names, x = stack(signals(n, seed=n + 2))
    chain = [("fft", {"window": kind, "output": output}), ("log_mel", params)]
    got, xs = features(chain, x, rate)
    want, tol = _mel_oracle(xs, rate, n, params, kind, output)
    for c, nm in enumerate(names):
        assert_within(got[:, c], want[:, c], tol[:, c], f"log_mel {name} on {nm}")
    floor = params.get("floor", 1e-6)
    sil = got[:, names.index("silence")]
    # log of 0 is ln(floor): every band of a silent channel, to the float32 floor and the log's ulps
    assert np.all(sil == sil[0]) and abs(sil[0] - math.log(floor)) <= 3 * EPS + LOGF_ULPS * ulp32(math.log(floor))


@pytest.mark.parametrize("coefficients,bands", [(13, 40), (20, 20), (1, 8)])
def test_mfcc_matches_oracle(coefficients, bands):
    rate, n = 16000.0, 512
    params = {"coefficients": coefficients, "bands": bands, "low_hz": 60.0, "high_hz": 7600.0}
    names, x = stack(signals(n, seed=bands))
    got, xs = features([("fft", {}), ("mfcc", params)], x, rate)
    lm, tl = _mel_oracle(xs, rate, n, params, "hann", "power")
    want, tol = dct_tol(ref.dct_ortho(coefficients, bands), lm, tl)
    assert got.shape == (coefficients, len(names))
    for c, nm in enumerate(names):
        assert_within(got[:, c], want[:, c], tol[:, c], f"mfcc {coefficients}/{bands} on {nm}")
    # silence: c0 = sqrt(bands) ln(floor), the rest 0 (to the bound)
    sil = got[:, names.index("silence")]
    assert abs(sil[0] - math.sqrt(bands) * math.log(1e-6)) <= tol[0, names.index("silence")]


def test_spectral_chain_is_deterministic():
    """The same samples give the same bits: twice through one pipeline (the second window equals
    the first), and through a second pipeline built from the same description."""
    n, rate = 256, 8000.0
    names, x = stack(signals(n, seed=5))
    sv, _ = sensor_values(x)
    twice = np.concatenate([sv, sv])
    chain = [("scale", {"factor": [0.5] * len(names), "offset": [0.25] * len(names)}), ("fft", {}),
             ("mfcc", {"coefficients": 13, "bands": 26})]
    runs = []
    for _ in range(2):
        pipe, shape = build(chain, n, len(names), rate)
        runs.append([w.astype(F32).tobytes() for w in run_windows(pipe, twice, shape)])
    assert len(runs[0]) == 2 and runs[0][0] == runs[0][1] == runs[1][0] == runs[1][1]


# --- time-domain steps -------------------------------------------------------------------------

def _time_signals(n: int) -> tuple[list[str], np.ndarray]:
    sig = signals(n, seed=3 * n)
    rng = np.random.default_rng(n)
    sig["zeros_and_signs"] = rng.choice([-2.0, -1e-6, 0.0, 0.0, 1e-6, 3.0], n)
    sig["increasing"] = np.arange(n) * 0.5 - n / 4
    return stack(sig, [k for k in sig if k not in ("tone_off_bin", "small_noise")])


REDUCTIONS = {"rms": ref.rms, "mean": ref.mean, "std": ref.std, "peak": ref.peak, "min": ref.minimum,
              "max": ref.maximum, "zcr": ref.zcr}


@pytest.mark.parametrize("kind", list(REDUCTIONS))
@pytest.mark.parametrize("frames", [1, 4])
def test_reductions_match_oracle(kind, frames):
    n = 48
    names, x = _time_signals(n)
    got, xs = features([(kind, {"frames": frames})], x, 100.0)
    want = REDUCTIONS[kind](xs, frames)
    m = n // frames
    fr = xs.reshape(frames, m, -1)
    if kind in ("peak", "min", "max"):
        assert np.array_equal(got, want)  # a selection: exact
        return
    if kind == "zcr":
        # an integer count, one correctly rounded division (float64 then float32 rounds the same)
        assert np.array_equal(got, want.astype(F32).astype(np.float64))
        return
    absmean = np.mean(np.abs(fr), axis=1)
    if kind == "mean":
        tol = (m + 1) * EPS * absmean
    elif kind == "rms":
        tol = (m + 3) * EPS * want
    else:  # std: two passes; the mean's error dm shifts every deviation (Minkowski)
        dm = (m + 1) * EPS * absmean
        tol = dm * (1 + EPS) + (m + 4) * EPS * (want + dm)
    for c, nm in enumerate(names):
        assert_within(got[:, c], want[:, c], tol[:, c], f"{kind} frames={frames} on {nm}")


def test_zcr_counts_zero_as_positive():
    x = np.array([0.0, 1.0, -1.0, 0.0, 0.0, -2.0, -3.0, 2.0, 0.0])
    got, _ = features([("zcr", {})], x, 10.0)
    # crossings: 1->-1, -1->0, 0->-2, -3->2  => 4 of 8 pairs
    assert got[0, 0] == 0.5 == ref.zcr(x)[0, 0]


def test_affine_steps_match_oracle():
    n = 32
    names, x = _time_signals(n)
    ch = len(names)
    rng = np.random.default_rng(1)
    mean, sd = rng.uniform(-5, 5, ch), rng.uniform(0.1, 10, ch)
    factor, offset = rng.uniform(-3, 3, ch), rng.uniform(-100, 100, ch)
    got, xs = features([("normalize", {"mean": list(mean), "std": list(sd)})], x, 50.0)
    assert_within(got, ref.normalize(xs, mean, sd), 4 * EPS * (np.abs(xs) + np.abs(mean)) / sd, "normalize")
    got, xs = features([("scale", {"factor": list(factor), "offset": list(offset)})], x, 50.0)
    assert_within(got, ref.scale(xs, factor, offset), 4 * EPS * (np.abs(xs * factor) + np.abs(offset)), "scale")
    lo, hi = [-20.5] * ch, [20.25] * ch  # float32-exact bounds: clipping is exact
    got, xs = features([("clip", {"min": lo, "max": hi})], x, 50.0)
    assert np.array_equal(got, ref.clip(xs, lo, hi))


def test_magnitude_decimate_diff_match_oracle():
    n = 60
    names, x = _time_signals(n)
    ch = len(names)
    got, xs = features([("magnitude", {})], x[:, :6], 50.0)
    want = ref.magnitude(xs)
    assert_within(got, want, (6 + 2) * EPS * want, "magnitude")
    for factor in (1, 4, 7):  # 7: the last incomplete group of 60 is dropped
        got, xs = features([("decimate", {"factor": factor})], x, 50.0)
        want = ref.decimate(xs, factor)
        keep = n // factor * factor
        absmean = np.abs(xs[:keep]).reshape(n // factor, factor, ch).mean(axis=1)
        assert_within(got, want, (factor + 1) * EPS * absmean, f"decimate {factor}")
    got, xs = features([("diff", {})], x, 50.0)
    # one subtraction of two float32s, correctly rounded: float64 then float32 gives the same bits
    assert np.array_equal(got, ref.diff(xs).astype(F32).astype(np.float64))


def test_time_then_spectral_chain():
    """magnitude -> decimate -> diff -> fft -> spectral_bands: the time steps' float32 output is
    the spectrum's input. The time steps are exact to a few EPS, so the bound adds their error
    (propagated through the linear FFT as a perturbation of norm <= that) to the FFT bound."""
    n, rate = 4 * 65, 400.0
    rng = np.random.default_rng(9)
    x = rng.normal(0.0, 3.0, (n, 3)) + [0.0, 0.0, 9.81]
    got, xs = features([("magnitude", {}), ("decimate", {"factor": 4}), ("diff", {}), ("fft", {}),
                        ("spectral_bands", {"bands": 4, "log": True})], x, rate)
    t = ref.diff(ref.decimate(ref.magnitude(xs), 4))
    m = ref.magnitude(xs)
    t_err = 2 * ((3 + 2) * EPS * m.max() + 5 * EPS * m.max()) + EPS * np.abs(t).max()  # per sample
    s, ts = spectrum_tol(t, "hann", "power")
    a = np.sqrt(s)
    extra = 64 * t_err  # |perturbation of a bin| <= sum_i w_i |dx_i| <= n max|dx|
    ts = ts + 2 * a * extra + extra ** 2
    b, tb = bank_tol(ref.band_weights(ref.band_edges(100.0 / 2, bands=4), ref.bin_freqs(64, 100.0)), s, ts)
    want, tol = log_tol(b, tb, 1e-6)
    assert_within(got, want, tol, "time -> spectral chain")


# --- zgen_logf ---------------------------------------------------------------------------------

LOOP_C = """#include <stdint.h>
float zgen_logf(float x);
void zgen_logf_many(const float *x, float *y, uint32_t n)
{
\tfor (uint32_t i = 0; i < n; i++) {
\t\ty[i] = zgen_logf(x[i]);
\t}
}
"""


@pytest.fixture(scope="module")
def logf(tmp_path_factory):
    d = tmp_path_factory.mktemp("logf")
    (d / "logf_many.c").write_text(LOOP_C)
    lib = c_harness.build(["app_template/lib/zgen/src/zgen_spectral.c", d / "logf_many.c"], d)
    fn = lib.zgen_logf_many
    fn.restype = None
    fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32]

    def call(x):
        x = np.ascontiguousarray(x, F32)
        y = np.empty_like(x)
        fn(x.ctypes.data, y.ctypes.data, len(x))
        return y

    return call


def _logf_inputs() -> np.ndarray:
    rng = np.random.default_rng(2024)
    parts = [
        # every binade, normal and subnormal: 1024 random mantissas each
        (rng.integers(0, 1 << 23, (277, 1024)).astype(np.uint32)
         | (np.clip(np.arange(-149, 128) + 127, 0, 254)[:, None].astype(np.uint32) << np.uint32(23))).view(F32).ravel(),
        # every subnormal bit pattern's leading-bit position, and its neighbours
        (np.uint32(1) << np.arange(23, dtype=np.uint32)).view(F32),
        ((np.uint32(1) << np.arange(23, dtype=np.uint32)) - np.uint32(1))[1:].view(F32),
        # exact powers of two and their neighbours
        np.ldexp(F32(1), np.arange(-149, 128)).astype(F32),
        np.nextafter(np.ldexp(F32(1), np.arange(-125, 128)).astype(F32), F32(0)),
        np.nextafter(np.ldexp(F32(1), np.arange(-126, 127)).astype(F32), F32(np.inf)),
        # 1e-38 .. 1e38 log-uniformly
        np.power(10.0, rng.uniform(-38, 38.5, 100_000)).astype(F32),
        # around 1 (ln x ~ x - 1: relative accuracy of tiny results), every float within 2^16 ulps
        (np.float32(1.0).view(np.uint32) + np.arange(-(1 << 16), 1 << 16, dtype=np.int64)).astype(np.uint32).view(F32),
        # around the mantissa switch at sqrt(2) (m > 1.41421356f is halved)
        (np.float32(1.41421356).view(np.uint32) + np.arange(-64, 65, dtype=np.int64)).astype(np.uint32).view(F32),
        np.array([np.finfo(F32).max, np.finfo(F32).tiny, np.finfo(F32).smallest_subnormal, 1e-6, 1e-3, 0.5, 2.0,
                  10.0, np.e], F32),
    ]
    x = np.concatenate(parts).astype(F32)
    return x[(x > 0) & np.isfinite(x)]


def test_zgen_logf_accuracy(logf):
    x = _logf_inputs()
    assert len(x) > 300_000
    y = logf(x).astype(np.float64)
    want = np.log(x.astype(np.float64))
    err_ulps = np.abs(y - want) / ulp32(want)
    worst = int(np.argmax(err_ulps))
    assert err_ulps[worst] <= LOGF_ULPS, f"zgen_logf({x[worst]!r}) = {y[worst]!r}, ln = {want[worst]!r}: " \
                                         f"{err_ulps[worst]:.2f} ulps"
    # exact results where the logarithm is exact
    assert logf(np.array([1.0], F32))[0] == 0.0
    # determinism: the same inputs, the same bits
    assert logf(x).tobytes() == logf(x).tobytes()


def test_zgen_logf_special_values(logf):
    """Documented clamps: ln(0), negatives and NaN give ln(FLT_MIN) (finite, so a model never
    sees -inf or NaN), +inf gives ln(FLT_MAX)."""
    y = logf(np.array([0.0, -0.0, -1.0, np.nan, np.inf], F32)).astype(np.float64)
    assert np.all(np.isfinite(y))
    assert abs(y[0] - math.log(np.finfo(F32).tiny)) <= ulp32(y[0]) and np.all(y[:4] == y[0])
    assert abs(y[4] - math.log(float(np.finfo(F32).max))) <= ulp32(y[4])


def test_zgen_logf_in_the_runtime_is_the_direct_one(logf):
    """The host extension's log (through a raw log filter bank: an identity bank with floor 0 after
    an exact power-of-two scale) gives the same bits as the directly compiled zgen_logf, from
    subnormals to 1e38."""
    n = 64
    rng = np.random.default_rng(4)
    sv = np.stack([rng.integers(0, 2000, n), rng.integers(0, 999_999, n)], axis=-1).astype(np.int32)[:, None, :]
    sv[0, 0] = (0, 1)  # 1e-6
    sv[1, 0] = (0, 0)  # 0: the clamp
    xs = samples_of(sv)[:, 0].astype(F32)
    ident = (np.arange(n + 1, dtype=np.uint16), np.arange(n, dtype=np.uint16), np.ones(n, F32), np.zeros(1, F32))
    for k in (-149, -140, -126, -100, -60, -20, 0, 20, 60, 100, 105):
        factor = F32(np.ldexp(1.0, k))
        records = [SimpleNamespace(kind=KIND["scale"], args=(), tables=(np.array([factor], F32), np.zeros(1, F32)),
                                   state_words=0, scratch=0),
                   SimpleNamespace(kind=KIND["filterbank"], args=(n, 1, n), tables=ident, state_words=0,
                                   scratch=2 * n)]
        shape = Shape(n, 1, 100.0)
        pipe = _runtime.Pipeline(config(records, shape, shape))
        (got,) = run_windows(pipe, sv, shape)
        arg = (xs * factor + F32(0)) + F32(0)  # scale (x * f + 0), then the bank's sum and floor
        assert got[:, 0].astype(F32).tobytes() == logf(arg).tobytes(), k
        pos = arg > 0
        want = np.log(arg[pos].astype(np.float64))
        assert np.all(np.abs(got[pos, 0] - want) <= LOGF_ULPS * ulp32(want)), k


# --- the errors users get ----------------------------------------------------------------------

def _error(chain, shape) -> tuple[int, StepError]:
    records, _, problems = lower_chain(chain, shape)
    assert len(problems) == 1, problems
    i, e = problems[0]
    assert isinstance(e, StepError) and e.message and e.fix
    return i, e


def test_fft_length_not_a_power_of_two():
    i, e = _error([("fft", {"length": 100})], Shape(100, 1, 100.0))
    assert i == 0 and e.key == "length" and "power of two" in e.message
    assert "64" in e.fix and "128" in e.fix
    # the window's length as the default, named as the window's
    i, e = _error([("normalize", {"mean": [0], "std": [1]}), ("fft", {})], Shape(96, 1, 100.0))
    assert i == 1 and e.key is None and "96" in e.message and "64" in e.fix and "128" in e.fix
    i, e = _error([("fft", {"length": 2})], Shape(2, 1, 100.0))
    assert e.fix.startswith("use 4 (")  # one suggestion, not "4 or 4"
    i, e = _error([("fft", {"length": 64})], Shape(128, 1, 100.0))
    assert "128" in e.message and "64 samples" in e.fix


def test_bands_beyond_nyquist():
    shape = Shape(64, 1, 1000.0)  # Nyquist 500 Hz
    i, e = _error([("fft", {}), ("spectral_bands", {"edges_hz": [0, 100, 600]})], shape)
    assert i == 1 and e.key == "edges_hz" and "500" in e.message and "0..500 Hz" in e.fix
    i, e = _error([("fft", {}), ("spectral_bands", {"bands": 4, "high_hz": 800})], shape)
    assert e.key == "high_hz" and "500" in e.fix
    i, e = _error([("fft", {}), ("log_mel", {"bands": 8, "high_hz": 501})], shape)
    assert e.key == "high_hz" and "half the sampling rate" in e.fix
    i, e = _error([("fft", {}), ("spectral_bands", {"edges_hz": [100, 50, 200]})], shape)
    assert "rise" in e.message
    i, e = _error([("fft", {}), ("spectral_bands", {"bands": 3, "spacing": "log"})], shape)
    assert e.key == "low_hz"


def test_band_without_a_bin():
    i, e = _error([("fft", {}), ("log_mel", {"bands": 40, "low_hz": 0})], Shape(16, 1, 1000.0))
    assert "holds no FFT bin" in e.message and "longer fft" in e.fix
    i, e = _error([("fft", {}), ("spectral_bands", {"edges_hz": [10, 12, 400]})], Shape(64, 1, 1000.0))
    assert "band 1" in e.message


def test_spectral_bands_without_bands():
    """Neither edges_hz nor bands (the schema allows `spectral_bands: {}`): a StepError, not a KeyError."""
    i, e = _error([("fft", {}), ("spectral_bands", {})], Shape(64, 1, 1000.0))
    assert i == 1 and "edges_hz" in e.fix and "bands" in e.fix


def test_combined_bins_are_no_spectrum():
    """A reduction over frames of bins or a diff across bins gives rows that are no longer bins at
    k * bin_hz: a spectral step after them is refused, not computed with the wrong frequencies."""
    for step, params in [("mean", {"frames": 3}), ("max", {"frames": 11}), ("diff", {})]:
        i, e = _error([("fft", {}), (step, params), ("log_mel", {"bands": 4, "low_hz": 0})], Shape(64, 1, 1000.0))
        assert i == 2 and "needs a spectrum" in e.message, step
    # over time, and over a whole spectrum into one value, the chain goes on as before
    _, shape, problems = lower_chain([("fft", {}), ("rms", {})], Shape(64, 1, 1000.0))
    assert not problems and shape.rows == 1
    _, shape, problems = lower_chain([("mean", {"frames": 4}), ("fft", {})], Shape(64, 1, 1000.0))
    assert not problems and shape.domain == "spectrum" and shape.rows == 3


def test_more_mfcc_coefficients_than_bands():
    i, e = _error([("fft", {}), ("mfcc", {"coefficients": 21, "bands": 20})], Shape(512, 1, 16000.0))
    assert i == 1 and e.key == "coefficients" and "at most 20" in e.fix


@pytest.mark.parametrize("step,params", [("spectral_bands", {"bands": 4}), ("log_mel", {"bands": 8}),
                                         ("mfcc", {"bands": 8, "coefficients": 4})])
def test_spectral_step_before_fft(step, params):
    i, e = _error([("rms", {"frames": 1}), (step, params)], Shape(64, 1, 1000.0))
    assert i == 1 and "needs a spectrum" in e.message and "fft" in e.fix
    i, e = _error([(step, params)], Shape(64, 1, 1000.0))
    assert i == 0 and "time" in e.message


def test_time_step_after_fft():
    for step, params in [("fft", {}), ("zcr", {}), ("decimate", {"factor": 2})]:
        i, e = _error([("fft", {}), (step, params)], Shape(64, 1, 1000.0))
        assert i == 1 and "spectrum" in e.message and e.fix, step


def test_normalize_per_band_after_spectral_bands():
    """normalize with one mean and std per band and channel (rows first) scales each band on its
    own: bit for bit the float32 (x - mean) / std of the unnormalised bands."""
    rng = np.random.default_rng(11)
    x = rng.normal(0, 2.0, size=(64, 2))
    bands = [("fft", {}), ("spectral_bands", {"bands": 4, "log": True})]
    raw, _ = features(bands, x, 100.0)  # [4][2]
    mean = rng.normal(0, 3, size=8)
    std = rng.uniform(0.5, 2, size=8)
    got, _ = features(bands + [("normalize", {"mean": list(mean), "std": list(std)})], x, 100.0)
    want = (raw.astype(np.float32) - mean.astype(np.float32).reshape(4, 2)) / std.astype(np.float32).reshape(4, 2)
    assert np.array_equal(got.astype(np.float32).view(np.uint32), want.astype(np.float32).view(np.uint32))
    # Neither per channel nor per band: the error says both ways.
    i, e = _error(bands + [("normalize", {"mean": [0] * 3, "std": [1] * 3})], Shape(64, 2, 100.0))
    assert i == 2 and "per row and channel (8" in e.fix
