"""Hostile and broken input, tried as a user (or a file from elsewhere) would give it.

Every bad manifest, CSV, WAV or model ends in one `FILE[:LINE:COL]: what; fix` line per problem and
exit status 2, at once, with nothing written; never a traceback. The three cases first seen by a
user (a NUL in the manifest, a YAML alias bomb, a CSV row with an extra cell) are pinned; then
hypothesis mutates valid files (derandomised: the same examples on every run) and asserts the same
of whatever comes out.
"""
from __future__ import annotations

import re
import shutil
import struct
import time
from pathlib import Path

import pytest

from conftest import ANOMALY, KEYWORD
from zgen.cli import main

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

FUZZ = settings(max_examples=150, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _run(argv, capsys) -> tuple[int, str]:
    """zgen's exit status and stderr; any exception escaping main() is the traceback a user sees."""
    capsys.readouterr()
    rc = main(argv)
    return rc, capsys.readouterr().err


def _one_line_per_problem(err: str, *names: str):
    lines = [l for l in err.splitlines() if l.strip()]
    assert lines, "no message"
    for line in lines:
        if line == "zgen: nothing was written":
            continue
        assert any(line.startswith(f"zgen: {name}") for name in names), line
        assert "; " in line, f"no fix in: {line}"
        assert "Traceback" not in line


@pytest.fixture
def anomaly(tmp_path) -> Path:
    dst = tmp_path / "anomaly"
    shutil.copytree(ANOMALY.parent, dst, ignore=shutil.ignore_patterns("train.csv", "val.csv", "__pycache__"))
    return dst / "anomaly.yaml"


# --- the three cases seen --------------------------------------------------------------------------

def test_a_nul_in_the_manifest_is_named_with_its_position(anomaly, tmp_path, capsys):
    text = anomaly.read_text()
    at = text.index("sensors:") + len("sensors:")
    anomaly.write_text(text[:at] + "\x00" + text[at:])
    line = text[:at].count("\n") + 1
    out = tmp_path / "app"
    rc, err = _run(["new", str(anomaly), "-o", str(out)], capsys)
    assert rc == 2
    assert f"{anomaly}:{line}:9: control character U+0000 (NUL)" in err
    _one_line_per_problem(err, str(anomaly))
    assert not out.exists()


def test_a_yaml_alias_bomb_is_refused_at_once(anomaly, capsys):
    # 9 lists of 9 aliases of the one before, nine deep: 9^10 values from 400 bytes.
    bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 10):
        p, c = chr(ord("a") + i - 1), chr(ord("a") + i)
        bomb.append(f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]")
    anomaly.write_text(anomaly.read_text() + "\nnotes:\n" + "".join(f"  {l}\n" for l in bomb))
    t0 = time.monotonic()
    rc, err = _run(["check", str(anomaly)], capsys)
    assert time.monotonic() - t0 < 5
    assert rc == 2 and "expands to more than 100000 values" in err
    _one_line_per_problem(err, str(anomaly))


def test_an_alias_that_does_not_nest_still_works(anomaly, capsys):
    text = anomaly.read_text().replace("columns: [accel_x, accel_y, accel_z]",
                                       "columns: &axes [accel_x, accel_y, accel_z]")
    anomaly.write_text(text + "x_axes: *axes\n")
    rc, err = _run(["check", str(anomaly)], capsys)
    assert "expands" not in err and "control" not in err
    assert "x_axes" in err  # an unknown key: the alias itself was read


def test_a_csv_row_with_an_extra_cell_is_refused(anomaly, tmp_path, capsys):
    csv = tmp_path / "extra.csv"
    csv.write_text("accel_x,accel_y,accel_z\n0,0,9.8\n0,0,9.8,1\n0,0\n")
    rc, err = _run(["simulate", str(anomaly), "--data", str(csv)], capsys)
    assert rc == 2
    assert f"{csv}:3:9: this row has 4 cells, the header has 3" in err
    csv.write_text("accel_x,accel_y,accel_z\n0,0,9.8\n0,0\n")
    rc, err = _run(["simulate", str(anomaly), "--data", str(csv)], capsys)
    assert rc == 2 and f"{csv}:3:4: this row has 2 cells, the header has 3" in err


