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


def test_microphone_manifests_cannot_declare_faults_yet(tmp_path, capsys):
    dst = tmp_path / "k"
    shutil.copytree(KEYWORD.parent, dst, ignore=shutil.ignore_patterns("train", "__pycache__"))
    manifest = dst / "keyword.yaml"
    manifest.write_text(manifest.read_text() + "  faults:\n    - {sample: 100, drop: 10}\n")
    capsys.readouterr()
    assert main(["check", str(manifest)]) == 2
    assert "the replay microphone does not inject them yet" in capsys.readouterr().err
