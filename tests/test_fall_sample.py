"""samples/fall: fall detection from a waist-worn LIS2DW12 (50 Hz, 16 g), a small int8 1-D CNN over
the acceleration's magnitude (2 s windows every 0.5 s), made by `zgen train` from the seeded
generator's clips (python make_data.py --train; not committed). No training here: the committed
model is used.

The ground truth is the generator's (samples/fall/make_data.py: data/falls.json, checked here to be
what it writes), never zgen's own output. On the test recording every fall must give exactly one
`event=fall` within LATE_S of its start, with at most one false alarm among the look-alikes
(sitting down hard, jumps, running, the device dropped, lying down slowly); the same on recordings
of other seeds that neither training nor the committed test data used. The recording's falls and
look-alikes are checked against the generator's stated physical model with NumPy alone.
(tests/test_samples.py's per-sample checks take conftest's SAMPLES; this sample's are here.)"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO
from zgen.cli import main
from zgen.data import load_csv
from zgen.manifest import load_manifest
from zgen.simulate import run

SAMPLE = REPO / "samples" / "fall"
FALL = SAMPLE / "fall.yaml"
TRUTH = SAMPLE / "data" / "falls.json"
LATE_S = 3.0  # a fall is reported within 3 s of its descent's start (a 2 s window, 2 decisions averaged)
G = 9.80665


def _generator():
    spec = importlib.util.spec_from_file_location("fall_make_data", SAMPLE / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up while it is defined
    spec.loader.exec_module(module)
    return module


def _score(falls: list[dict], detections: list[int], rate: int) -> dict:
    """Each detection (t, the deciding window's sample) is matched, in time order, to the first fall
    not yet matched whose [start, start + LATE_S] holds it; a fall is matched once (a second
    detection of it is a false alarm)."""
    matched: dict[int, int] = {}
    false_alarms = []
    for t in detections:
        fall = next((i for i, f in enumerate(falls)
                     if i not in matched and f["start_sample"] <= t <= f["start_sample"] + LATE_S * rate), None)
        if fall is None:
            false_alarms.append(t)
        else:
            matched[fall] = t
    hits = len(matched)
    return {"falls": len(falls), "detections": len(detections), "hits": hits, "false_alarms": false_alarms,
            "missed": [f["start_s"] for i, f in enumerate(falls) if i not in matched],
            "latency_s": [(matched[i] - falls[i]["start_sample"]) / rate for i in sorted(matched)],
            "recall": hits / len(falls), "precision": hits / len(detections) if detections else 0.0}


def _report(name: str, s: dict, truth: dict) -> None:
    rate = truth["rate_hz"]
    near = []
    for t in s["false_alarms"]:  # what the person was doing
        kinds = [e["kind"] for e in truth["look_alikes"] if e["start_sample"] - rate <= t <= e["end_sample"] + 3 * rate]
        near.append(f"{t / rate:.2f} s ({', '.join(kinds) or 'walking/standing'})")
    lat = s["latency_s"]
    print(f"\n{name}: {s['hits']}/{s['falls']} falls found (recall {s['recall']:.2f}), "
          f"{s['hits']}/{s['detections']} fall events right (precision {s['precision']:.2f}); "
          f"latency from the descent's start {min(lat):.2f}-{max(lat):.2f} s (mean {np.mean(lat):.2f}); "
          f"false alarms: {near or 'none'}; missed: {s['missed'] or 'none'}")


@pytest.fixture(scope="module")
def manifest():
    return load_manifest(FALL)


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads(TRUTH.read_text())


@pytest.fixture(scope="module")
def simulation(manifest):
    return run(manifest)


def test_every_fall_is_reported_once_and_look_alikes_are_not(manifest, truth, simulation):
    rate = truth["rate_hz"]
    assert rate == int(manifest.rate_hz)
    data = np.loadtxt(SAMPLE / "data" / "test.csv", delimiter=",", skiprows=1)
    assert len(data) == truth["samples"]  # the recording the ground truth describes
    s = _score(truth["falls"], [w.t for w in simulation.windows if w.event == "fall"], rate)
    _report("test recording", s, truth)
    assert not s["missed"], s
    assert len(s["false_alarms"]) <= 1, s
    # Exactly one fall event per fall: no second event anywhere within the time the person lies.
    for f in truth["falls"]:
        during = [w.t for w in simulation.windows if w.event == "fall" and f["start_sample"] <= w.t <= f["end_sample"]]
        assert len(during) == 1, (f, during)
    # The state goes back to ok after each fall, and nothing but fall and ok is ever reported.
    events = [w.event for w in simulation.windows if w.event]
    assert set(events) <= {"fall", "ok"} and events == ["fall", "ok"] * (len(events) // 2), events


def test_outputs_follow_the_fall_events(simulation):
    """led0 lights while the state is fall, the alarm pin pulses 1 s per fall event, the callback
    sees every event."""
    lines = simulation.lines
    falls = [l for l in lines if l.endswith("event=fall")]
    assert sum("out=zgen-out-alarm pulse_ms=1000 level=1" in l for l in lines) == len(falls)
    assert sum(l.endswith("out=led0 level=1") for l in lines) == len(falls)
    assert sum("out=callback state=fall" in l for l in lines) == len(falls)
    assert sum("out=callback state=ok" in l for l in lines) == sum(l.endswith("event=ok") for l in lines)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_falls_found_on_recordings_training_never_saw(manifest, seed, tmp_path):
    """The test plan again with other seeds: every duration, peak, direction and posture drawn anew
    (training clips use seeds from 1,000,000 up, each clip its own)."""
    gen = _generator()
    data, truth = gen.test_recording(seed=seed)
    path = tmp_path / "test.csv"
    gen.write_csv(path, data)
    sim = run(manifest, load_csv(path, manifest.columns))
    s = _score(truth["falls"], [w.t for w in sim.windows if w.event == "fall"], truth["rate_hz"])
    _report(f"seed {seed}", s, truth)
    assert not s["missed"], s
    assert len(s["false_alarms"]) <= 1, s


def test_recording_is_what_the_generator_describes(truth):
    """NumPy only, on the CSV: each fall is a low-g descent, an impact of 2.5-6 g, then lying still
    with gravity on another axis; the look-alikes are what make_data.py's docstring says."""
    rate = truth["rate_hz"]
    data = np.loadtxt(SAMPLE / "data" / "test.csv", delimiter=",", skiprows=1) / G
    mag = np.linalg.norm(data, axis=1)
    assert np.abs(data).max() < 16  # inside the LIS2DW12's range (fall.yaml: range 16)
    assert np.allclose(data * G * 1000, np.round(data * G * 1000), atol=1e-6)  # rounded to 0.001 m/s^2
    assert 120 <= truth["seconds"] <= 180 and 6 <= len(truth["falls"]) <= 8
    kinds = [e["kind"] for e in truth["look_alikes"]]
    for kind in ("sit_hard", "jump", "run", "drop_device", "lie_down"):
        assert kinds.count(kind) >= 2, kind

    def before(s):  # the mean reading over the second before a sample
        return data[s - rate:s].mean(0)

    def angle(a, b):
        return np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1, 1)))

    starts = [f["start_s"] for f in truth["falls"]]
    assert min(np.diff(starts)) > 15  # farther apart than suppress's 10 s
    for f in truth["falls"]:
        s, i, still, end = f["start_sample"], f["impact_sample"], f["still_sample"], f["end_sample"]
        assert 0.4 <= (i - s) / rate <= 0.8 and 0.1 <= (still - i) / rate <= 0.2 and (end - still) / rate >= 4
        # The descent: the magnitude (a 0.1 s mean against the noise) drops to 0.2-0.6 g.
        low = np.convolve(mag[s:i], np.ones(5) / 5, "valid").min()
        assert 0.15 <= low <= 0.65, (f, low)
        assert 2.3 <= mag[i:still + 2].max() <= 6.3, f
        # Lying still: the last 3 s before getting up hold 1 g, with only the sensor's noise; gravity
        # has turned 70-110 deg (plus the standing trunk's sway and gait) from where it was.
        rest = data[end - 3 * rate:end]
        assert abs(np.linalg.norm(rest.mean(0)) - 1) < 0.02 and np.linalg.norm(rest.std(0)) < 0.05, f
        assert 60 <= angle(before(s), rest.mean(0)) <= 120, (f, angle(before(s), rest.mean(0)))
    for e in truth["look_alikes"]:
        if e["kind"] == "sit_hard":  # 1.5-2.5 g, then seated, trunk 20-40 deg back
            assert 1.3 <= mag[e["impact_sample"]:e["still_sample"] + 2].max() <= 2.7, e
            seated = data[e["end_sample"] - rate:e["end_sample"]].mean(0)
            assert 10 <= angle(before(e["start_sample"]), seated) <= 50, e
        elif e["kind"] == "jump":  # near 0 g in the air, 3-5 g landing, then moving, not still
            i = e["impact_sample"]
            assert mag[i - 10:i].min() < 0.2 and 2.8 <= mag[i:i + 8].max() <= 5.3, e
            assert mag[i + rate:i + 2 * rate].std() > 0.05, e
        elif e["kind"] == "drop_device":  # free fall, a sharp 6-10 g hit, still on the floor
            s, i = e["start_sample"], e["impact_sample"]
            assert 0.35 <= (i - s) / rate <= 0.5 and np.median(mag[s + 2:i]) < 0.1, e
            assert 5.8 <= mag[i:i + 6].max() <= 10.3, e
            assert mag[e["still_sample"]:e["pickup_sample"]].std() < 0.05, e
        elif e["kind"] == "run":  # 2.6-3 steps per second, peaks up to about 3 g
            seg = mag[e["start_sample"] + rate:e["end_sample"] - rate]
            spectrum = np.abs(np.fft.rfft(seg - seg.mean(), 8 * len(seg)))
            step_hz = np.fft.rfftfreq(8 * len(seg), 1 / rate)[spectrum.argmax()]
            assert 2.5 <= step_hz <= 3.1 and 1.8 <= seg.max() <= 3.3, (e, step_hz, seg.max())


def test_data_generator_is_reproducible(tmp_path):
    subprocess.run([sys.executable, str(SAMPLE / "make_data.py"), "--out", str(tmp_path)], check=True, timeout=60)
    assert (tmp_path / "test.csv").read_bytes() == (SAMPLE / "data" / "test.csv").read_bytes()
    assert (tmp_path / "falls.json").read_bytes() == TRUTH.read_bytes()


def test_model_is_small_and_its_report_is_committed(manifest):
    """magnitude (100 samples) into the int8 CNN; the training report beside it."""
    assert manifest.model.inputs[0].shape[-1] == 100
    assert manifest.model.path.stat().st_size < 8 * 1024
    report = json.loads((SAMPLE / "model" / "fall.report.json").read_text())
    assert report["labels"] == ["adl", "fall"] and report["int8_accuracy"] >= 0.97


def test_sample_fits_its_board_and_generates(tmp_path, capsys):
    assert main(["check", str(FALL)]) == 0
    assert main(["new", str(FALL), "-o", str(tmp_path / "app")]) == 0
    assert "warning" not in capsys.readouterr().err
    assert (tmp_path / "app" / "src").is_dir()
