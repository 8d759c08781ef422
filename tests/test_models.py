"""Reading the reference models (../shared/reference, by outside authors):
shapes, types, quantisation and ops as its README's table states them."""
from __future__ import annotations

import pytest

from zgen.model.arena import measure
from zgen.model.ops import target_limits
from zgen.model.tflite import ModelFormatError, read_model

# From ../shared/reference/README.md (human-written table).
TABLE = {
    "mlperf_tiny/ad01_int8.tflite": ((1, 640), "int8", 0.391015, 89, (1, 640), ("FULLY_CONNECTED",), 10),
    "mlperf_tiny/kws_ref_model.tflite": ((1, 49, 10, 1), "int8", 0.584703, 83, (1, 12),
                                         ("AVERAGE_POOL_2D", "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED",
                                          "RESHAPE", "SOFTMAX"), 13),
    "mlperf_tiny/vww_96_int8.tflite": ((1, 96, 96, 3), "int8", 1 / 255, -128, (1, 2),
                                       ("AVERAGE_POOL_2D", "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED",
                                        "RESHAPE", "SOFTMAX"), 31),
    "mlperf_tiny/pretrainedResnet_quant.tflite": ((1, 32, 32, 3), "int8", 1.0, -128, (1, 10),
                                                  ("ADD", "AVERAGE_POOL_2D", "CONV_2D", "FULLY_CONNECTED",
                                                   "RESHAPE", "SOFTMAX"), 16),
    "tflm/hello_world_int8.tflite": ((1, 1), "int8", 0.0244801, -128, (1, 1), ("FULLY_CONNECTED",), 3),
    "tflm/hello_world_float.tflite": ((1, 1), "float32", None, None, (1, 1), ("FULLY_CONNECTED",), 3),
    "tflm/magic_wand.tflite": ((1, 128, 3, 1), "float32", None, None, (1, 4),
                               ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "MAX_POOL_2D", "SOFTMAX"), 7),
    "arduino_gesture/gesture_punch_uppercut_float.tflite": ((1, 714), "float32", None, None, (1, 2),
                                                            ("FULLY_CONNECTED", "SOFTMAX"), 4),
}


@pytest.mark.parametrize("name", sorted(TABLE))
def test_reference_model_is_read_as_documented(reference, name):
    in_shape, dtype, scale, zp, out_shape, ops, n_ops = TABLE[name]
    info = read_model(reference / "models" / name)
    assert info.inputs[0].shape == in_shape and info.inputs[0].dtype == dtype
    if scale is not None:
        assert info.inputs[0].scale == pytest.approx(scale, rel=1e-5) and info.inputs[0].zero_point == zp
    assert info.outputs[0].shape == out_shape
    assert info.ops_used == ops and len(info.operators) == n_ops


def test_declared_but_unused_ops_are_not_reported_as_used(reference):
    info = read_model(reference / "models/mlperf_tiny/vww_96_int8.tflite")
    assert {"QUANTIZE", "DEQUANTIZE"} <= set(info.declared_ops)
    assert "QUANTIZE" not in info.ops_used


def test_hello_world_arena_is_measured(reference):
    a = measure(reference / "models/tflm/hello_world_int8.tflite")
    assert a.total == a.head + a.tail and 0 < a.total < 4096


@pytest.mark.parametrize("damage", ["truncate", "identifier", "empty"])
def test_damaged_models_are_rejected(tmp_path, reference, damage):
    data = (reference / "models/tflm/hello_world_int8.tflite").read_bytes()
    bad = {"truncate": data[:200], "identifier": data[:4] + b"XXXX" + data[8:], "empty": b""}[damage]
    path = tmp_path / "m.tflite"
    path.write_bytes(bad)
    with pytest.raises(ModelFormatError):
        read_model(path)


def test_reference_models_run_on_the_pinned_tflm(reference):
    for name in TABLE:
        assert target_limits(read_model(reference / "models" / name)) == [], name


PER_CHANNEL = __import__("pathlib").Path(__file__).parent / "data" / "per_channel_fc.tflite"  # TF converter's default


def test_per_channel_fully_connected_is_refused_before_any_build(tmp_path, capsys):
    """The host interpreter runs it; Zephyr 3.7's TFLM fails at AllocateTensors (seen on QEMU)."""
    import shutil

    from conftest import ANOMALY
    from zgen.cli import main

    sample = tmp_path / "s"
    shutil.copytree(ANOMALY.parent, sample, ignore=shutil.ignore_patterns("train.csv", "val.csv"))
    shutil.copy(PER_CHANNEL, sample / "model" / "anomaly.tflite")
    assert main(["new", str(sample / "anomaly.yaml"), "-o", str(tmp_path / "app")]) == 2
    err = capsys.readouterr().err
    assert "anomaly.yaml:20:9: anomaly.tflite: operator 0 FULLY_CONNECTED has per-channel quantised weights" in err
    assert "_experimental_disable_per_channel_quantization_for_dense_layers" in err
    assert not (tmp_path / "app").exists()