def test_oversized_manifest_is_refused(anomaly, capsys):
    anomaly.write_text(anomaly.read_text() + "# " + "x" * (1 << 20) + "\n")
    rc, err = _run(["check", str(anomaly)], capsys)
    assert rc == 2 and "characters long" in err


# --- fuzzing ---------------------------------------------------------------------------------------

def _mutate(data, blob: bytes, alphabet: bytes) -> bytes:
    """A few random edits: replace, insert or delete bytes, or cut the file short."""
    b = bytearray(blob)
    for _ in range(data.draw(st.integers(1, 6))):
        op = data.draw(st.sampled_from(["replace", "insert", "delete", "truncate", "duplicate"]))
        if not b:
            break
        i = data.draw(st.integers(0, len(b) - 1))
        if op == "replace":
            b[i] = data.draw(st.sampled_from(alphabet))
        elif op == "insert":
            b[i:i] = bytes(data.draw(st.lists(st.sampled_from(alphabet), min_size=1, max_size=8)))
        elif op == "delete":
            del b[i:i + data.draw(st.integers(1, 16))]
        elif op == "truncate":
            del b[i:]
        else:
            j = data.draw(st.integers(i, min(len(b), i + 64)))
            b[j:j] = b[i:j]
    return bytes(b)


# Characters that matter to YAML and CSV, and some that never should appear.
TEXT = bytes(b":-[]{},&*!|>'\"#%@`\n\t ?0123456789.eE+abcxyz\x00\x01\x7f\xc3\xa9\xff")


def _zgen_answers_cleanly(argv, names, capsys, ok=(0, 1)):
    rc, err = _run(argv, capsys)
    if rc == 2:
        _one_line_per_problem(err, *names)
    else:
        assert rc in ok, (rc, err)


@FUZZ
@given(data=st.data())
def test_fuzzed_manifests_get_clean_errors(anomaly, data, capsys):
    original = ANOMALY.read_bytes()
    anomaly.write_bytes(_mutate(data, original, TEXT))
    _zgen_answers_cleanly(["check", str(anomaly)], [str(anomaly.parent)], capsys)


@FUZZ
@given(data=st.data())
def test_fuzzed_csv_recordings_get_clean_errors(anomaly, tmp_path, data, capsys):
    good = "accel_x,accel_y,accel_z\n" + "".join(f"{i % 7 * 0.01:.3f},-0.02,{9.8 + i % 3 * 0.1:.2f}\n"
                                                 for i in range(300))
    csv = tmp_path / "fuzz.csv"
    csv.write_bytes(_mutate(data, good.encode(), TEXT))
    _zgen_answers_cleanly(["simulate", str(anomaly), "--data", str(csv)], [str(csv)], capsys)


def _wav(samples: bytes, rate=16000, channels=1, bits=16, fmt=1) -> bytes:
    body = struct.pack("<HHIIHH", fmt, channels, rate, rate * channels * bits // 8, channels * bits // 8, bits)
    chunks = b"fmt " + struct.pack("<I", len(body)) + body + b"data" + struct.pack("<I", len(samples)) + samples
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


@FUZZ
@given(data=st.data())
def test_fuzzed_wavs_get_clean_errors(tmp_path, data, capsys):
    src = KEYWORD.parent
    dst = tmp_path / "keyword"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("train", "__pycache__", "*.wav"), dirs_exist_ok=True)
    good = _wav(bytes(range(256)) * 150)  # 1.2 s of 16 kHz audio: one decision and a bit
    wav = tmp_path / "fuzz.wav"
    # Headers matter most: mutate the first 64 bytes more often than the samples.
    head, tail = good[:64], good[64:]
    wav.write_bytes(_mutate(data, head, bytes(range(256))) + (tail if data.draw(st.booleans()) else
                                                              _mutate(data, tail, bytes(range(256)))))
    _zgen_answers_cleanly(["simulate", str(dst / "keyword.yaml"), "--data", str(wav)], [str(wav)], capsys)


