"""TFLM's micro_speech, by outside authors (../shared/reference, read in place):
its yes/no classifier on zgen's front end, streamed as the firmware streams it,
gives the reference README's golden outputs; WAV input errors are clean."""
from __future__ import annotations

import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO
from zgen.cli import main
from zgen.manifest import load_manifest
from zgen.simulate import run

MANIFEST = REPO / "tests" / "manifests" / "micro_speech.yaml"
# ../shared/reference/README.md, "Golden checks": [silence, unknown, yes, no]
GOLDEN = {"yes": ("yes", 0.996), "no": ("no", 0.945), "silence": ("silence", 0.336), "noise": ("silence", 0.969)}


def _wav(reference: Path, name: str) -> Path:
    return reference / "data" / "tflm_micro_speech" / f"{name}_1000ms.wav"


@pytest.mark.parametrize("name", list(GOLDEN))
def test_each_test_wav_gives_the_reference_golden(reference, name):
    m = load_manifest(MANIFEST, data=_wav(reference, name))
    sim = run(m)
    # 1 s = 16000 samples: 49 frames of 480 samples every 320, exactly one decision.
    assert len(sim.windows) == 1
    w = sim.windows[0]
    label, prob = GOLDEN[name]
    assert f" class={label} " in w.line
    # The README gives the interpreter's outputs to 3 decimals; int8 outputs step by 1/256.
    assert abs(max(w.outputs) - prob) < 0.002, w.outputs
    assert w.t == 48 * 320 + 480 - 1
    assert len(w.features) == 49 * 40 and len(w.outputs) == 4


def _concatenate(reference: Path, names: list[str], out: Path) -> Path:
    frames = b""
    for n in names:
        with wave.open(str(_wav(reference, n))) as w:
            frames += w.readframes(w.getnframes())
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(frames)
    return out


def test_the_four_wavs_one_after_another(reference, tmp_path):
    """A stream: the classifier averaged over 3 decisions (every 100 ms) finds yes in the first
    second and no in the second, and the silence and noise seconds end in silence."""
    data = _concatenate(reference, ["yes", "no", "silence", "noise"], tmp_path / "four.wav")
    sim = run(load_manifest(MANIFEST, data=data))
    events = [(w.t, w.event) for w in sim.windows if w.event]
    words = [(t, e) for t, e in events if e in ("yes", "no")]
    assert [e for _, e in words] == ["yes", "no"], events
    (yes_t, _), (no_t, _) = words
    # A word is decided while its second is in the model's 1 s view.
    assert 15839 <= yes_t < 32000 and 16000 <= no_t < 48000, events
    # Between and after the words the state falls below the 0.7 minimum confidence (none) or
    # to silence: never another keyword.
    assert all(e in ("silence", "none") for t, e in events if (t, e) not in words), events
    assert sim.windows[-1].line.split(" state=")[1].split()[0] in ("silence", "none")


def test_labels_yes_and_no_are_kept_as_written(reference, tmp_path):
    text = MANIFEST.read_text().replace("../../../shared/reference", str(reference))
    (tmp_path / "m.yaml").write_text(text.replace("[silence, unknown, yes, no]", "[silence, unknown, yes, no]"))
    m = load_manifest(tmp_path / "m.yaml")
    assert m.decision.labels == ("silence", "unknown", "yes", "no")


def _bad_wav(path: Path, channels=1, bits=16, rate=16000, tag=1, truncate=False) -> Path:
    data = np.zeros(16000 * channels, np.int16).tobytes() if bits == 16 else bytes(16000 * channels)
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * channels * bits // 8, channels * bits // 8, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(data)) + data
    blob = b"RIFF" + struct.pack("<I", len(body)) + body
    path.write_bytes(blob[:30] if truncate else blob)
    return path