def test_inspect_json_reports_ops_limits_and_arena(capsys):
    import json

    from zgen.cli import main

    assert main(["model", "inspect", str(PER_CHANNEL), "--json"]) == 1  # not runnable on the target
    r = json.loads(capsys.readouterr().out)
    assert r["ops_used"] == ["FULLY_CONNECTED"] and r["resolver"] == ["AddFullyConnected"]
    assert [p["operator"] for p in r["target_limits"]] == [0, 1]
    assert r["arena"]["host_total"] == r["arena"]["head"] + r["arena"]["tail"]


def test_inspect_reference_model_text(reference, capsys):
    from zgen.cli import main

    assert main(["model", "inspect", str(reference / "models/mlperf_tiny/vww_96_int8.tflite")]) == 0
    out = capsys.readouterr().out
    assert "int8[1, 96, 96, 3] scale=0.00392157 zero_point=-128" in out
    assert "declared but unused: DEQUANTIZE, QUANTIZE" in out


def test_inspect_rejects_a_non_model(tmp_path, capsys):
    from zgen.cli import main

    bad = tmp_path / "x.tflite"
    bad.write_text("hello, world")
    assert main(["model", "inspect", str(bad)]) == 2
    assert "not a TFLite flatbuffer" in capsys.readouterr().err


def test_the_host_measurement_is_kept_between_runs(tmp_path, monkeypatch):
    """A model's TFLM host measurement is kept by content and tflite-micro version: the second run
    reads it back instead of starting TFLM again; an unreadable cache is measured again."""
    from conftest import REPO
    from zgen.model import arena

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    model = REPO / "samples" / "anomaly" / "model" / "anomaly.tflite"
    arena._host.clear()
    first = arena.measure(model)
    files = list((tmp_path / "zgen" / "arena").glob("*.json"))
    assert len(files) == 1
    arena._host.clear()
    monkeypatch.setattr(arena, "_measure_host", lambda *a: (_ for _ in ()).throw(AssertionError("measured")))
    assert arena.measure(model) == first
    files[0].write_text("{not json")
    arena._host.clear()
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert arena.measure(model) == first
    arena._host.clear()


def test_ops_zephyrs_tflm_module_cannot_link_are_refused(reference):
    """TFLM registers STRIDED_SLICE and BATCH_MATMUL, but Zephyr 3.7.1's module does not compile
    their sources: a model with them would fail at link time, so zgen says so before any build.
    micro_speech's audio preprocessor has a STRIDED_SLICE (the reference README lists its ops)."""
    from zgen.model.ops import ZEPHYR_MODULE_LACKS

    info = read_model(reference / "models/tflm/audio_preprocessor_int8.tflite")
    slices = [i for i, o in enumerate(info.operators) if o.op == "STRIDED_SLICE"]
    limits = {i: what for i, what, _ in target_limits(info)}
    assert slices and all("cannot link" in limits[i] and "strided_slice_common.cc" in limits[i] for i in slices)
    assert set(ZEPHYR_MODULE_LACKS) == {"BATCH_MATMUL", "STRIDED_SLICE"}


def test_the_kernels_zephyrs_module_leaves_out_are_those_zgen_refuses():
    """Against the workspace's own modules/tflite-micro/CMakeLists.txt (where there is one): the
    kernel sources it does not compile are the ones behind ZEPHYR_MODULE_LACKS."""
    import re

    from zgen.model.ops import ZEPHYR_MODULE_LACKS
    from zgen.workspace import find_workspace

    ws = find_workspace()
    if ws is None or ws.tflite_micro is None:
        pytest.skip("no Zephyr workspace with the tflite-micro module")
    cmake = (ws.zephyr_base / "modules" / "tflite-micro" / "CMakeLists.txt").read_text()
    compiled = set(re.findall(r"micro/kernels/(?:\$\{CMSIS_NN_OPTIMIZED_KERNEL_DIR\}/)?(\w+)\.cc", cmake))
    kernels = ws.tflite_micro / "tensorflow" / "lite" / "micro" / "kernels"
    left_out = {p.stem for p in kernels.glob("*.cc")} - compiled
    left_out = {s for s in left_out if not s.endswith(("_test", "_generated_data", "_test_common")) and s != "ethosu"}
    assert left_out == {"batch_matmul", "strided_slice_common"}
    assert all(any(s in why for s in left_out) for why in ZEPHYR_MODULE_LACKS.values())
