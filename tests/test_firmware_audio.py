"""Real firmware for streams: TFLM's micro_speech (over the four reference WAVs
one after another, played through the zgen replay microphone in blocks at the
real rate) and the keyword and vibration samples, built with west and run on
native_sim, qemu_cortex_m3 and mps2/an521/cpu1 (Cortex-M33 with DSP: TFLM's
CMSIS-NN kernels), print exactly `zgen simulate`'s event lines.

Needs a Zephyr 3.7 workspace; skipped with the reason otherwise (-m firmware)."""
from __future__ import annotations

import shutil

import wave
from pathlib import Path

import pytest

from conftest import REPO
from test_firmware import APP, _skip_without_tools
from zgen.cli import main

pytestmark = pytest.mark.firmware

RUNS = [("native_sim", None), ("qemu", "qemu_cortex_m3"), ("qemu", "mps2/an521/cpu1")]
IDS = [b or s for s, b in RUNS]


@pytest.fixture(scope="module")
def micro_speech_app(firmware_workspace):
    from conftest import REFERENCE

    if not REFERENCE.is_dir():
        pytest.skip(f"no reference material at {REFERENCE}")
    folder = APP.parent / "micro-speech-data"
    folder.mkdir(parents=True, exist_ok=True)
    frames = b""
    for name in ("yes", "no", "silence", "noise"):  # read in place, joined into the test recording
        with wave.open(str(REFERENCE / "data/tflm_micro_speech" / f"{name}_1000ms.wav")) as w:
            frames += w.readframes(w.getnframes())
    with wave.open(str(folder / "four.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(frames)
    text = (REPO / "tests/manifests/micro_speech.yaml").read_text()
    text = text.replace("../../../shared/reference", str(REFERENCE)).replace(
        str(REFERENCE / "data/tflm_micro_speech/yes_1000ms.wav"), "four.wav")
    (folder / "micro_speech.yaml").write_text(text)
    out = APP.parent / "micro_speech"
    assert main(["new", str(folder / "micro_speech.yaml"), "-o", str(out), "--force"]) == 0
    return out


def _run(app: Path, sim: str, board: str | None):
    from zgen.testing.session import run_test

    _skip_without_tools(sim)
    out = run_test(app, sim, board=board, say=lambda s: None, timeout=1800)
    assert out.comparison.equal, out.comparison.diff
    assert out.run.finished and out.passed, out.problems
    assert not out.build.warnings, out.build.warnings
    used, size = out.arena
    assert used <= size
    return out


@pytest.mark.parametrize("sim,board", RUNS, ids=IDS)
def test_micro_speech_streams_on_the_target(micro_speech_app, sim, board):
    out = _run(micro_speech_app, sim, board)
    events = [line.split("event=")[1] for line in out.run.lines if "event=" in line]
    assert [e for e in events if e in ("yes", "no")] == ["yes", "no"], out.run.lines
    if board == "mps2/an521/cpu1":
        config = (out.build.build_dir / "zephyr" / ".config").read_text()
        assert "CONFIG_TENSORFLOW_LITE_MICRO_CMSIS_NN_KERNELS=y" in config


# The QEMU boards' flash holds only part of each sample's recording as replay data (keyword: 37 s
# of 16 kHz PCM, 1.2 MB; vibration: 80 s of 800 Hz x 3 axes, 384 KB; qemu_cortex_m3 has 256 KB):
# there they replay the first seconds, enough for a yes and a no, and for the first fault episode
# (18-30 s) and its end.
EXCERPT_S = {"keyword": 5, "vibration": 33}


def _excerpt(name: str, seconds: int) -> Path:
    """The sample's manifest over the first `seconds` of its test recording."""
    folder = APP.parent / f"{name}-first{seconds}s"
    folder.mkdir(parents=True, exist_ok=True)
    sample = REPO / "samples" / name
    text = (sample / f"{name}.yaml").read_text().split("\ntrain:")[0]
    # The model beside the excerpt's manifest (a manifest reads nothing outside its folder).
    shutil.copytree(sample / "model", folder / "model", dirs_exist_ok=True)
    if name == "keyword":
        with wave.open(str(sample / "data/test.wav")) as w:
            frames = w.readframes(seconds * w.getframerate())
        with wave.open(str(folder / "test.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(16000)
            w.writeframes(frames)
        data = "test.wav"
    else:
        lines = (sample / "data/test.csv").read_text().splitlines(keepends=True)
        (folder / "test.csv").write_text("".join(lines[:1 + seconds * 800]))
        data = "test.csv"
    text = text.split("\ntest:")[0] + f"\ntest:\n  data: {data}\n"
    (folder / f"{name}.yaml").write_text(text)
    return folder / f"{name}.yaml"


def _sample_app(name: str, board: str | None) -> Path:
    if board is not None:
        seconds = EXCERPT_S[name]
        manifest, out = _excerpt(name, seconds), APP.parent / "samples" / f"{name}-{seconds}s"
    else:
        manifest, out = REPO / "samples" / name / f"{name}.yaml", APP.parent / "samples" / name
    assert main(["new", str(manifest), "-o", str(out), "--force"]) == 0
    return out


# The plain test run keeps the keyword sample on native_sim (a microphone app, the quickest build).
SAMPLE_RUNS = [pytest.param(sample, sim, board, id=f"{board or sim}-{sample}",
                            marks=[pytest.mark.smoke] if (sim, sample) == ("native_sim", "keyword") else [])
               for sim, board in RUNS for sample in ("keyword", "vibration")]


@pytest.mark.parametrize("sample,sim,board", SAMPLE_RUNS)
def test_stream_and_spectral_samples_on_the_target(firmware_workspace, sample, sim, board):
    """native_sim runs each sample's whole recording, the QEMU boards its first seconds."""
    out = _run(_sample_app(sample, board), sim, board)
    events = [line.split("event=")[1] for line in out.run.lines if "event=" in line]
    if sample == "vibration":
        assert events == ["anomaly", "normal"] * (3 if board is None else 1), events
    elif board is not None:
        assert [e for e in events if e in ("yes", "no")] == ["yes", "no"], out.run.lines
