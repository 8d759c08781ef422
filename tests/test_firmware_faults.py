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


def test_an_arena_too_small_stops_with_the_size_needed_and_the_fix(firmware_workspace):
    """AllocateTensors() failing (an arena set below the model's need in prj.conf) ends in one
    error line naming the arena, what zgen's plan needs and the fix, and native_sim exits: no
    silent hang."""
    from zgen import boards
    from zgen.testing.base import get_runner

    _skip_without_tools("native_sim")
    app = APP.parent / "small-arena"
    assert main(["new", str(ANOMALY), "-o", str(app), "--force"]) == 0
    planned = int(next(l for l in (app / "Kconfig").read_text().split("config ZGEN_ARENA_NEEDED")[1].splitlines()
                       if l.strip().startswith("default ") and " if " not in l).split()[1])
    base = get_runner("native_sim")

    class Small(base):
        def build_args(self):
            return [*super().build_args(), "-DCONFIG_ZGEN_ARENA_SIZE=512"]

    runner = Small(app, boards.get("native_sim"), firmware_workspace, build_dir=app / "build" / "small")
    runner.build(timeout=3600)
    result = runner.run(timeout=120)
    assert result.seconds < 60 and not result.finished
    assert result.lines[-1] == (f"zgen: error=allocate_tensors arena_size=512 needed={planned} "
                                f"fix=CONFIG_ZGEN_ARENA_SIZE>={planned} (prj.conf) or model.arena: auto")


MIC_FAULTS = """  faults:
    - {sample: 16100, read_errors: 2}
    - {sample: 32000, drop: 1000}
    - {sample: 56000, stall_ms: 400}
"""


@pytest.fixture(scope="module")
def faulty_mic_app(firmware_workspace):
    """The keyword sample over the first 5 s of its recording, with the replay microphone's faults:
    two failed block reads, 1000 samples dropped, a read held 400 ms (past the app's 8 blocks)."""
    from test_firmware_audio import _excerpt

    manifest = _excerpt("keyword", 5)
    text = manifest.read_text().split("  faults:")[0].rstrip("\n") + "\n"
    faulty = manifest.parent / "keyword_faults.yaml"
    faulty.write_text(text.replace("name: keyword_spotting", "name: keyword_faults") + MIC_FAULTS)
    out = APP.parent / "samples" / "keyword-faults"
    assert main(["new", str(faulty), "-o", str(out), "--force"]) == 0
    return out


@pytest.mark.parametrize("sim,board", [("native_sim", "native_sim"), ("qemu", "qemu_cortex_m3")])
def test_the_microphone_app_reports_faults_and_carries_on(faulty_mic_app, sim, board):
    from zgen.testing.session import run_test

    _skip_without_tools(sim)
    out = run_test(faulty_mic_app, sim, board=board, say=lambda s: None, timeout=900)
    assert out.comparison.equal, out.comparison.diff
    assert out.passed, out.problems
    lines = out.run.lines
    assert [l for l in lines if "read_error=" in l] == ["zgen: t=16000 read_error=-5"] * 2
    assert sum(" overrun=" in l for l in lines) >= 1
    assert lines[-1].startswith(f"zgen: end samples={80000 - 1640} ")
