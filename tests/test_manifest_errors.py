"""Bad manifests and data: every error names FILE:LINE:COL, says what is
wrong and how to fix it, exits with status 2 and writes nothing.

Positions were worked out by hand from BASE below (line numbers are fixed by
its layout), not copied from zgen's output."""
from __future__ import annotations

import re
import shutil

import pytest

from conftest import ANOMALY
from zgen.cli import main

BASE = """\
zgen: 1
name: motor_anomaly
board: nrf52840dk/nrf52840
sensors:
  accel:
    kind: accelerometer
    part: st,lis2dh
    bus: i2c0
    address: 0x19
    rate_hz: 200
window: {length: 128, stride: 64}
features:
  - normalize: {mean: [0, 0, 9.80665], std: [0.25, 0.2, 0.1]}
  - rms: {frames: 8}
model:
  file: model/anomaly.tflite
  arena: auto
postprocess:
  - anomaly_score: {kind: reconstruction_mse}
  - threshold: {above: 0.03}
  - debounce: {count: 3}
outputs:
  - log
  - led: led0
test:
  data: data/test.csv
"""

# (id, text replaced, replacement, expected "LINE:COL", words the message must contain)
CASES = [
    ("yaml-syntax", "window: {length: 128, stride: 64}", "window: {length: 128, stride: 64", "12:9",
     "flow mapping expected ',' or '}', but got ':' (it started at line 11, column 9)"),
    ("duplicate-key", "  data: data/test.csv\n", "  data: data/test.csv\nname: other\n", "27:1",
     "duplicate key 'name' (first at line 2)"),
    ("unknown-top-key", "sensors:\n", "sensor:\n", "4:1", "unknown key 'sensor'"),
    ("missing-window", "window: {length: 128, stride: 64}\n", "", "1:1", "missing 'window'"),
    ("string-length", "length: 128", "length: '128'", "11:18", "must be integer"),
    ("stride-too-long", "stride: 64", "stride: 200", "11:31", "stride (200) is larger"),
    ("unknown-board", "board: nrf52840dk/nrf52840", "board: nrf52840dk", "3:8", "not in the catalogue"),
    ("sensor-kind-typo", "kind: accelerometer", "kind: accelerometr", "6:11", "did you mean 'accelerometer'"),
    ("sensor-name", "  accel:\n", "  Accel:\n", "5:3", "name 'Accel'"),
    ("negative-rate", "rate_hz: 200", "rate_hz: -5", "10:14", "must be > 0"),
    ("normalize-length", "mean: [0, 0, 9.80665]", "mean: [0, 9.80665]", "13:23", "2 value(s)"),
    ("frames-not-dividing", "rms: {frames: 8}", "rms: {frames: 7}", "14:19", "equal frames"),
    ("shape-mismatch", "rms: {frames: 8}", "rms: {frames: 4}", "12:1", "takes 24"),
    ("model-missing", "file: model/anomaly.tflite", "file: model/missing.tflite", "16:9", "does not exist"),
    ("model-not-tflite", "file: model/anomaly.tflite", "file: data/test.csv", "16:9", "not a TFLite flatbuffer"),
    ("no-threshold", "  - threshold: {above: 0.03}\n", "", "18:1", "no threshold"),
    ("threshold-both", "{above: 0.03}", "{above: 0.03, below: 1}", "20:16", "threshold"),
    ("data-missing", "data: data/test.csv", "data: data/nope.csv", "26:9", "does not exist"),
    ("part-without-bus", "    bus: i2c0\n    address: 0x19\n", "", "6:5", "not its bus and address"),
    ("bus-not-on-board", "bus: i2c0", "bus: i2c7", "8:10", "no bus 'i2c7'"),
    ("led-not-on-board", "led: led0", "led: led9", "24:10", "no LED alias 'led9'"),
    ("unsafe-tag", "name: motor_anomaly", "name: !!python/object/apply:os.system [ls]", "2:7", "unsupported YAML tag"),
    ("feature-typo", "- rms: {frames: 8}", "- rsm: {frames: 8}", "14:5", "did you mean 'rms'"),
    ("arena-too-small", "arena: auto", "arena: 100", "17:10", "not valid"),
    ("format-version", "zgen: 1", "zgen: 2", "1:7", "must be one of: 1"),
    ("columns-count", "    rate_hz: 200\n", "    rate_hz: 200\n    columns: [accel_x]\n", "11:14", "1 column(s)"),
    ("csv-column-missing", "    rate_hz: 200\n", "    rate_hz: 200\n    columns: [ax, ay, az]\n", "1:1", "no column 'ax'"),
    ("rates-differ", "    rate_hz: 200\n",
     "    rate_hz: 200\n  temp:\n    kind: temperature\n    part: ti,tmp116\n    bus: i2c0\n    address: 0x48\n"
     "    rate_hz: 1\n    columns: [accel_x]\n", "4:1", "different rates"),
    ("part-unknown", "part: st,lis2dh", "part: st,lis2dhh", "7:11", "does not know the part 'st,lis2dhh'"),
    ("part-wrong-kind", "part: st,lis2dh", "part: ti,tmp116", "7:11", "ti,tmp116 has no accelerometer"),
    ("part-too-slow", "part: st,lis2dh\n    bus: i2c0\n    address: 0x19\n    rate_hz: 200",
     "part: st,lis2dw12\n    bus: i2c0\n    address: 0x19\n    rate_hz: 3200", "10:14",
     "st,lis2dw12 samples at 1600 Hz at most"),
    ("range-part-fixed", "    address: 0x19\n", "    address: 0x19\n    range: 4\n", "10:12",
     "zgen sets no range for st,lis2dh"),
    ("range-not-offered", "part: st,lis2dh\n    bus: i2c0\n    address: 0x19\n",
     "part: st,lis2dw12\n    bus: i2c0\n    address: 0x19\n    range: 3\n", "10:12",
     "st,lis2dw12 has no 3 g range"),
    ("range-without-part", "    part: st,lis2dh\n    bus: i2c0\n    address: 0x19\n", "    range: 4\n", "7:12",
     "has a range but no `part`"),
    # hifive1's kernel timer counts the 32768 Hz RTC: 5000 Hz needs 6.55 ticks, 7 sample at 4681 Hz
    ("rate-unpaced", "board: nrf52840dk/nrf52840\nsensors:\n  accel:\n    kind: accelerometer\n    part: st,lis2dh\n"
     "    bus: i2c0\n    address: 0x19\n    rate_hz: 200",
     "board: hifive1\nsensors:\n  accel:\n    kind: accelerometer\n    part: st,lis2dh\n"
     "    bus: i2c0\n    address: 0x19\n    rate_hz: 5000", "10:14", "would run at 4681.14 Hz"),
    ("empty", None, "", "1:1", "empty"),
    # post-processing and outputs
    ("threshold-unreachable", "{above: 0.03}", "{below: 0}", "20:24", "the score can never pass it"),
    ("threshold-always", "{above: 0.03}", "{above: -1}", "20:24", "every score passes it"),
    ("hysteresis-equal", "  - threshold: {above: 0.03}", "  - hysteresis: {on: 0.03, off: 0.03}", "20:33",
     "hysteresis on and off are equal"),
    ("top-k-without-classes", "  - threshold:", "  - top_k: {k: 2}\n  - threshold:", "20:12", "top_k lists classes"),
    ("confidence-without-classes", "  - threshold:", "  - confidence: {min: 0.5}\n  - threshold:", "20:17",
     "confidence is a classifier's"),
    ("gate-output", "  - threshold:", "  - gate: {output: 30, above: 0.5}\n  - threshold:", "20:20",
     "gate reads output 30 of a model with 24 outputs"),
    ("steps-out-of-order", "  - threshold: {above: 0.03}\n  - debounce: {count: 3}\n",
     "  - debounce: {count: 3}\n  - threshold: {above: 0.03}\n", "18:1", "out of order"),
    ("per-class-without-classify", "{above: 0.03}", "{above: 0.03, classes: {a: 0.5}}", "20:43",
     "per-class thresholds need classify"),
    ("gpio-port-unknown", "led: led0", "gpio: {port: gpio7, pin: 3}", "24:18", "has no GPIO port 'gpio7'"),
    ("gpio-pin-too-high", "led: led0", "gpio: {port: gpio1, pin: 20}", "24:30",
     "gpio1 of nrf52840dk/nrf52840 has pins 0 to 15"),
    ("gpio-alias-unknown", "led: led0", "gpio: buzzer", "24:11", "has no alias 'buzzer'"),
    ("output-state-unknown", "led: led0", "led: {alias: led0, state: fault}", "24:31", "'fault' is not a state"),
]


