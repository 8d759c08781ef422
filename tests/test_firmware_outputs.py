"""Real firmware with every kind of output: LEDs by state, a GPIO pin by port with a pulse per
event, and the callback; and samples/fall, which has them all. On native_sim and QEMU the pins live on zgen's GPIO emulator and each
action line carries the level read back from it; in Renode (nrf52840dk/nrf52840) they are the
nRF52840's GPIO. The firmware's lines must be zgen simulate's, and the callback file zgen starts
must be called once per event, in order.

Slow: -m firmware. Skipped with the reason where no workspace or simulator exists."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import ANOMALY, FALL
from test_firmware import _skip_without_tools
from test_outputs import OUTPUTS
from zgen.cli import main

pytestmark = pytest.mark.firmware

ROOT = Path(os.environ.get("ZGEN_FIRMWARE_TEST_DIR", Path.home() / ".cache" / "zgen" / "firmware-tests"))
APP = ROOT / "outputs"
BOARD = {"native_sim": None, "qemu": None, "renode": "nrf52840dk/nrf52840"}


@pytest.fixture(scope="module")
def app(firmware_workspace):
    src = ROOT / "outputs-manifest"
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(ANOMALY.parent, src, ignore=shutil.ignore_patterns("train.csv", "val.csv", "__pycache__"))
    manifest = src / "anomaly.yaml"
    manifest.write_text(re.sub(r"outputs:\n(  - .*\n)+", OUTPUTS, manifest.read_text())
                        .replace("name: motor_anomaly", "name: motor_outputs"))
    assert main(["new", str(manifest), "-o", str(APP), "--force"]) == 0
    return APP


@pytest.fixture(scope="module")
def fall_app(firmware_workspace):
    out = ROOT / "fall"
    assert main(["new", str(FALL), "-o", str(out), "--force"]) == 0
    return out


@pytest.mark.parametrize("sim", ["native_sim", "qemu", "renode"])
def test_fall_sample_as_simulated(fall_app, sim):
    """The fall sample's falls, LED, buzzer pulses and callback on each simulator (in Renode the
    recording goes through Renode's LIS2DW12 and Zephyr's driver)."""
    from zgen.testing.session import run_test

    _skip_without_tools(sim)
    out = run_test(fall_app, sim, board=BOARD[sim], say=lambda s: None, timeout=900)
    assert out.comparison.equal, out.comparison.diff
    assert out.passed and not out.build.warnings, out.problems
    falls = [line for line in out.run.lines if line.endswith("event=fall")]
    assert len(falls) == 7
    assert sum("out=zgen-out-alarm pulse_ms=1000 level=1" in line for line in out.run.lines) == 7
    assert len(re.findall(r"zgen_on_event: t=\d+ state=fall", out.run.output)) == 7


@pytest.mark.parametrize("sim", ["native_sim", "qemu", "renode"])
def test_outputs_act_as_simulated(app, sim):
    from zgen.testing.session import run_test

    _skip_without_tools(sim)
    out = run_test(app, sim, board=BOARD[sim], say=lambda s: None, timeout=900)
    assert out.comparison.equal, out.comparison.diff
    assert out.run.finished or sim == "renode", out.problems
    assert out.passed, out.problems
    assert not out.build.warnings
    acts = [line for line in out.run.lines if " out=" in line]
    assert {a.split(" out=")[1].split()[0] for a in acts} == {"led0", "led1", "zgen-out-alarm", "callback"}
    # the user's callback (as zgen started it) ran once per event, right after its line
    events = [(m.group(1), m.group(2)) for m in re.finditer(r"zgen: t=(\d+) out=callback state=(\w+)",
                                                               out.run.output)]
    calls = [(m.group(1), m.group(2)) for m in re.finditer(r"zgen_on_event: t=(\d+) state=(\w+)",
                                                             out.run.output)]
    assert events and calls == events
