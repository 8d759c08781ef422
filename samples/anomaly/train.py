#!/usr/bin/env python3
"""Train the anomaly sample's int8 autoencoder (needs TensorFlow: pip install -e .[tf]).

Features come from zgen's host runtime (the firmware's C code), so the model is
trained on exactly what the firmware will feed it. Seeded and deterministic.

Writes model/anomaly.tflite and model/report.json (validation scores of the int8
model in TFLM's interpreter and a suggested threshold). It does not edit
anomaly.yaml: copy the threshold there yourself if you retrain.

Run: python samples/anomaly/train.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import make_data  # noqa: E402  (the sample's own data generator)

from zgen.data import load_csv  # noqa: E402
from zgen.manifest import load_manifest  # noqa: E402
from zgen.model.convert import full_int8  # noqa: E402
from zgen.runtime import extract_features  # noqa: E402

SEED = 7


def features(manifest, data: np.ndarray, tmp: Path, name: str) -> np.ndarray:
    path = tmp / f"{name}.csv"
    make_data.write_csv(path, data)
    return extract_features(manifest, load_csv(path, manifest.columns))


def reconstruction_mse(interp, x: np.ndarray) -> np.ndarray:
    """Score each row as the firmware does: dequantised output vs dequantised input."""
    ind, outd = interp.get_input_details(0), interp.get_output_details(0)
    s_in, z_in = ind["quantization_parameters"]["scales"][0], ind["quantization_parameters"]["zero_points"][0]
    s_out, z_out = outd["quantization_parameters"]["scales"][0], outd["quantization_parameters"]["zero_points"][0]
    scores = []
    for row in x:
        q = np.clip(np.floor(row / s_in + 0.5) + z_in, -128, 127).astype(np.int8)
        interp.set_input(q.reshape(ind["shape"]), 0)
        interp.invoke()
        out = interp.get_output(0).astype(np.float32).ravel()
        d = (out - z_out) * s_out - (q.astype(np.float32) - z_in) * s_in
        scores.append(float(np.mean(d * d)))
    return np.array(scores)


def main() -> int:
    import tempfile

    import tensorflow as tf
    from tflite_micro.python.tflite_micro import runtime

    tf.keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    manifest = load_manifest(HERE / "anomaly.yaml", features_only=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        train = features(manifest, make_data.normal_operation(120.0, seed=1), tmp, "train")
        val = features(manifest, make_data.normal_operation(40.0, seed=2), tmp, "val")
        # Calibration also sees faulty windows (another seed than the test
        # recording), so anomalies are not clipped away by input quantisation.
        faulty = features(manifest, make_data.machine(32.0, np.random.default_rng(99), faults=make_data.FAULTS),
                          tmp, "faulty")
    n = train.shape[1]
    print(f"features: train {train.shape}, val {val.shape}, calibration extra {faulty.shape}")

    model = tf.keras.Sequential([
        tf.keras.Input(shape=(n,)),
        tf.keras.layers.Dense(16, activation="relu"),
        tf.keras.layers.Dense(6, activation="relu"),
        tf.keras.layers.Dense(16, activation="relu"),
        tf.keras.layers.Dense(n),
    ])
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-2), loss="mse")
    model.fit(train, train, epochs=150, batch_size=32, shuffle=True, verbose=0,
              validation_data=(val, val))
    print(f"float val mse: {model.evaluate(val, val, verbose=0):.4f}")

    calib = np.concatenate([train, faulty]).astype(np.float32)
    tflite = full_int8(tf, tf.lite.TFLiteConverter.from_keras_model(model), calib[:, None, :])
    out = HERE / "model" / "anomaly.tflite"
    out.parent.mkdir(exist_ok=True)
    out.write_bytes(tflite)

    interp = runtime.Interpreter.from_bytes(tflite)
    val_scores = reconstruction_mse(interp, val)
    fault_scores = reconstruction_mse(interp, faulty)
    suggested = float(f"{1.5 * val_scores.max():.2g}")
    report = {
        "model_bytes": len(tflite),
        "val_score": {"max": float(val_scores.max()), "p99": float(np.percentile(val_scores, 99)),
                      "mean": float(val_scores.mean())},
        "calibration_faulty_score_median": float(np.median(fault_scores)),
        "suggested_threshold": suggested,
        "rule": "1.5 x the highest validation (normal) score of the int8 model",
    }
    (HERE / "model" / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
