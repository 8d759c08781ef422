"""Classifiers through the whole host pipeline, held to outside goldens: the
Arduino gesture model classifies every recorded gesture correctly (reference
README: 17/17 punch, 18/18 upper_cut, p ~ 0.9999)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import reference_pipeline as ref
from zgen import _runtime
from zgen.manifest import load_manifest
from zgen.simulate import run

GESTURE = Path(__file__).parent / "manifests" / "gesture_reference.yaml"


@pytest.mark.parametrize("recording,label,count", [("punch.csv", "punch", 17), ("upper_cut.csv", "upper_cut", 18)])
def test_arduino_gestures_are_classified_as_recorded(reference, recording, label, count):
    data = reference / "data/arduino_gesture_punch_uppercut" / recording
    m = load_manifest(GESTURE, data=data)
    sim = run(m)
    assert len(sim.windows) == count
    for w in sim.windows:
        assert f" class={label} " in w.line and w.score > 0.99, w.line
    assert sim.lines[1].endswith(f"state={label} event={label}")
    assert sum(" event=" in line for line in sim.lines) == 1  # stays on the one class


def _classifier(debounce=1, threshold=0.5):
    return _runtime.Pipeline({
        "rate_hz": 1, "channels": 1, "window_length": 1, "window_stride": 1, "features": [],
        "input": {"dtype": 0, "scale": 0.0, "zero_point": 0, "count": 1},
        "output": {"dtype": 1, "scale": 1 / 256, "zero_point": -128, "count": 3},
        "score": 3, "score_decimals": 3, "threshold_above": 1, "threshold": threshold, "debounce": debounce,
        "state_off": "none", "state_on": "-", "labels": ["wing", "ring", "slope"]})


def _decide(pipe, probs):
    pipe.push(np.zeros((1, 1, 2), np.int32).tobytes(), 0)
    model_in, _ = pipe.features()
    q = ref.quantize(np.array(probs, np.float32), 1 / 256, -128)
    return pipe.decide(model_in, q.tobytes())


def test_argmax_label_and_probability():
    line, changed, score = _decide(_classifier(), [0.1, 0.8, 0.1])
    assert line == "zgen: t=0 win=0 class=ring score=0.801 state=ring event=ring" and changed
    assert score == pytest.approx(0.8, abs=1 / 256)


def test_below_threshold_is_none_and_ties_take_the_first_class():
    pipe = _classifier(threshold=0.6)
    assert _decide(pipe, [0.5, 0.5, 0.0])[0] == "zgen: t=0 win=0 class=wing score=0.500 state=none"


def test_debounce_needs_consecutive_windows_for_the_same_class():
    pipe = _classifier(debounce=2)
    states = [_decide(pipe, p)[0].split("state=")[1] for p in
              ([0, 1, 0], [0, 0, 1], [0, 0, 1], [1, 0, 0], [0, 0, 1], [0.2, 0.2, 0.2])]
    # ring then slope: no two in a row until slope, slope; a lone wing does not switch.
    assert states == ["none", "none", "slope event=slope", "slope", "slope", "slope"]


def test_labels_must_match_the_outputs(tmp_path, reference, capsys):
    from zgen.cli import main

    text = GESTURE.read_text().replace("[punch, upper_cut]", "[punch, upper_cut, wave]")
    bad = tmp_path / "bad_gesture.yaml"
    bad.write_text(text.replace("../../../shared/reference", str(reference)))
    assert main(["new", str(bad), "-o", str(tmp_path / "app")]) == 2
    assert "bad_gesture.yaml:22:24: 3 labels for a model with 2 outputs" in capsys.readouterr().err


def test_float_models_generate_with_a_warning(tmp_path, reference, capsys):
    from zgen.cli import main

    manifest = tmp_path / "g.yaml"
    manifest.write_text(GESTURE.read_text().replace("../../../shared/reference", str(reference)))
    assert main(["new", str(manifest), "-o", str(tmp_path / "app")]) == 0
    err = capsys.readouterr().err
    assert "warning: gesture_punch_uppercut_float.tflite is a float32 model (148312 bytes)" in err
    assert "ZGEN_DTYPE_FLOAT32" in (tmp_path / "app/src/pipeline.c").read_text()