def _write(tmp_path, text):
    sample = ANOMALY.parent
    shutil.copytree(sample / "model", tmp_path / "model")
    shutil.copytree(sample / "data", tmp_path / "data", ignore=shutil.ignore_patterns("train.csv", "val.csv"))
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_manifest(case, tmp_path, capsys):
    name, old, new, where, words = case
    if old is None:
        text = new
    else:
        assert old in BASE, f"{name}: the case's text is not in BASE"
        text = BASE.replace(old, new, 1)
    manifest = _write(tmp_path, text)
    out = tmp_path / "app"
    status = main(["new", str(manifest), "-o", str(out)])
    err = capsys.readouterr().err
    assert status == 2, err
    assert not out.exists(), "nothing may be written on bad input"
    lines = [line for line in err.splitlines() if words in line]
    assert lines, f"no error says {words!r}:\n{err}"
    m = re.search(r"zgen: (\S+?):(\d+):(\d+): (.*); (.+)", lines[0])
    assert m, f"no FILE:LINE:COL: what; fix in:\n{err}"
    if where is not None:
        file = m.group(1)
        expect_file = "test.csv" if name.startswith("csv-") else "bad.yaml"
        assert file.endswith(expect_file), err
        assert f"{m.group(2)}:{m.group(3)}" == where, err
    assert words in err, err
    assert len(m.group(5)) > 5, "the fix must say something"


