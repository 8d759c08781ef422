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
    assert f"{bad}: " in err and words in err and "sox" in err, err
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
