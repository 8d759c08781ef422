"""test.faults: the replay sensor's injected read errors, dropped samples and stalls, as `zgen
simulate` predicts them. Oracle: the same manifest simulated without faults over a CSV with the
lost samples' rows deleted (the decisions must be those), with one read_error line per failed read
and one overrun line per stall at the sample count where they happen."""
from __future__ import annotations

import re
import shutil

import pytest

from conftest import ANOMALY, KEYWORD
from zgen.cli import main

FAULTS = """  faults:
    - {sample: 1000, read_errors: 3}
    - {sample: 2000, drop: 50}
    - {sample: 3000, stall_ms: 40}
"""


@pytest.fixture
def sample(tmp_path):
    dst = tmp_path / "s"
    shutil.copytree(ANOMALY.parent, dst, ignore=shutil.ignore_patterns("train.csv", "val.csv", "__pycache__"))
    return dst / "anomaly.yaml"


def _lines(argv, capsys) -> list[str]:
    capsys.readouterr()
    assert main(argv) == 0
    return capsys.readouterr().out.splitlines()


def test_faults_are_predicted_where_the_firmware_meets_them(sample, capsys):
    clean = _lines(["simulate", str(sample)], capsys)
    sample.write_text(sample.read_text() + FAULTS)
    faulty = _lines(["simulate", str(sample)], capsys)
    # The oracle: the recording without the 3 failed and 50 dropped samples, no faults.
    rows = (sample.parent / "data/test.csv").read_text().splitlines(keepends=True)
    header, data = rows[0], rows[1:]
    kept = data[:1000] + data[1003:2000] + data[2050:]
    (sample.parent / "data/cut.csv").write_text(header + "".join(kept))
    sample.write_text(sample.read_text().replace(FAULTS, ""))
    cut = _lines(["simulate", str(sample), "--data", str(sample.parent / "data/cut.csv")], capsys)
    decisions = [l for l in faulty if " win=" in l]
    assert decisions == [l for l in cut if " win=" in l]
    assert decisions != [l for l in clean if " win=" in l]  # the faults changed what the model saw
    # Read errors at the 1000th sample pushed; the stall before recording sample 3000, which is
    # the 2947th pushed (3 lost, 50 dropped), in order among the decisions.
    faults = [(i, l) for i, l in enumerate(faulty) if "read_error=" in l or "overrun=" in l]
    assert [l for _, l in faults][:3] == ["zgen: t=1000 read_error=-5"] * 3
    assert re.fullmatch(r"zgen: t=2947 overrun=\d+", faults[3][1]) and len(faults) == 4
    before = [int(re.search(r"t=(\d+)", l).group(1)) for l in faulty[:faults[3][0]] if " win=" in l]
    after = [int(re.search(r"t=(\d+)", l).group(1)) for l in faulty[faults[3][0]:] if " win=" in l]
    assert max(before) < 2947 <= min(after)
    assert faulty[-1].startswith(f"zgen: end samples={6400 - 53} ") and " read_errors=3 " in faulty[-1]


@pytest.mark.parametrize("faults,message", [
    ("    - {sample: 6399, read_errors: 2}\n", "reaches past the recording's 6400 samples"),
    ("    - {sample: 100, drop: 10}\n    - {sample: 105, read_errors: 1}\n", "overlaps test.faults[0]"),
    ("    - {sample: 100, stall_ms: 5}\n", "under two sample periods at 200 Hz"),
    ("    - {sample: 100, drop: 10, stall_ms: 50}\n", "test.faults[0]"),
])
def test_bad_faults_are_errors(sample, capsys, faults, message):
    sample.write_text(sample.read_text() + "  faults:\n" + faults)
    capsys.readouterr()
    assert main(["check", str(sample)]) == 2
    err = capsys.readouterr().err
    assert message in err and f"{sample}:" in err


MIC_FAULTS = """  faults:
    - {sample: 96100, read_errors: 2}
    - {sample: 200000, drop: 1000}
    - {sample: 400000, stall_ms: 400}
"""


@pytest.fixture
def keyword(tmp_path):
    dst = tmp_path / "k"
    shutil.copytree(KEYWORD.parent, dst, ignore=shutil.ignore_patterns("train", "__pycache__"))
    return dst / "keyword.yaml"


def test_the_replay_microphone_faults_blocks(keyword, capsys):
    """DMIC blocks of one hop (320 samples at 16 kHz): the read reaching sample 96100 and the next
    fail (96000-96639 lost), 1000 samples from 200000 never arrive, the read reaching 400000 is
    held 400 ms (longer than the app's 8 blocks, 160 ms: an overrun line before that block).
    Oracle: the WAV with those samples cut, simulated without faults."""
    import wave

    import numpy as np

    keyword.write_text(keyword.read_text() + MIC_FAULTS)
    faulty = _lines(["simulate", str(keyword)], capsys)
    with wave.open(str(keyword.parent / "data/test.wav")) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    cut = np.concatenate([pcm[:96000], pcm[96640:200000], pcm[201000:]])
    with wave.open(str(keyword.parent / "data/cut.wav"), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(cut.astype("<i2").tobytes())
    keyword.write_text(keyword.read_text().replace(MIC_FAULTS, ""))
    oracle = _lines(["simulate", str(keyword), "--data", str(keyword.parent / "data/cut.wav")], capsys)
    assert [l for l in faulty if " win=" in l] == [l for l in oracle if " win=" in l]
    faults = [l for l in faulty if "read_error=" in l or "overrun=" in l]
    assert faults[:2] == ["zgen: t=96000 read_error=-5"] * 2  # t: the lost block's first sample, as pushed
    # the held block starts at cut sample 398080 (the one holding PCM sample 400000 = cut 398360)
    assert re.fullmatch(r"zgen: t=398080 overrun=\d+", faults[2]) and len(faults) == 3
    at = faulty.index(faults[2])
    assert int(re.search(r"t=(\d+)", faulty[at + 1]).group(1)) >= 398080
    assert faulty[-1].startswith(f"zgen: end samples={len(pcm) - 1640} ") and " read_errors=2 " in faulty[-1]


@pytest.mark.parametrize("faults,message", [
    ("    - {sample: 1000, stall_ms: 150}\n", "absorbed by the 8 DMIC blocks the app holds"),
    ("    - {sample: 1000, read_errors: 2}\n    - {sample: 1500, drop: 10}\n", "overlaps test.faults[0]"),
])
def test_bad_microphone_faults_are_errors(keyword, capsys, faults, message):
    keyword.write_text(keyword.read_text() + "  faults:\n" + faults)
    capsys.readouterr()
    assert main(["check", str(keyword)]) == 2
    assert message in capsys.readouterr().err
