"""`zgen train`: the manifest's built-in model template trained on recorded data
(CSV; WAV clips for a microphone), quantised to full int8 for TFLM, and
evaluated as the firmware runs it.

Features come from the host C runtime (the firmware's code), so training sees
exactly what the firmware feeds the model. Seeded and deterministic. TensorFlow
is imported here only (the [tf] extra). The manifest is never edited: the
suggested threshold is printed and written to the report for the user to copy.
"""
from __future__ import annotations

import dataclasses
import glob
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from zgen.data import Recording, load_recording
from zgen.errors import Problem, ToolError, ZgenError
from zgen.manifest import OUTSIDE_FIX, Decision, Manifest, allowed_roots, load_manifest, outside
from zgen.model.convert import full_int8
from zgen.model.ops import target_limits
from zgen.model.tflite import read_model
from zgen.runtime import extract_features, run_model


@dataclass
class TrainSpec:
    template: str  # autoencoder | classifier
    data: dict[str, list[Path]]  # class -> CSVs or WAVs ("" for the autoencoder's one class)
    validation: float = 0.2
    folds: int | None = None
    epochs: int = 60
    seed: int = 1


@dataclass
class TrainReport:
    model: Path
    template: str
    windows: int
    validation_windows: int
    metrics: dict = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


def load_spec(m: Manifest) -> TrainSpec:
    raw = m.doc.data.get("train")
    if raw is None:
        raise ZgenError.at(str(m.path), 1, 1, "the manifest has no `train:` section",
                           "add `train: {template: classifier, data: {class_a: [a.csv], class_b: [b.csv]}}`")
    data = raw["data"] if isinstance(raw["data"], dict) else {"": raw["data"]}
    if (raw["template"] == "classifier") != isinstance(raw["data"], dict):
        line, col = m.where("train", "data")
        want = "class name -> list of CSV files" if raw["template"] == "classifier" else "a list of CSV files"
        raise ZgenError.at(str(m.path), line, col, f"the {raw['template']} template takes {want}",
                           "see `zgen schema` (train.data)")
    problems, resolved = [], {}
    roots = allowed_roots(m.path)
    suffix = ".wav" if m.microphone else ".csv"
    for label, files in data.items():
        paths = []
        for i, rel in enumerate(files):
            at = ("train", "data", label, i) if label else ("train", "data", i)
            start = len(paths)
            path = (m.path.parent / rel).resolve()
            if glob.has_magic(rel):
                # A pattern (data/train/yes/*.wav): its files, sorted, so the order is the same everywhere.
                found = sorted(Path(f).resolve() for f in glob.glob(str(m.path.parent / rel), recursive=True)
                               if Path(f).is_file())
                if not found:
                    line, col = m.where(*at)
                    problems.append(Problem(str(m.path), line, col, f"training data pattern '{rel}' matches no file",
                                            "patterns are relative to the manifest's folder; make the data first "
                                            "(e.g. the sample's `make_data.py --train`) or fix the pattern"))
                paths.extend(found)
            elif path.is_dir():
                # A folder: its *.wav (microphone) or *.csv files, sorted.
                found = sorted(f for f in path.iterdir() if f.suffix.lower() == suffix and f.is_file())
                if not found:
                    line, col = m.where(*at)
                    problems.append(Problem(str(m.path), line, col, f"training data folder '{rel}' holds no "
                                            f"{suffix} file", f"put the recordings ({suffix}) in it, or list files"))
                paths.extend(found)
            else:
                if not path.is_file():
                    line, col = m.where(*at)
                    problems.append(Problem(str(m.path), line, col, f"training data '{rel}' does not exist",
                                            "paths are relative to the manifest's folder"))
                paths.append(path)
            for f in paths[start:]:
                if outside(f, roots):
                    line, col = m.where(*at)
                    problems.append(Problem(str(m.path), line, col, f"training data '{rel}' reaches outside the "
                                            f"manifest's folder ({f})", OUTSIDE_FIX))
                    break
        resolved[label] = paths
    if problems:
        raise ZgenError(problems)
    return TrainSpec(raw["template"], resolved, raw.get("validation", 0.2), raw.get("folds"),
                     raw.get("epochs", 60), raw.get("seed", 1))


def _load(m: Manifest, path: Path) -> Recording:
    """One training recording: a WAV (or CSV) for a microphone, as `zgen simulate` reads test data;
    otherwise a CSV with the sensors' columns. Too short for one decision is an error."""
    rec = load_recording(path, m.columns, m.microphone.rate_hz if m.microphone else None)
    need = m.first_decision_samples()
    if rec.samples < need:
        what = (f"{m.frame_count} frames" if m.streaming else f"a window of {m.window_length} samples")
        raise ZgenError.at(str(path), None, None, f"{rec.samples} samples, but one decision takes {need} ({what})",
                           f"give recordings of at least {need} samples ({need / m.rate_hz:g} s)")
    return rec