@FUZZ
@given(data=st.data())
def test_fuzzed_models_get_clean_errors(anomaly, data, capsys):
    """Random bytes replaced, inserted, deleted or cut in the model (measured: about half such
    files get past zgen's reader; of those, TFLM rejects some and crashes on a few)."""
    model = anomaly.parent / "model" / "anomaly.tflite"
    original = (ANOMALY.parent / "model" / "anomaly.tflite").read_bytes()
    model.write_bytes(_mutate(data, original, bytes(range(256))))
    # check reads the model; simulate also runs it (TFLM measures it in a child process first: a
    # model it crashes on is an error, never a crash of zgen).
    command = data.draw(st.sampled_from(["check", "simulate"]))
    _zgen_answers_cleanly([command, str(anomaly)], [str(model), str(anomaly)], capsys)


def test_a_manual_arena_below_the_models_need_is_refused_before_any_build(anomaly, tmp_path, capsys):
    # What `arena: auto` plans for the board: the smallest size TFLM's AllocateTensors() takes.
    planned = int(re.search(r"arena_size=(\d+)", _start(anomaly, capsys)).group(1))
    text = anomaly.read_text()
    line = text[:text.index("arena: auto")].count("\n") + 1
    anomaly.write_text(text.replace("arena: auto", f"arena: {planned - 16}"))
    out = tmp_path / "app"
    rc, err = _run(["new", str(anomaly), "-o", str(out)], capsys)
    assert rc == 2 and not out.exists()
    assert f"{anomaly}:{line}:10: arena: {planned - 16} is below" in err and f"at least {planned}" in err
    anomaly.write_text(text.replace("arena: auto", f"arena: {planned}"))
    assert _run(["new", str(anomaly), "-o", str(out)], capsys)[0] == 0


def _start(manifest, capsys) -> str:
    capsys.readouterr()
    assert main(["simulate", str(manifest)]) == 0
    return capsys.readouterr().out.splitlines()[0]


# --- paths ---------------------------------------------------------------------------------------

def test_manifest_paths_stay_in_the_manifests_folder_unless_allowed(anomaly, tmp_path, capsys):
    """A manifest from elsewhere must not make zgen read a file beyond its folder (and embed it
    in an app): a relative path up, an absolute path, a symlink out are refused; --allow-path
    lets the user name a folder explicitly."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(anomaly.parent / "model/anomaly.tflite", elsewhere / "secret.tflite")
    shutil.copy(anomaly.parent / "data/test.csv", elsewhere / "secret.csv")
    text = anomaly.read_text()
    out = tmp_path / "app"
    cases = {
        "relative": text.replace("file: model/anomaly.tflite", "file: ../elsewhere/secret.tflite"),
        "absolute": text.replace("data: data/test.csv", f"data: {elsewhere / 'secret.csv'}"),
    }
    for name, changed in cases.items():
        anomaly.write_text(changed)
        rc, err = _run(["new", str(anomaly), "-o", str(out)], capsys)
        assert rc == 2 and "is outside the manifest's folder" in err and "--allow-path" in err, name
        _one_line_per_problem(err, str(anomaly))
        assert not out.exists()
        # Allowed explicitly, it works.
        rc, err = _run(["check", str(anomaly), "--allow-path", str(elsewhere)], capsys)
        assert "outside" not in err, (name, err)
    anomaly.write_text(text)
    (anomaly.parent / "data/test.csv").unlink()
    (anomaly.parent / "data/test.csv").symlink_to(elsewhere / "secret.csv")
    rc, err = _run(["simulate", str(anomaly)], capsys)
    assert rc == 2 and "is outside the manifest's folder" in err
    # Given on the command line, a file anywhere is the user's choice.
    rc, _ = _run(["simulate", str(anomaly), "--data", str(elsewhere / "secret.csv")], capsys)
    assert rc == 0


def test_train_writes_no_model_outside_the_manifests_folder(anomaly, tmp_path, capsys):
    anomaly.write_text(anomaly.read_text().replace("file: model/anomaly.tflite", "file: ../../escaped.tflite"))
    rc, err = _run(["train", str(anomaly)], capsys)
    assert rc == 2 and "zgen train would write it there" in err
    assert not (tmp_path.parent / "escaped.tflite").exists()
