"""Real firmware for streams: TFLM's micro_speech (over the four reference WAVs
one after another, played through the zgen replay microphone in blocks at the
real rate) and the keyword and vibration samples, built with west and run on
native_sim, qemu_cortex_m3 and mps2/an521/cpu1 (Cortex-M33 with DSP: TFLM's
CMSIS-NN kernels), print exactly `zgen simulate`'s event lines.

Needs a Zephyr 3.7 workspace; skipped with the reason otherwise (-m firmware)."""
from __future__ import annotations

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


@pytest.fixture(scope="module")
def sample_apps(firmware_workspace):
    out = {}
    for name in ("keyword", "vibration"):
        manifest = REPO / "samples" / name / f"{name}.yaml"
        if not manifest.is_file():
            continue
        out[name] = APP.parent / "samples" / name
        assert main(["new", str(manifest), "-o", str(out[name]), "--force"]) == 0
    return out


@pytest.mark.parametrize("sample", ["keyword", "vibration"])
@pytest.mark.parametrize("sim,board", RUNS, ids=IDS)
def test_stream_and_spectral_samples_on_the_target(sample_apps, sample, sim, board):
    if sample not in sample_apps:
        pytest.skip(f"samples/{sample} has no manifest")
    _run(sample_apps[sample], sim, board)