def test_typo_is_reported_once_not_also_as_missing(tmp_path, capsys):
    manifest = _write(tmp_path, BASE.replace("sensors:\n", "sensor:\n"))
    assert main(["new", str(manifest), "-o", str(tmp_path / "app")]) == 2
    err = capsys.readouterr().err
    assert "missing" not in err and "bad.yaml:4:1: unknown key 'sensor'" in err


def test_all_schema_errors_are_reported_at_once(tmp_path, capsys):
    text = BASE.replace("length: 128", "length: '128'").replace("rate_hz: 200", "rate_hz: -1")
    manifest = _write(tmp_path, text)
    assert main(["new", str(manifest), "-o", str(tmp_path / "app")]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml:10:14:" in err and "bad.yaml:11:18:" in err


def test_all_semantic_errors_are_reported_at_once(tmp_path, capsys):
    text = BASE.replace("stride: 64", "stride: 200").replace("bus: i2c0", "bus: i2c7")
    manifest = _write(tmp_path, text)
    assert main(["new", str(manifest), "-o", str(tmp_path / "app")]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml:8:10:" in err and "bad.yaml:11:31:" in err


CSV_CASES = [
    ("bad-number", "accel_x,accel_y,accel_z\n0.1,0.2,9.8\n0.1,abc,9.8\n", "3:5", "'abc', not a number"),
    ("empty-cell", "accel_x,accel_y,accel_z\n0.1,0.2,9.8\n0.1,0.2,\n", "3:9", "an empty cell"),
    ("no-header", "", "1:1", "no header row"),
    ("header-only", "accel_x,accel_y,accel_z\n", "2:1", "no data rows"),
    ("nan", "accel_x,accel_y,accel_z\n0.1,nan,9.8\n", "2:5", "not a number"),
]


@pytest.mark.parametrize("case", CSV_CASES, ids=[c[0] for c in CSV_CASES])
def test_bad_csv(case, tmp_path, capsys):
    name, csv_text, where, words = case
    manifest = _write(tmp_path, BASE)
    (tmp_path / "data" / "test.csv").write_text(csv_text)
    status = main(["new", str(manifest), "-o", str(tmp_path / "app")])
    err = capsys.readouterr().err
    assert status == 2 and not (tmp_path / "app").exists()
    assert f"test.csv:{where}: " in err, err
    assert words in err, err


def test_too_little_data_for_one_window(tmp_path, capsys):
    manifest = _write(tmp_path, BASE)
    (tmp_path / "data" / "test.csv").write_text("accel_x,accel_y,accel_z\n" + "0.1,0.2,9.8\n" * 10)
    assert main(["new", str(manifest), "-o", str(tmp_path / "app")]) == 2
    assert "10 samples is less than one decision needs (128)" in capsys.readouterr().err


def test_missing_manifest_file(tmp_path, capsys):
    assert main(["new", str(tmp_path / "nope.yaml")]) == 2
    assert "no such manifest file" in capsys.readouterr().err


def test_unknown_board_override(tmp_path, capsys):
    manifest = _write(tmp_path, BASE)
    assert main(["new", str(manifest), "--board", "qemu_cortex_m4", "-o", str(tmp_path / "app")]) == 2
    err = capsys.readouterr().err
    assert "--board: board 'qemu_cortex_m4' is not in the catalogue; did you mean 'qemu_cortex_m3'?" in err