def _dataset(m: Manifest, spec: TrainSpec) -> tuple[np.ndarray, np.ndarray, list[str]]:
    labels = list(spec.data)
    xs, ys = [], []
    for k, label in enumerate(labels):
        for path in spec.data[label]:
            f = extract_features(m, _load(m, path))
            xs.append(f)
            ys.append(np.full(len(f), k))
    return np.concatenate(xs), np.concatenate(ys), labels


def _split(y: np.ndarray, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Stratified: each class gives the same fraction (at least one window)."""
    val = []
    for k in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == k))
        val.extend(idx[: max(1, int(round(fraction * len(idx))))])
    val = np.sort(np.array(val))
    return np.setdiff1d(np.arange(len(y)), val), val


def _keras_model(tf, template: str, n: int, rows: int, channels: int, classes: int):
    L = tf.keras.layers
    if template == "autoencoder":
        hidden, code = max(4, n // 2), max(2, n // 4)
        layers = [L.Dense(hidden, activation="relu"), L.Dense(code, activation="relu"),
                  L.Dense(hidden, activation="relu"), L.Dense(n)]
    else:
        # A small 1-D CNN over the feature rows (time) with channels as depth.
        k1, k2 = min(5, rows), min(3, max(1, rows // 2))
        layers = [L.Reshape((rows, channels)), L.Conv1D(8, k1, activation="relu", padding="same"),
                  L.MaxPooling1D(2) if rows >= 4 else L.Identity(),
                  L.Conv1D(16, k2, activation="relu", padding="same"), L.GlobalAveragePooling1D(),
                  L.Dense(classes, activation="softmax")]
    return tf.keras.Sequential([tf.keras.Input(shape=(n,)), *layers])


class _Progress:
    """One line that fills as epochs pass (Keras' own bar prints a line per epoch)."""

    def __init__(self, tf, epochs: int, out=sys.stderr):
        outer = self
        tty = out.isatty()

        class Callback(tf.keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                logs = logs or {}
                n = epoch + 1
                # Redraw in place on a terminal; elsewhere (logs, CI) a line per quarter.
                if not tty and n != epochs and n % max(1, epochs // 4):
                    return
                done = int(30 * n / epochs)
                extra = "".join(f" {k} {v:.4f}" for k, v in logs.items() if k in ("loss", "val_loss", "accuracy"))
                start = "\r" if tty else ""
                out.write(f"{start}  epoch {n:>4}/{epochs} [{'#' * done}{'.' * (30 - done)}]{extra}")
                out.write("\n" if not tty or n == epochs else "")
                out.flush()

        outer.callback = Callback()


def _fit(tf, spec: TrainSpec, m: Manifest, x, y, classes: int, train_idx, val_idx, progress: bool):
    # Fresh names (Keras numbers tensors globally; names land in the .tflite),
    # so the same seed gives the same bytes, also within one process.
    tf.keras.backend.clear_session()
    tf.keras.utils.set_random_seed(spec.seed)
    n = x.shape[1]
    model = _keras_model(tf, spec.template, n, *m.model_layout(), classes)
    callbacks = [_Progress(tf, spec.epochs).callback] if progress else []
    if spec.template == "autoencoder":
        model.compile(optimizer=tf.keras.optimizers.Adam(1e-2), loss="mse")
        model.fit(x[train_idx], x[train_idx], epochs=spec.epochs, batch_size=32, verbose=0, shuffle=True,
                  validation_data=(x[val_idx], x[val_idx]), callbacks=callbacks)
    else:
        model.compile(optimizer=tf.keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(x[train_idx], y[train_idx], epochs=spec.epochs, batch_size=16, verbose=0, shuffle=True,
                  validation_data=(x[val_idx], y[val_idx]), callbacks=callbacks)
    return model


def _codes_input(m: Manifest) -> bool:
    """The chain ends with the audio front end: the model's inputs are its int8 codes (as floats)."""
    return bool(m.features) and m.features[-1].kind == "audio_frontend"


def _span_int8(calibration: np.ndarray) -> np.ndarray:
    """Calibration rows whose values span -128..127, so that the converter gives the input the
    quantisation (scale 1.0, zero point 0) under which each code feeds the model as it is.
    Where the recorded codes do not reach both ends, one more row: a copy of the first with its
    smallest value set to -128 and its largest to 127 (the least change to the other tensors'
    ranges)."""
    if calibration.min() <= -128 and calibration.max() >= 127:
        return calibration
    extra = calibration[0].copy()
    low, high = int(extra.argmin()), int(extra.argmax())
    if low == high:  # a constant row
        high = (low + 1) % len(extra)
    extra[low], extra[high] = -128.0, 127.0
    return np.concatenate([calibration, extra[None, :]])


def _int8(tf, model, calibration: np.ndarray) -> bytes:
    # A fixed batch of one (the trained layers, shared): static shapes convert to
    # plain RESHAPE instead of SHAPE / STRIDED_SLICE / PACK computing it at run time.
    fixed = tf.keras.Sequential([tf.keras.Input(batch_shape=(1, calibration.shape[1])), *model.layers])
    return full_int8(tf, tf.lite.TFLiteConverter.from_keras_model(fixed), calibration[:, None, :])


def _evaluate_int8(m: Manifest, tflite: Path, spec: TrainSpec, labels: list[str], template: str):
    """Scores and classes of every training window, run as the firmware runs them."""
    info = read_model(tflite)
    decision = (Decision("class", 0.0, True, 1, "none", "", tuple(labels)) if template == "classifier"
                else Decision("reconstruction_mse", 0.0, True, 1, "normal", "anomaly"))
    mm = dataclasses.replace(m, model=info, model_path=tflite, decision=decision)
    scores, classes = [], []
    for label in spec.data:
        for path in spec.data[label]:
            s, c = run_model(mm, _load(m, path))
            scores.append(s)
            classes.append(c)
    return np.concatenate(scores), np.concatenate(classes)


def train(manifest: Path, out: Path | None = None, epochs: int | None = None, seed: int | None = None,
          say: Callable[[str], None] = print, progress: bool = True) -> TrainReport:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ log (failures still raise)
    try:
        import tensorflow as tf
    except ImportError:
        raise ToolError("zgen train needs TensorFlow: pip install 'zgen[tf]'") from None
    tf.config.experimental.enable_op_determinism()
    tf.get_logger().setLevel("ERROR")
    import warnings

    warnings.filterwarnings("ignore", message="Statistics for quantized inputs", category=UserWarning)

    m = load_manifest(manifest, features_only=True)
    if out is None:  # the manifest's model.file: written only inside the allowed folders
        out = (m.path.parent / m.doc.data["model"]["file"]).resolve()
        if outside(out, allowed_roots(m.path)):
            raise ZgenError.at(str(m.path), *m.where("model", "file"), f"model file '{m.doc.data['model']['file']}' "
                               f"is outside the manifest's folder ({out}): zgen train would write it there",
                               OUTSIDE_FIX + ", or give the output with -o")
    out = Path(out)
    spec = load_spec(m)
    spec.epochs = epochs or spec.epochs
    spec.seed = spec.seed if seed is None else seed
    x, y, labels = _dataset(m, spec)
    classes = len(labels)
    rng = np.random.default_rng(spec.seed)
    train_idx, val_idx = _split(y, spec.validation, rng)
    say(f"{spec.template}: {len(x)} windows of {x.shape[1]} features "
        f"({', '.join(f'{lab}: {int((y == k).sum())}' for k, lab in enumerate(labels)) if labels != [''] else 'normal'}); "
        f"{len(val_idx)} held out; seed {spec.seed}")

    metrics: dict = {}
    if spec.template == "classifier" and spec.folds:
        accs = []
        fold_of = np.empty(len(y), dtype=int)
        for k in np.unique(y):
            idx = rng.permutation(np.flatnonzero(y == k))
            fold_of[idx] = np.arange(len(idx)) % spec.folds
        for f in range(spec.folds):
            tr, va = np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)
            model = _fit(tf, spec, m, x, y, classes, tr, va, progress=False)
            accs.append(float((model.predict(x[va], verbose=0).argmax(1) == y[va]).mean()))
            say(f"  fold {f + 1}/{spec.folds}: float accuracy {accs[-1]:.3f} on {len(va)} windows")
        metrics["cv_float_accuracy"] = {"folds": spec.folds, "mean": float(np.mean(accs)), "each": accs}

    model = _fit(tf, spec, m, x, y, classes, train_idx, val_idx, progress=progress)
    calibration = x[train_idx]
    codes = _codes_input(m)
    if codes:
        calibration = _span_int8(calibration)
    tflite = _int8(tf, model, calibration)
    converted = _read_bytes(tflite)
    limits = target_limits(converted)
    if limits:
        raise ToolError(f"the converted model cannot run on Zephyr 3.7's TFLM: {limits[0][1]}")
    if codes:
        q = converted.inputs[0]
        if q.dtype != "int8" or (q.scale, q.zero_point) != (1.0, 0):
            raise ToolError(f"the converted model's input is quantised with scale {q.scale:g}, zero point "
                            f"{q.zero_point} ({q.dtype}), but audio_frontend's int8 codes feed the model as they "
                            "are: it needs scale 1, zero point 0 (TensorFlow's converter should give that when "
                            "the calibration spans -128..127; report this with your TensorFlow version)")

    out.parent.mkdir(parents=True, exist_ok=True)
    previous = out.read_bytes() if out.is_file() else None
    tmp = out.with_suffix(".tflite.tmp")
    tmp.write_bytes(tflite)
    scores, classes_int8 = _evaluate_int8(m, tmp, spec, labels, spec.template)
    float_out = model.predict(x, verbose=0)

    if spec.template == "classifier":
        float_cls = float_out.argmax(1)
        metrics.update({
            "labels": labels,
            "float_accuracy": float((float_cls[val_idx] == y[val_idx]).mean()),
            "int8_accuracy": float((classes_int8[val_idx] == y[val_idx]).mean()),
            "int8_float_agreement": float((classes_int8 == float_cls).mean()),
            "confusion_int8": _confusion(y[val_idx], classes_int8[val_idx], classes).tolist(),
        })
        say(f"held-out accuracy: float {metrics['float_accuracy']:.3f}, int8 {metrics['int8_accuracy']:.3f}; "
            f"int8 agrees with float on {metrics['int8_float_agreement']:.1%} of all windows")
    else:
        val = scores[val_idx]
        suggested = float(f"{1.5 * val.max():.2g}")
        metrics.update({"validation_score": {"max": float(val.max()), "p99": float(np.percentile(val, 99)),
                                             "mean": float(val.mean())},
                        "suggested_threshold": suggested,
                        "threshold_rule": "1.5 x the highest held-out (normal) reconstruction error, int8 model"})
        say(f"held-out reconstruction error (int8): max {val.max():.4f}, mean {val.mean():.4f}; "
            f"suggested `- threshold: {{above: {suggested}}}` (copy it into the manifest)")

    tmp.replace(out)
    report = TrainReport(out, spec.template, len(x), len(val_idx), metrics, [out])
    if previous is not None and previous != tflite:
        backup = out.with_suffix(".previous.tflite")
        backup.write_bytes(previous)
        say(f"replaced {out} (the previous model is kept as {backup.name})")
        report.files.append(backup)
    report.files += _write_report(out, report, scores, y, val_idx, classes_int8)
    for f in report.files:
        say(f"wrote {f}")
    return report


def _read_bytes(data: bytes):
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".tflite") as f:
        f.write(data)
        f.flush()
        return read_model(Path(f.name))


def _confusion(truth: np.ndarray, pred: np.ndarray, classes: int) -> np.ndarray:
    c = np.zeros((classes, classes), dtype=int)
    for t, p in zip(truth, pred):
        c[t, p] += 1
    return c


def _write_report(out: Path, report: TrainReport, scores, y, val_idx, classes_int8) -> list[Path]:
    stem = out.with_suffix("")
    js = Path(f"{stem}.report.json")
    js.write_text(json.dumps({"model": out.name, "template": report.template, "windows": report.windows,
                              "validation_windows": report.validation_windows, **report.metrics}, indent=2) + "\n")
    files = [js]
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return files
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    if report.template == "classifier":
        labels = report.metrics["labels"]
        c = np.array(report.metrics["confusion_int8"])
        ax.imshow(c, cmap="Blues")
        ax.set_xticks(range(len(labels)), labels)
        ax.set_yticks(range(len(labels)), labels)
        for i in range(len(labels)):
            for j in range(len(labels)):
                ax.text(j, i, str(c[i, j]), ha="center", va="center",
                        color="white" if c[i, j] > c.max() / 2 else "black")
        ax.set_xlabel("predicted (int8, as the firmware runs it)")
        ax.set_ylabel("recorded")
        ax.set_title(f"held-out confusion, accuracy {report.metrics['int8_accuracy']:.1%}")
    else:
        ax.hist(scores[val_idx], bins=30, label="held-out windows")
        ax.axvline(report.metrics["suggested_threshold"], color="red", label="suggested threshold")
        ax.set_xlabel("reconstruction error (int8 model)")
        ax.set_ylabel("windows")
        ax.legend()
    fig.tight_layout()
    png = Path(f"{stem}.report.png")
    fig.savefig(png)
    plt.close(fig)
    return files + [png]
