"""Injected faults on real firmware: the anomaly sample with test.faults (3 failed reads, 50
dropped samples, a 40 ms stall) runs on native_sim and qemu_cortex_m3 through the replay sensor;
the firmware reports each fault in its event stream, carries on, and prints `zgen simulate`'s
lines (the stall's overrun line where the host predicts it, its count masked)."""
from __future__ import annotations

import pytest

from conftest import ANOMALY
from test_firmware import APP, _skip_without_tools
from zgen.cli import main

pytestmark = pytest.mark.firmware

FAULTS = """  faults:
    - {sample: 1000, read_errors: 3}
    - {sample: 2000, drop: 50}
    - {sample: 3000, stall_ms: 40}
"""


@pytest.fixture(scope="module")
def faulty_app(firmware_workspace):
    import shutil

    src = APP.parent / "faults-data"
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(ANOMALY.parent, src, ignore=shutil.ignore_patterns("train.csv", "val.csv", "__pycache__"))
    manifest = src / "anomaly.yaml"
    manifest.write_text(manifest.read_text() + FAULTS)
    out = APP.parent / "faults"
    assert main(["new", str(manifest), "-o", str(out), "--force"]) == 0
    return out


@pytest.mark.parametrize("sim,board", [("native_sim", "native_sim"), ("qemu", "qemu_cortex_m3")])
def test_the_firmware_reports_faults_and_carries_on(faulty_app, sim, board):
    from zgen.testing.session import run_test

    _skip_without_tools(sim)
    out = run_test(faulty_app, sim, board=board, say=lambda s: None, timeout=900)
    assert out.comparison.equal, out.comparison.diff
    assert out.passed, out.problems
    lines = out.run.lines
    assert sum("read_error=-5" in l for l in lines) == 3
    assert any(l.startswith("zgen: t=2947 overrun=") for l in lines)
    assert lines[-1].startswith("zgen: end samples=6347 ")
