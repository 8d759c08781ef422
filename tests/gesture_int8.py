"""The Arduino punch/upper_cut classifier as a full-int8 model, made at test time
from ../shared/reference (never stored in the repository): its float TFLite
weights rebuilt as Keras (Dense 714-50-15-2), then `zgen model convert`
calibrated on the recordings through the manifest's own feature pipeline.
int8 is what a microcontroller deployment runs: 37 KB instead of 148 KB, which
leaves qemu_cortex_m3 (256 KB flash) most of its room (the replay build of this
manifest there: 132,300 B of flash). Needs TensorFlow (the [tf] extra)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from conftest import REFERENCE, REPO
from zgen.cli import main

FLOAT_MANIFEST = REPO / "tests" / "manifests" / "gesture_reference.yaml"
FLOAT_MODEL = REFERENCE / "models" / "arduino_gesture" / "gesture_punch_uppercut_float.tflite"
PUNCH = REFERENCE / "data" / "arduino_gesture_punch_uppercut" / "punch.csv"


def keras_from_tflite(src: Path, out: Path) -> Path:
    import tensorflow as tf

    interp = tf.lite.Interpreter(model_path=str(src))
    interp.allocate_tensors()
    tensors = {d["name"]: interp.get_tensor(d["index"]) for d in interp.get_tensor_details()
               if d["name"].endswith(("MatMul", "ReadVariableOp"))}
    weights = []
    for n in (3, 4, 5):
        weights += [tensors[f"sequential_1/dense_{n}/MatMul"].T, tensors[f"sequential_1/dense_{n}/BiasAdd/ReadVariableOp"]]
    model = tf.keras.Sequential([tf.keras.Input((714,)), tf.keras.layers.Dense(50, activation="relu"),
                                 tf.keras.layers.Dense(15, activation="relu"),
                                 tf.keras.layers.Dense(2, activation="softmax")])
    model.set_weights(weights)
    x = np.random.default_rng(0).random((1, 714), dtype=np.float32)
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    assert np.allclose(model(x).numpy(), interp.get_tensor(interp.get_output_details()[0]["index"]), atol=1e-5)
    model.save(out)
    return out


def int8_manifest(workdir: Path) -> Path:
    """A manifest like gesture_reference.yaml with the int8 model, on qemu_cortex_m3."""
    workdir.mkdir(parents=True, exist_ok=True)
    model = workdir / "gesture_int8.tflite"
    if not model.is_file():
        keras = keras_from_tflite(FLOAT_MODEL, workdir / "gesture.keras")
        assert main(["model", "convert", str(keras), "--manifest", str(FLOAT_MANIFEST), "-o", str(model)]) == 0
    text = FLOAT_MANIFEST.read_text()
    text = text.replace("name: gesture_reference", "name: gesture_int8")
    text = text.replace("file: ../../../shared/reference/models/arduino_gesture/gesture_punch_uppercut_float.tflite",
                        f"file: {model}")
    text = text.replace("data: ../../../shared/reference/data/arduino_gesture_punch_uppercut/punch.csv",
                        f"data: {PUNCH}")
    assert str(model) in text and str(PUNCH) in text
    path = workdir / "gesture_int8.yaml"
    path.write_text(text)
    return path
