"""The seeded data generators of the vibration and keyword samples keep their promises, checked
against their own ground truth with independent NumPy analysis (not the generators' code):

- vibration: the bearing fault is in the spectrum, not in the level: each fault episode's AC RMS
  is within a few % of the healthy machine's, while the power near BPFO and 2xBPFO is many times
  the healthy power; the fault frequencies follow from the bearing's geometry; deterministic;
- keyword: WAVs at 16 kHz, mono, 16-bit; each word's energy is inside its ground-truth interval
  and the background well outside it is far quieter; the training clips are 1 s, per class.
"""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
VIBRATION = REPO / "samples" / "vibration" / "make_data.py"
KEYWORD = REPO / "samples" / "keyword" / "make_data.py"


def _run(script: Path, out: Path, *args: str) -> None:
    subprocess.run([sys.executable, str(script), "--out", str(out), *args], check=True, timeout=120,
                   capture_output=True, text=True)


# --- vibration -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def vibration(tmp_path_factory):
    out = tmp_path_factory.mktemp("vibration")
    _run(VIBRATION, out, "--train", "--train-seconds", "20")
    with open(out / "test.csv") as f:
        header = next(csv.reader(f))
    data = np.loadtxt(out / "test.csv", delimiter=",", skiprows=1)
    return out, header, data, json.loads((out / "faults.json").read_text())


def _seconds(data: np.ndarray, truth: dict):
    """Whole seconds of the recording: [n, rate, 3], and which are all fault / all healthy."""
    rate = truth["rate_hz"]
    n = len(data) // rate
    fault = np.zeros(len(data), bool)
    for e in truth["faults"]:
        fault[e["start_sample"]:e["end_sample"]] = True
    per_second = fault[: n * rate].reshape(n, rate)
    return data[: n * rate].reshape(n, rate, -1), per_second.all(1), ~per_second.any(1)


def _ac_rms(x: np.ndarray) -> np.ndarray:
    return np.sqrt(np.mean((x - x.mean(axis=-2, keepdims=True)) ** 2, axis=-2))


def _band_power(x: np.ndarray, rate: int, centre: float, half_width: float = 2.0) -> float:
    """Power of x (one second, mean removed, Hann window) within centre +- half_width Hz."""
    x = x - x.mean()
    window = np.hanning(len(x))
    power = np.abs(np.fft.rfft(x * window)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / rate)
    return float(power[np.abs(f - centre) <= half_width].sum())


def test_vibration_files_and_ground_truth(vibration):
    out, header, data, truth = vibration
    assert header == ["accel_x", "accel_y", "accel_z"]
    assert truth["rate_hz"] == 800 and data.shape == (truth["samples"], 3)
    assert 60 <= len(data) / truth["rate_hz"] <= 90
    assert (out / "test.csv").stat().st_size < 3_000_000
    # Three decimals, as samples/anomaly's data.
    assert np.allclose(data * 1000, np.round(data * 1000), atol=1e-6)
    # Gravity on z.
    assert abs(data[:, 2].mean() - 9.80665) < 0.05 and np.all(np.abs(data[:, :2].mean(0)) < 0.2)
    # Episodes: sample indices agree with the seconds, 8-15 s long, healthy before, between and after.
    rate, faults = truth["rate_hz"], truth["faults"]
    assert 2 <= len(faults) <= 3
    for e in faults:
        assert e["start_sample"] == round(e["start_s"] * rate) and e["end_sample"] == round(e["end_s"] * rate)
        assert 8 <= e["end_s"] - e["start_s"] <= 15
    assert faults[0]["start_s"] >= 10 and faults[-1]["end_sample"] < len(data)
    assert all(a["end_s"] < b["start_s"] for a, b in zip(faults, faults[1:]))
    # The fault frequencies follow from the bearing's geometry and the shaft rate.
    b = truth["bearing"]
    ratio = b["ball_diameter_mm"] / b["pitch_diameter_mm"] * np.cos(np.deg2rad(b["contact_angle_deg"]))
    shaft = truth["machine"]["shaft_hz"]
    assert b["bpfo_hz"] == pytest.approx(b["balls"] / 2 * (1 - ratio) * shaft, rel=1e-3)
    assert b["bpfi_hz"] == pytest.approx(b["balls"] / 2 * (1 + ratio) * shaft, rel=1e-3)
    assert shaft == pytest.approx(1480 / 60, rel=1e-3)
    assert 2 * b["bpfo_hz"] < rate / 2 and truth["resonance"]["hz"] < rate / 2


