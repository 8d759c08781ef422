"""`zgen model convert`: a Keras (.keras, .h5) or SavedModel model to a full-int8
.tflite that Zephyr 3.7's TFLM runs, calibrated on the manifest's recorded data
passed through the manifest's own feature pipeline (the firmware's C code), so
calibration sees exactly what the firmware feeds the model."""
from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zgen.errors import Problem, ToolError, ZgenError
from zgen.manifest import load_manifest
from zgen.model.ops import target_limits
from zgen.model.tflite import read_model
from zgen.runtime import extract_features


@dataclass
class ConvertReport:
    output: Path
    windows: int  # calibration windows
    agreement: float  # int8 vs float: same argmax (classifiers) or within 5 % of range (others)
    max_abs_error: float


def full_int8(tf, conv, calibration: np.ndarray) -> bytes:
    """Convert with TFLiteConverter `conv` to full int8 (int8 input and output)
    that Zephyr 3.7's TFLM runs; `calibration` holds one model input per row,
    batch dimension included."""

    def representative():
        for row in calibration:
            yield [row.astype(np.float32)]

    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    # TFLM as pinned by Zephyr 3.7 (48613f7b) rejects per-channel FULLY_CONNECTED.
    conv._experimental_disable_per_channel_quantization_for_dense_layers = True
    with contextlib.redirect_stdout(io.StringIO()):  # Keras prints its export signature
        return conv.convert()


def _source_kind(src: Path) -> str:
    if src.is_dir() and (src / "saved_model.pb").is_file():
        return "saved_model"
    if src.suffix in (".keras", ".h5") and src.is_file():
        return "keras"
    if src.suffix == ".tflite" and src.is_file():
        return "tflite"
    raise ZgenError(Problem(str(src), None, None, "not a Keras file (.keras, .h5), a SavedModel folder or a .tflite",
                            "give the model TensorFlow saved"))


def convert(src: Path, manifest: Path, out: Path, data: Path | None = None) -> ConvertReport:
    src, out = Path(src), Path(out)
    kind = _source_kind(src)
    if kind == "tflite":
        info = read_model(src)
        what = "already int8" if info.inputs[0].dtype == "int8" else f"{info.inputs[0].dtype}"
        raise ZgenError(Problem(str(src), None, None,
                                f"a .tflite ({what}) cannot be re-quantised: TensorFlow's converter needs the graph",
                                "convert from the Keras or SavedModel the .tflite was made from"
                                if what != "already int8" else "use it as it is (`zgen model inspect` checks it)"))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import tensorflow as tf
    except ImportError:
        raise ToolError("zgen model convert needs TensorFlow: pip install 'zgen[tf]'") from None
    tf.get_logger().setLevel("ERROR")

    m = load_manifest(manifest, data=data, features_only=True)
    if m.recording is None:
        raise ZgenError.at(str(m.path), 1, 1, "no recorded data to calibrate with",
                           "add `test: {data: ...}` to the manifest or pass --data CSV")
    feats = extract_features(m, m.recording)
    if kind == "keras":
        model = tf.keras.models.load_model(src, compile=False)
        conv = tf.lite.TFLiteConverter.from_keras_model(model)
        shape = list(model.inputs[0].shape)
        run_float = lambda x: np.asarray(model(x, training=False))  # noqa: E731
    else:
        conv = tf.lite.TFLiteConverter.from_saved_model(str(src))
        fn = tf.saved_model.load(str(src)).signatures["serving_default"]
        shape = list(next(iter(fn.structured_input_signature[1].values())).shape)
        run_float = lambda x: np.asarray(next(iter(fn(tf.constant(x)).values())))  # noqa: E731
    count = int(np.prod([d or 1 for d in shape[1:]]))
    if count != feats.shape[1]:
        raise ZgenError.at(str(m.path), *m.where("features"),
                           f"the feature chain gives {feats.shape[1]} values per window but {src.name} takes {count}",
                           "change the window or the reductions' frames, or convert a model for these features")
    batch = [1, *shape[1:]]

    tflite = full_int8(tf, conv, feats.reshape(len(feats), *batch))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tflite.tmp")
    tmp.write_bytes(tflite)
    info = read_model(tmp)
    limits = target_limits(info)
    if limits:
        tmp.unlink()
        raise ToolError(f"the converted model cannot run on Zephyr 3.7's TFLM: operator {limits[0][0]} {limits[0][1]}")
    tmp.replace(out)
    return _compare(info, out, feats, batch, run_float)


def _compare(info, out: Path, feats: np.ndarray, batch, run_float) -> ConvertReport:
    """int8 (TFLM's interpreter) against the float model on the calibration windows."""
    from tflite_micro.python.tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(out.read_bytes())
    tin, tout = info.inputs[0], info.outputs[0]
    agree, errs = [], []
    for row in feats:
        q = np.clip(np.round(row / tin.scale) + tin.zero_point, -128, 127).astype(np.int8)
        interp.set_input(q.reshape(tin.shape), 0)
        interp.invoke()
        y8 = (interp.get_output(0).astype(np.float32).ravel() - tout.zero_point) * tout.scale
        yf = run_float(row.reshape(batch).astype(np.float32)).ravel()
        span = max(float(np.ptp(yf)), 1e-6)
        errs.append(float(np.abs(y8 - yf).max()))
        agree.append(y8.argmax() == yf.argmax() if yf.size > 1 else errs[-1] <= 0.05 * max(abs(float(yf[0])), span))
    return ConvertReport(out, len(feats), float(np.mean(agree)), float(np.max(errs)))