@pytest.mark.parametrize("kw,words", [
    ({"channels": 2}, "2 channels, not mono"),
    ({"bits": 8}, "8-bit samples, not 16-bit"),
    ({"tag": 3, "bits": 32}, "32-bit float samples, not PCM"),
    ({"rate": 8000}, "8000 Hz, but the microphone's rate_hz is 16000"),
    ({"truncate": True}, "no 'fmt ' or 'data' chunk"),
])
def test_a_wav_zgen_cannot_replay_is_a_clean_error(reference, tmp_path, capsys, kw, words):
    bad = _bad_wav(tmp_path / "bad.wav", **kw)
    assert main(["simulate", str(MANIFEST), "--data", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.wav: the WAV file has " in err and words in err and "sox" in err, err
    assert "Traceback" not in err


def test_a_csv_named_wav_and_a_wav_for_an_accelerometer(tmp_path, capsys):
    from conftest import ANOMALY

    not_wav = tmp_path / "x.wav"
    not_wav.write_text("mic\n1\n2\n")
    assert main(["simulate", str(MANIFEST), "--data", str(not_wav)]) == 2
    assert "not a WAV file" in capsys.readouterr().err
    wav = _bad_wav(tmp_path / "ok.wav")
    assert main(["simulate", str(ANOMALY), "--data", str(wav)]) == 2
    assert "sensors are not one microphone" in capsys.readouterr().err


@pytest.mark.parametrize("board,ok", [("nrf52840dk/nrf52840", True), ("arduino_nano_33_ble/nrf52840/sense", True),
                                      ("nucleo_f446re", False), ("qemu_cortex_m3", True)])
def test_microphone_boards(reference, tmp_path, capsys, board, ok):
    """A microphone needs the board's own DMIC (the Nano 33 BLE Sense's MP34DT05), a PDM peripheral
    zgen wires an external microphone to (the nRF52840 DK's, as Zephyr's dmic sample), or a
    simulated board (the replay microphone)."""
    text = MICRO_SPEECH_TEXT(reference).replace("board: qemu_cortex_m3", f"board: {board}")
    (tmp_path / "m.yaml").write_text(text)
    app = tmp_path / "app"
    status = main(["new", str(tmp_path / "m.yaml"), "-o", str(app)])
    err = capsys.readouterr().err
    if ok:
        assert status == 0, err
        overlay = app / "boards" / (board.replace("/", "_") + ".overlay")
        alias = "zgen-mic = &zgen_replay_mic;" if board == "qemu_cortex_m3" else \
            ("zgen-mic = &pdm0;" if board.startswith("nrf52840dk") else "zgen-mic = &dmic_dev;")
        assert alias in overlay.read_text()
    else:
        assert status == 2 and not app.exists()
        assert f"m.yaml:9:8: board {board} has no microphone" in err and "arduino_nano_33_ble/nrf52840/sense" in err


def MICRO_SPEECH_TEXT(reference) -> str:
    return MANIFEST.read_text().replace("../../../shared/reference", str(reference))


def test_a_microphone_is_no_part_on_a_bus(reference, tmp_path, capsys):
    text = MICRO_SPEECH_TEXT(reference).replace("mic: {kind: microphone, rate_hz: 16000}",
                                                "mic: {kind: microphone, rate_hz: 16000, part: \"st,lis2dw12\", bus: i2c0, address: 25}")
    (tmp_path / "m.yaml").write_text(text)
    assert main(["check", str(tmp_path / "m.yaml")]) == 2
    err = capsys.readouterr().err
    assert "m.yaml:9:8: sensor 'mic': a microphone is read through the board's DMIC" in err


def test_microphone_rate_and_frames(reference, tmp_path, capsys):
    text = MICRO_SPEECH_TEXT(reference)
    bad = text.replace("rate_hz: 16000}", "rate_hz: 4000}")
    (tmp_path / "m.yaml").write_text(bad)
    assert main(["check", str(tmp_path / "m.yaml")]) == 2
    err = capsys.readouterr().err
    assert "m.yaml:9:36: microphone rate 4000 Hz" in err and "from 8000 to 48000 Hz" in err
    assert "upper_hz 7500 is above half the 4000 Hz sampling rate; set upper_hz to at most 2000" in err
    bad = text.replace("frames: {length_ms: 30, hop_ms: 20}", "frames: {length_ms: 30.01, hop_ms: 20}")
    (tmp_path / "m.yaml").write_text(bad)
    assert main(["check", str(tmp_path / "m.yaml")]) == 2
    err = capsys.readouterr().err
    assert "m.yaml:10:21: frames.length_ms = 30.01 ms is 480.16 samples at 16000 Hz" in err and "0.0625 ms" in err
    assert err.count("m.yaml") == 1  # no second error that only repeats it
