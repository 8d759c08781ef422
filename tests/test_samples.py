"""The samples other than anomaly (tests/test_anomaly_sample.py): each recording
holds events at times its generator wrote down (data/*.json), and `zgen simulate`
must report exactly those, within the pipeline's latency, and nothing else.
Every sample validates, fits its own board, and its data is what its seeded
generator makes."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from conftest import ENVIRONMENTAL, GESTURE, SAMPLES, SINE
from zgen.cli import main
from zgen.manifest import load_manifest
from zgen.simulate import run


def _events(m):
    return [w for w in run(m).windows if w.changed]


def _state(w) -> str:
    return w.line.rsplit("event=", 1)[1]


def _latency(m) -> int:
    """Samples from an event's start until a decision can report it: a window's worth of it
    plus `debounce` strides."""
    return m.window_length + m.decision.debounce * m.window_stride


def test_gesture_sample_reports_each_gesture_once_in_order():
    m = load_manifest(GESTURE)
    truth = json.loads((GESTURE.parent / "data/gestures.json").read_text())
    rate = truth["rate_hz"]
    gestures = [e for e in _events(m) if _state(e) != "guard"]
    assert [_state(e) for e in gestures] == [g["kind"] for g in truth["gestures"]]
    for event, gesture in zip(gestures, truth["gestures"]):
        start = int(gesture["start_s"] * rate)
        assert start <= event.t <= start + _latency(m), (gesture, event.line)
    # Between gestures the wrist is back in guard: every gesture event is followed by guard.
    states = [_state(e) for e in _events(m)]
    assert states[0] == "guard" and all(b == "guard" for a, b in zip(states, states[1:]) if a != "guard")


@pytest.mark.parametrize("manifest,truth_file,key,scale", [
    (SINE, "disturbances.json", "disturbances", 1),
    (ENVIRONMENTAL, "events.json", "events", 60),  # minutes
], ids=["sine", "environmental"])
def test_anomaly_samples_report_each_event_once(manifest, truth_file, key, scale):
    m = load_manifest(manifest)
    on, off = m.decision.state_on, m.decision.state_off
    truth = json.loads((manifest.parent / "data" / truth_file).read_text())
    rate = truth["rate_hz"]
    events = _events(m)
    assert [_state(e) for e in events] == [on, off] * len(truth[key])
    unit = "_min" if scale == 60 else "_s"
    for (start_event, _), event in zip(zip(events[::2], events[1::2]), truth[key]):
        start = int(event["start" + unit] * scale * rate)
        end = int(event["end" + unit] * scale * rate)
        assert start <= start_event.t <= max(end, start) + _latency(m), (event, start_event.line)


def test_sine_sample_names_its_states():
    """`labels: {off: normal, on: disturbance}`: plain off/on keys (booleans to YAML 1.1)."""
    m = load_manifest(SINE)
    assert (m.decision.state_off, m.decision.state_on) == ("normal", "disturbance")


@pytest.mark.parametrize("manifest", SAMPLES, ids=[p.parent.name for p in SAMPLES])
def test_data_generator_is_reproducible(manifest, tmp_path):
    data = load_manifest(manifest).test_data  # the sample's test recording (CSV, or WAV for a microphone)
    if data.suffix == ".wav" and shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng): it speaks the keyword sample's words")
    subprocess.run([sys.executable, str(manifest.parent / "make_data.py"), "--out", str(tmp_path)], check=True)
    assert (tmp_path / data.name).read_bytes() == data.read_bytes()


@pytest.mark.parametrize("manifest", SAMPLES, ids=[p.parent.name for p in SAMPLES])
def test_sample_fits_its_board_and_generates(manifest, tmp_path, capsys):
    assert main(["check", str(manifest)]) == 0
    assert main(["new", str(manifest), "-o", str(tmp_path / "app")]) == 0
    assert "warning" not in capsys.readouterr().err
    assert (tmp_path / "app" / "src").is_dir()


def test_readme_event_lines_are_the_programs():
    """The README's example block is what `zgen simulate samples/anomaly/anomaly.yaml` prints (its
    start line, every line with an event and the output actions after it, the end line), not a copy
    that drifted."""
    import re

    from conftest import ANOMALY, REPO

    readme = (REPO / "README.md").read_text()
    block = re.search(r"## The event lines\n.*?```\n(.*?)```", readme, re.S).group(1).splitlines()
    lines = run(load_manifest(ANOMALY)).lines
    assert block == [lines[0]] + [l for l in lines if "event=" in l or " out=" in l] + [lines[-1]]
