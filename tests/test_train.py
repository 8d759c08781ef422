"""`zgen train` (TensorFlow, the [tf] extra; skipped without it): seeded and
repeatable, int8 models TFLM 48613f7b runs, evaluated as the firmware runs them,
and no silent overwrite of the user's files."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from conftest import ANOMALY, REPO
from zgen.model.ops import target_limits
from zgen.model.tflite import read_model

tf = pytest.importorskip("tensorflow", reason="zgen train needs the [tf] extra (TensorFlow)")

GESTURE = REPO / "bench" / "gesture" / "gesture_train.yaml"


def _gesture_manifest(tmp_path: Path, reference: Path, epochs: int) -> Path:
    text = GESTURE.read_text().replace("../../../shared/reference", str(reference))
    text = text.replace("  folds: 5\n", "").replace("epochs: 80", f"epochs: {epochs}")
    text = text.replace("../out/gesture_cnn.tflite", "model/gesture.tflite")
    path = tmp_path / "gesture.yaml"
    path.write_text(text)
    return path


def test_classifier_reaches_the_accuracy_and_runs_on_the_target(tmp_path, reference):
    from zgen.model.train import train

    report = train(_gesture_manifest(tmp_path, reference, 40), say=lambda s: None, progress=False)
    info = read_model(report.model)
    assert info.inputs[0].dtype == "int8" and target_limits(info) == []
    assert report.metrics["int8_accuracy"] >= 0.9
    assert report.metrics["int8_float_agreement"] >= 0.9
    js = json.loads((tmp_path / "model" / "gesture.report.json").read_text())
    assert js["labels"] == ["punch", "upper_cut"] and sum(map(sum, js["confusion_int8"])) == 10
    assert (tmp_path / "model" / "gesture.report.png").stat().st_size > 1000


def test_same_seed_same_model_and_replacing_says_so(tmp_path, reference):
    from zgen.model.train import train

    manifest = _gesture_manifest(tmp_path, reference, 8)
    first = train(manifest, say=lambda s: None, progress=False).model.read_bytes()
    said = []
    train(manifest, say=said.append, progress=False)
    assert (tmp_path / "model" / "gesture.tflite").read_bytes() == first
    assert not any("replaced" in s for s in said)  # identical: nothing to announce
    (tmp_path / "model" / "gesture.tflite").write_bytes(b"user's own model")
    said.clear()
    train(manifest, say=said.append, progress=False)
    assert any("replaced" in s and "gesture.previous.tflite" in s for s in said)
    assert (tmp_path / "model" / "gesture.previous.tflite").read_bytes() == b"user's own model"


def test_autoencoder_suggests_a_threshold_from_normal_data(tmp_path):
    from zgen.model.train import train

    sample = tmp_path / "s"
    shutil.copytree(ANOMALY.parent, sample, ignore=shutil.ignore_patterns("train.csv", "val.csv", "model"))
    sys.path.insert(0, str(sample))
    try:
        import make_data

        make_data.write_csv(sample / "data" / "normal.csv", make_data.normal_operation(60.0, seed=5))
    finally:
        sys.path.remove(str(sample))
        sys.modules.pop("make_data", None)
    manifest = sample / "anomaly.yaml"
    manifest.write_text(manifest.read_text() + "train:\n  template: autoencoder\n  data: [data/normal.csv]\n"
                        "  epochs: 30\n")
    report = train(manifest, say=lambda s: None, progress=False)
    assert 0 < report.metrics["suggested_threshold"] < 1
    assert target_limits(read_model(report.model)) == []
    assert "threshold: {above: 0.03}" in manifest.read_text()  # the manifest is never edited


def test_train_section_is_required(tmp_path, capsys):
    from zgen.cli import main

    shutil.copytree(ANOMALY.parent, tmp_path / "s", ignore=shutil.ignore_patterns("train.csv", "val.csv"))
    assert main(["train", str(tmp_path / "s" / "anomaly.yaml")]) == 2
    assert "has no `train:` section" in capsys.readouterr().err


def _autoencoder_keras(path: Path, n: int = 24) -> None:
    tf.keras.utils.set_random_seed(3)
    model = tf.keras.Sequential([tf.keras.Input(shape=(n,)), tf.keras.layers.Dense(8, activation="relu"),
                                 tf.keras.layers.Dense(n)])
    model.save(path)


def test_convert_keras_with_the_manifests_features(tmp_path, capsys):
    from zgen.cli import main

    _autoencoder_keras(tmp_path / "ae.keras")
    out = tmp_path / "ae_int8.tflite"
    assert main(["model", "convert", str(tmp_path / "ae.keras"), "--manifest", str(ANOMALY), "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert "calibrated on 99 windows" in said
    info = read_model(out)
    assert info.inputs[0].dtype == "int8" and info.outputs[0].dtype == "int8" and target_limits(info) == []


def test_convert_refuses_a_mismatched_model_and_a_tflite(tmp_path, capsys, reference):
    from zgen.cli import main

    _autoencoder_keras(tmp_path / "ae.keras", n=10)
    assert main(["model", "convert", str(tmp_path / "ae.keras"), "--manifest", str(ANOMALY), "-o",
                 str(tmp_path / "x.tflite")]) == 2
    assert "gives 24 values per window but ae.keras takes 10" in capsys.readouterr().err
    src = reference / "models/tflm/hello_world_float.tflite"
    assert main(["model", "convert", str(src), "--manifest", str(ANOMALY), "-o", str(tmp_path / "y.tflite")]) == 2
    assert "cannot be re-quantised" in capsys.readouterr().err


def test_convert_a_saved_model(tmp_path):
    from zgen.model.convert import convert

    tf.keras.utils.set_random_seed(4)
    model = tf.keras.Sequential([tf.keras.Input(shape=(24,)), tf.keras.layers.Dense(6, activation="relu"),
                                 tf.keras.layers.Dense(24)])
    model.export(str(tmp_path / "saved"))
    r = convert(tmp_path / "saved", ANOMALY, tmp_path / "sm.tflite")
    info = read_model(r.output)
    assert info.inputs[0].dtype == "int8" and target_limits(info) == [] and r.windows == 99