def test_vibration_fault_is_in_the_spectrum_not_the_rms(vibration):
    _, _, data, truth = vibration
    rate = truth["rate_hz"]
    seconds, fault, healthy = _seconds(data, truth)
    rms = _ac_rms(seconds)                                    # [n, 3]
    healthy_rms = rms[healthy].mean(0)
    # The healthy level itself moves (load drift) more than the fault moves it.
    spread = rms[healthy].max(0) / rms[healthy].min(0) - 1
    assert np.all(spread > 0.05), spread
    for e in truth["faults"]:
        episode = data[e["start_sample"]:e["end_sample"]]
        ratio = _ac_rms(episode) / healthy_rms
        assert np.all(np.abs(ratio - 1) < 0.05), (e, ratio)
    # No fault second is louder or quieter than the healthy seconds range, to within 1 %.
    assert np.all(rms[fault] <= rms[healthy].max(0) * 1.01) and np.all(rms[fault] >= rms[healthy].min(0) * 0.99)
    # An RMS threshold cannot separate them: the loudest healthy second is louder than the average fault second.
    assert np.all(rms[healthy].max(0) > rms[fault].mean(0))

    bpfo = truth["bearing"]["bpfo_hz"]
    z = seconds[:, :, 2]

    def power(centre, which):
        return np.mean([_band_power(s, rate, centre) for s in z[which]])

    for centre in (bpfo, 2 * bpfo):
        assert power(centre, fault) > 10 * power(centre, healthy), centre
        for e in truth["faults"]:        # in every episode, not only on average
            s0, s1 = -(-e["start_sample"] // rate), e["end_sample"] // rate
            episode = np.zeros(len(z), bool)
            episode[s0:s1] = True
            assert power(centre, episode) > 5 * power(centre, healthy), (centre, e)
    # The machine's own running-speed line hardly changes.
    shaft = truth["machine"]["shaft_hz"]
    assert 0.7 < power(shaft, fault) / power(shaft, healthy) < 1.3


def test_vibration_train_is_healthy_and_runs_are_deterministic(vibration, tmp_path):
    out, _, data, truth = vibration
    train = np.loadtxt(out / "train.csv", delimiter=",", skiprows=1)
    rate = truth["rate_hz"]
    assert train.shape == (20 * rate, 3)
    assert not np.array_equal(train[: len(data)], data[: len(train)])
    bpfo = truth["bearing"]["bpfo_hz"]
    seconds, _, healthy = _seconds(data, truth)
    test_healthy = np.mean([_band_power(s[:, 2], rate, bpfo) for s in seconds[healthy]])
    train_power = np.mean([_band_power(s, rate, bpfo) for s in train[: len(train) // rate * rate, 2].reshape(-1, rate)])
    assert train_power < 3 * test_healthy
    _run(VIBRATION, tmp_path)
    assert (tmp_path / "test.csv").read_bytes() == (out / "test.csv").read_bytes()
    assert (tmp_path / "faults.json").read_bytes() == (out / "faults.json").read_bytes()


# --- keyword -------------------------------------------------------------------------------------

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed (apt-get install espeak-ng)")


@pytest.fixture(scope="module")
def keyword(tmp_path_factory):
    out = tmp_path_factory.mktemp("keyword")
    _run(KEYWORD, out, "--train", "--per-class", "4")
    return out, json.loads((out / "words.json").read_text())


def _read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getcomptype()) == (16000, 1, 2, "NONE")
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64) / 32768


def _frame_rms(x: np.ndarray, frame: int = 320):
    """RMS of 20 ms frames and the frames' centres (samples)."""
    k = len(x) // frame
    return np.sqrt(np.mean(x[: k * frame].reshape(k, frame) ** 2, axis=1)) + 1e-9, (np.arange(k) + 0.5) * frame


@needs_espeak
def test_keyword_test_wav_and_words(keyword):
    out, truth = keyword
    x = _read_wav(out / "test.wav")
    assert (out / "test.wav").stat().st_size < 1_500_000
    assert 30 <= len(x) / 16000 <= 40 and len(x) == truth["samples"]
    words = truth["words"]
    labels = [w["label"] for w in words]
    assert {"yes", "no", "unknown"} <= set(labels) and labels.count("yes") >= 3 and labels.count("no") >= 3
    assert all(w["word"] == w["label"] for w in words if w["label"] in ("yes", "no"))
    assert all(w["word"] not in ("yes", "no") for w in words if w["label"] == "unknown")
    for w in words:
        assert w["start_s"] == pytest.approx(w["start_sample"] / 16000, abs=1e-4)
        assert w["end_s"] == pytest.approx(w["end_sample"] / 16000, abs=1e-4)
        assert 0.15 <= (w["end_sample"] - w["start_sample"]) / 16000 <= 1.0
    gaps = [(b["start_sample"] - a["end_sample"]) / 16000 for a, b in zip(words, words[1:])]
    assert min(gaps) >= 1.5 - 1e-3 and max(gaps) <= 3.0 + 1e-3
    assert not np.any(np.abs(x) >= 32767 / 32768)          # nothing clipped


@needs_espeak
def test_keyword_energy_is_where_the_ground_truth_says(keyword):
    out, truth = keyword
    x = _read_wav(out / "test.wav")
    rms, centre = _frame_rms(x)
    words = truth["words"]
    near_any = np.zeros(len(rms), bool)
    for w in words:
        near_any |= (centre > w["start_sample"] - 4800) & (centre < w["end_sample"] + 4800)   # 0.3 s
    for w in words:
        inside = (centre >= w["start_sample"]) & (centre < w["end_sample"])
        mid = (w["start_sample"] + w["end_sample"]) / 2
        around = ~near_any & (np.abs(centre - mid) < 1.5 * 16000)     # background 0.3-1.5 s away
        assert around.sum() >= 20, w
        peak = rms[inside].max()
        # The word stands out: its loudest frame 10 dB over the loudest background frame nearby ...
        assert peak > 10 ** (10 / 20) * rms[around].max(), (w, 20 * np.log10(peak / rms[around].max()))
        # ... and it is where the ground truth puts it: 90 % of the energy within +-0.3 s of it
        # lies inside the interval.
        s0, s1 = w["start_sample"], w["end_sample"]
        inner = np.sum(x[s0:s1] ** 2)
        outer = np.sum(x[max(0, s0 - 4800):s1 + 4800] ** 2)
        assert inner > 0.9 * outer, (w, inner / outer)
    # Far from every word there is only background: well below the quietest word's peak.
    quietest = min(rms[(centre >= w["start_sample"]) & (centre < w["end_sample"])].max() for w in words)
    assert rms[~near_any].max() < 10 ** (-10 / 20) * quietest


@needs_espeak
def test_keyword_training_clips(keyword):
    out, truth = keyword
    root = out / "train"
    with open(root / "index.csv") as f:
        index = list(csv.DictReader(f))
    assert sorted({r["label"] for r in index}) == sorted(["silence", "unknown", "yes", "no"])
    for label in ("silence", "unknown", "yes", "no"):
        assert sorted(p.name for p in (root / label).glob("*.wav")) == [f"{i:04d}.wav" for i in range(4)]
    test_voices = {w["voice"] for w in truth["words"]}
    for row in index:
        x = _read_wav(root / row["file"])
        assert len(x) == 16000
        if row["label"] == "silence":
            assert row["word"] == "" and np.sqrt(np.mean(x ** 2)) < 0.05
            continue
        assert row["voice"] not in test_voices
        assert (row["word"] == row["label"]) == (row["label"] in ("yes", "no"))
        s0, s1 = int(row["start_sample"]), int(row["end_sample"])
        assert 0 <= s0 < s1 <= 16000
        # The word is inside its interval: most of the clip's energy (the noise is 5-30 dB below
        # the word) and the loudest 20 ms frames, well above every frame clear of it.
        energy = x ** 2
        assert energy[s0:s1].sum() > 0.6 * energy.sum(), row
        rms, centre = _frame_rms(x)
        inside = (centre >= s0) & (centre < s1)
        clear = (centre < s0 - 320) | (centre >= s1 + 320)
        if clear.any():
            assert rms[inside].max() > 2 * rms[clear].max(), row


@needs_espeak
def test_keyword_is_deterministic(keyword, tmp_path):
    out, _ = keyword
    _run(KEYWORD, tmp_path)
    assert (tmp_path / "test.wav").read_bytes() == (out / "test.wav").read_bytes()
    assert (tmp_path / "words.json").read_bytes() == (out / "words.json").read_bytes()
