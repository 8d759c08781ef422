"""The vibration sample: a pump's bearing outer-race fault that shows in the spectrum (BPFO
88.4 Hz and its harmonics, the housing's 290 Hz resonance) but not in the RMS.

The ground truth is the seeded generator's (samples/vibration/make_data.py: data/faults.json,
checked here to be what the generator writes), never zgen's own output. The spectral pipeline
(vibration.yaml) must report every fault episode within the pipeline's latency, return to normal
after each, and report nothing else, also on a healthy recording training never saw; the RMS-only
pipeline (vibration_rms.yaml: same sensor, windows, template and training data) must miss them.
The committed models are used (no training here)."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from conftest import REPO
from zgen.cli import main
from zgen.data import load_csv
from zgen.manifest import load_manifest
from zgen.simulate import run

SAMPLE = REPO / "samples" / "vibration"
VIBRATION = SAMPLE / "vibration.yaml"
VIBRATION_RMS = SAMPLE / "vibration_rms.yaml"


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((SAMPLE / "data/faults.json").read_text())


@pytest.fixture(scope="module")
def spectral():
    m = load_manifest(VIBRATION)
    return m, run(m)


@pytest.fixture(scope="module")
def rms_only():
    m = load_manifest(VIBRATION_RMS)
    return m, run(m)


def _latency(m) -> int:
    """Samples from a change until a decision can report it: a window's worth of it plus
    `debounce` strides (512 + 3 x 256 = 1280 samples, 1.6 s at 800 Hz)."""
    return m.window_length + m.decision.debounce * m.window_stride


def _episodes(truth: dict) -> list[tuple[int, int]]:
    """[start, end) sample ranges of the fault episodes."""
    return [(f["start_sample"], f["end_sample"]) for f in truth["faults"]]


def _state(w) -> str:
    return w.line.split(" state=", 1)[1].split()[0]


def _event(w) -> str:
    return w.line.rsplit("event=", 1)[1]


def _content(m, w, episodes) -> str | None:
    """What a window holds: 'fault' (wholly inside an episode), 'healthy' (no fault sample) or
    None (it straddles an episode's start or end)."""
    first, last = w.t - m.window_length + 1, w.t
    overlap = sum(max(0, min(last + 1, e) - max(first, s)) for s, e in episodes)
    return "fault" if overlap == m.window_length else "healthy" if overlap == 0 else None


def _truth_at(m, w, episodes) -> str | None:
    """The state a decision at w.t should report: 'fault' inside an episode, 'healthy' outside,
    None within the latency after an episode's start or end (the pipeline is still catching up)."""
    lat = _latency(m)
    for s, e in episodes:
        if s <= w.t < s + lat or e <= w.t < e + lat:
            return None
    return "fault" if any(s <= w.t < e for s, e in episodes) else "healthy"


def _precision_recall(pairs: list[tuple[bool, str]]) -> tuple[float, float, dict]:
    """pairs of (reported anomaly, truth 'fault'/'healthy'): precision, recall and the counts."""
    n = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    for said, real in pairs:
        n[("t" if said == (real == "fault") else "f") + ("p" if said else "n")] += 1
    precision = n["tp"] / (n["tp"] + n["fp"]) if n["tp"] + n["fp"] else 1.0
    recall = n["tp"] / (n["tp"] + n["fn"]) if n["tp"] + n["fn"] else 1.0
    return precision, recall, n


def test_spectral_pipeline_reports_every_fault_episode(spectral, truth):
    m, sim = spectral
    rate, lat = truth["rate_hz"], _latency(m)
    events = [w for w in sim.windows if w.changed]
    assert [_event(w) for w in events] == ["anomaly", "normal"] * len(truth["faults"]), [w.line for w in events]
    print(f"\nspectral pipeline: latency bound {lat} samples ({lat / rate:g} s) = window {m.window_length} "
          f"+ debounce {m.decision.debounce} x stride {m.window_stride}")
    for (on, off), (start, end) in zip(zip(events[::2], events[1::2]), _episodes(truth)):
        print(f"  episode {start / rate:g}-{end / rate:g} s: anomaly at {on.t / rate:.3f} s "
              f"(+{(on.t - start) / rate:.3f} s), normal at {off.t / rate:.3f} s (+{(off.t - end) / rate:.3f} s)")
        assert start <= on.t <= start + lat, ((start, end), on.line)
        assert end <= off.t <= end + lat, ((start, end), off.line)


def test_spectral_pipeline_state_follows_the_ground_truth(spectral, truth):
    """Every decision outside the episodes (and their latency) says normal, every decision inside
    them (once the latency has passed) says anomaly; precision and recall per decision window."""
    m, sim = spectral
    episodes = _episodes(truth)
    threshold = m.decision.threshold
    wrong = [w.line for w in sim.windows
             if (real := _truth_at(m, w, episodes)) is not None and (_state(w) == "anomaly") != (real == "fault")]
    assert not wrong, wrong

    # Each window's own score (before debounce) against what it holds; straddling windows left out.
    raw = [(w.score > threshold, c) for w in sim.windows if (c := _content(m, w, episodes)) is not None]
    p_raw, r_raw, n_raw = _precision_recall(raw)
    # The reported (debounced) state against the truth at the decision's last sample.
    state = [(_state(w) == "anomaly", c) for w in sim.windows if (c := _truth_at(m, w, episodes)) is not None]
    p_state, r_state, n_state = _precision_recall(state)
    healthy = [w.score for w in sim.windows if _content(m, w, episodes) == "healthy"]
    fault = [w.score for w in sim.windows if _content(m, w, episodes) == "fault"]
    print(f"\nspectral pipeline, {len(sim.windows)} decisions, threshold {threshold:g}: "
          f"healthy windows' score max {max(healthy):.4f}, fault windows' min {min(fault):.4f}")
    print(f"  per window (score > threshold vs window content, {len(raw)} windows not straddling an edge): "
          f"precision {p_raw:.3f}, recall {r_raw:.3f} {n_raw}")
    print(f"  per decision (reported state vs truth at t, {len(state)} decisions outside the latency): "
          f"precision {p_state:.3f}, recall {r_state:.3f} {n_state}")
    assert p_raw >= 0.95 and r_raw >= 0.95
    assert p_state == 1.0 and r_state == 1.0  # what the assertion on `wrong` above means
    assert min(fault) > threshold > max(healthy)


def test_rms_only_pipeline_misses_the_fault(spectral, rms_only, truth):
    """The same sensor, windows, autoencoder template and healthy training data, RMS features
    only: the fault keeps every axis' RMS where the healthy machine's is, so nothing is reported."""
    m, sim = rms_only
    episodes = _episodes(truth)
    assert [w.t for w in sim.windows] == [w.t for w in spectral[1].windows]  # the same decisions
    events = [w for w in sim.windows if w.changed]
    detected = [(s, e) for s, e in episodes
                if any(_event(w) == "anomaly" and s <= w.t <= e + _latency(m) for w in events)]
    threshold = m.decision.threshold
    raw = [(w.score > threshold, c) for w in sim.windows if (c := _content(m, w, episodes)) is not None]
    p_raw, r_raw, n_raw = _precision_recall(raw)
    healthy = [w.score for w in sim.windows if _content(m, w, episodes) == "healthy"]
    fault = [w.score for w in sim.windows if _content(m, w, episodes) == "fault"]
    print(f"\nRMS-only pipeline, threshold {threshold:g}: {len(detected)} of {len(episodes)} episodes detected, "
          f"{len(events)} events; per window: precision {p_raw:.3f}, recall {r_raw:.3f} {n_raw}; "
          f"score healthy max {max(healthy):.5f} mean {sum(healthy) / len(healthy):.5f}, "
          f"fault max {max(fault):.5f} mean {sum(fault) / len(fault):.5f}")
    assert detected == [] and events == [], [w.line for w in events]
    assert r_raw <= 0.05
    # Not a matter of the threshold: the fault windows score no higher than healthy ones do.
    assert max(fault) <= max(healthy)


def _generator():
    spec = importlib.util.spec_from_file_location("vibration_make_data", SAMPLE / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_alarm_on_a_healthy_recording_training_never_saw(spectral, rms_only, tmp_path):
    """make_data.py's val.csv (seed 2, 60 s, loads 0.60-1.10, supply 49.9-50.1 Hz): neither
    model was trained on it (train: data/train.csv, seed 1)."""
    gen = _generator()
    path = tmp_path / "val.csv"
    gen.write_csv(path, gen.normal_operation(60.0, seed=2))
    for m, _ in (spectral, rms_only):
        sim = run(m, load_csv(path, m.columns))
        top = max(w.score for w in sim.windows)
        print(f"\n{m.path.name} on an unseen healthy recording: {len(sim.windows)} decisions, "
              f"highest score {top:.5f} (threshold {m.decision.threshold:g}, x{m.decision.threshold / top:.2f})")
        assert not [w for w in sim.windows if w.changed], [w.line for w in sim.windows if w.changed]
        assert all(_state(w) == "normal" for w in sim.windows)


def test_data_generator_is_reproducible(tmp_path):
    subprocess.run([sys.executable, str(SAMPLE / "make_data.py"), "--out", str(tmp_path)], check=True)
    assert (tmp_path / "test.csv").read_bytes() == (SAMPLE / "data/test.csv").read_bytes()
    assert (tmp_path / "faults.json").read_bytes() == (SAMPLE / "data/faults.json").read_bytes()


def test_models_are_small(spectral, rms_only):
    """12 log band energies x 3 axes and 4 RMS frames x 3 axes into int8 autoencoders."""
    for (m, _), inputs in ((spectral, 36), (rms_only, 12)):
        assert m.model.inputs[0].shape[-1] == inputs
        assert m.model.path.stat().st_size < 8 * 1024


@pytest.mark.parametrize("manifest", [VIBRATION, VIBRATION_RMS], ids=["spectral", "rms_only"])
def test_sample_fits_its_board_and_generates(manifest, tmp_path, capsys):
    assert main(["check", str(manifest)]) == 0
    assert main(["new", str(manifest), "-o", str(tmp_path / "app")]) == 0
    assert "warning" not in capsys.readouterr().err
    assert (tmp_path / "app" / "src").is_dir()
