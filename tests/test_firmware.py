"""Real firmware: the anomaly sample built with west and run on native_sim,
QEMU (qemu_cortex_m3) and Renode (nrf52840dk/nrf52840, the app's robot suite)
prints exactly `zgen simulate`'s event lines.

Needs a Zephyr 3.7 workspace (ZEPHYR_BASE, the west workspace around the
current directory, or ~/zephyrproject) with the tflite-micro module, west, and
the toolchains; skipped with the reason otherwise. Slow: select with -m firmware,
deselect with -m 'not firmware'."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import ANOMALY
from zgen.cli import main
from zgen.workspace import find_workspace

pytestmark = pytest.mark.firmware

# One fixed location for every checkout, so rebuilds are incremental and ccache
# hits (its keys include the build folder's path): minutes become seconds.
APP = Path(os.environ.get("ZGEN_FIRMWARE_TEST_DIR", Path.home() / ".cache" / "zgen" / "firmware-tests")) / "motor"
NEEDS = {"native_sim": ["gcc"], "qemu": ["qemu-system-arm", "arm-none-eabi-gcc"], "renode": ["arm-none-eabi-gcc"]}
BOARD = {"native_sim": None, "qemu": None, "renode": "nrf52840dk/nrf52840"}


def _skip_without_tools(sim: str) -> None:
    from zgen.testing.renode import find_renode_test

    missing = [t for t in NEEDS[sim] if shutil.which(t) is None]
    if sim == "renode" and find_renode_test() is None:
        missing.append("renode-test (RENODE, RENODE_PATH or PATH)")
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")


@pytest.fixture(scope="module")
def app(firmware_workspace):
    assert main(["new", str(ANOMALY), "-o", str(APP), "--force"]) == 0
    return APP


@pytest.mark.parametrize("sim", [pytest.param("native_sim", marks=pytest.mark.smoke), "qemu", "renode"])
def test_firmware_prints_the_simulated_event_lines(app, sim):
    from zgen.testing.session import run_test

    _skip_without_tools(sim)
    out = run_test(app, sim, board=BOARD[sim], say=lambda s: None, timeout=900)
    assert out.comparison.equal, out.comparison.diff
    assert out.run.finished and out.passed, out.problems
    assert not out.build.warnings
    used, size = out.arena
    assert used <= size
    # Figures for the issue notes and bench/: measured, from this build.
    record = APP.parent / f"{sim}.json"
    record.write_text(json.dumps({"board": out.build.build_dir.name, "memory": out.build.memory,
                                  "arena_used": used, "arena_size": size, "overruns": out.comparison.overruns,
                                  "build_s": round(out.build.seconds, 1), "run_s": round(out.run.seconds, 2)}))


def test_cmsis_nn_kernels_on_the_dsp_core(app):
    """mps2/an521/cpu1 is a Cortex-M33 with the DSP extension: the app builds with TFLM's CMSIS-NN
    kernels there, prints the lines zgen simulate computes with the reference kernels on the host,
    and uses the arena the CMSIS-NN replay predicts."""
    from zgen.model.arena import measure
    from zgen.testing.session import run_test

    _skip_without_tools("qemu")
    out = run_test(app, "qemu", board="mps2/an521/cpu1", say=lambda s: None, timeout=900)
    config = (out.build.build_dir / "zephyr" / ".config").read_text()
    assert "CONFIG_TENSORFLOW_LITE_MICRO_CMSIS_NN_KERNELS=y" in config
    assert "CONFIG_ARMV8_M_DSP=y" in config
    assert out.comparison.equal, out.comparison.diff
    assert out.run.finished and out.passed, out.problems
    assert not out.build.warnings
    assert out.arena[0] == measure(ANOMALY.parent / "model" / "anomaly.tflite").used_on("arm", "cmsis-nn")


def test_reference_kernels_without_dsp(app):
    """Cores without the DSP extension keep the reference kernels (qemu_cortex_m3's build from the
    test above, or a fresh one)."""
    from zgen.testing.session import run_test

    _skip_without_tools("qemu")
    build = APP / "build" / "qemu_cortex_m3"
    if not (build / "zephyr" / ".config").is_file():
        run_test(app, "qemu", board="qemu_cortex_m3", say=lambda s: None, timeout=900)
    config = (build / "zephyr" / ".config").read_text()
    assert "CONFIG_TENSORFLOW_LITE_MICRO_CMSIS_NN_KERNELS" not in config.replace(
        "# CONFIG_TENSORFLOW_LITE_MICRO_CMSIS_NN_KERNELS is not set", "")


def test_float_classifier_on_mps2_an385(reference):
    """The Arduino float gesture model (../shared/reference) on QEMU's MPS2 AN385:
    classifier post-processing and float TFLM kernels on the target, same lines
    as the host."""
    from zgen.testing.session import run_test

    if find_workspace() is None or shutil.which("qemu-system-arm") is None:
        pytest.skip("needs a Zephyr workspace and qemu-system-arm")
    manifest = Path(__file__).parent / "manifests" / "gesture_reference.yaml"
    app = APP.parent / "gesture"
    assert main(["new", str(manifest), "-o", str(app), "--force", "--board", "mps2/an385"]) == 0
    out = run_test(app, "qemu", board="mps2/an385", say=lambda s: None, timeout=600)
    assert out.comparison.equal, out.comparison.diff
    assert out.passed, out.problems
    assert sum(" event=punch" in line for line in out.run.lines) == 1


GESTURE_RUNS = [("native_sim", None), ("qemu", "qemu_cortex_m3"), ("renode", "nrf52840dk/nrf52840"),
                ("renode", "arduino_nano_33_ble"), ("qemu", "mps2/an521/cpu1")]


def _reference_app(make_manifest, name: str) -> Path:
    """An app over ../shared/reference whose model is made at test time (TensorFlow):
    `make_manifest(folder)` writes the manifest and model into APP.parent / f"{name}-model"."""
    from conftest import REFERENCE

    pytest.importorskip("tensorflow")
    if not REFERENCE.is_dir():
        pytest.skip(f"no reference material at {REFERENCE}")
    manifest = make_manifest(APP.parent / f"{name.replace('_', '-')}-model")
    out = APP.parent / name
    assert main(["new", str(manifest), "-o", str(out), "--force"]) == 0
    return out


@pytest.fixture(scope="module")
def gesture_app(app):
    """The Arduino punch recordings and their classifier, int8 (tests/gesture_int8.py)."""
    from gesture_int8 import int8_manifest

    return _reference_app(int8_manifest, "gesture_int8")


@pytest.mark.parametrize("sim,board", GESTURE_RUNS, ids=[f"{s}-{b or s}" for s, b in GESTURE_RUNS])
def test_gesture_classifier_on_simulators(gesture_app, sim, board):
    """17 recorded punches: 17 windows classified punch, one event, the same lines as the host,
    on native_sim, qemu_cortex_m3 and two Renode boards (replay source: Renode has no model of
    the recording IMU that Zephyr 3.7 drives)."""
    from zgen.testing.session import run_test

    _skip_without_tools(sim)
    out = run_test(gesture_app, sim, board=board, say=lambda s: None, timeout=900)
    assert out.comparison.equal, out.comparison.diff
    assert out.passed, out.problems
    assert sum(" class=punch " in line for line in out.run.lines) == 17
    assert sum(" event=punch" in line for line in out.run.lines) == 1
    assert not out.build.warnings


@pytest.fixture(scope="module")
def gesture_accel_app(app):
    """The punch and upper-cut recordings' accelerometer axes through a LIS2DW12
    (tests/gesture_accel.py)."""
    from gesture_accel import accel_manifest

    return _reference_app(accel_manifest, "gesture_accel")


def test_gesture_recordings_fed_into_renodes_accelerometer(gesture_accel_app):
    """17 punches then 18 upper cuts, fed sample by sample into Renode's LIS2DW12 at its 4 g range
    on the nRF52840 DK's TWI, read through Zephyr's driver: every window classified as recorded,
    one event per gesture, the lines `zgen simulate` computes from what the driver reports."""
    from zgen.testing.session import run_test

    _skip_without_tools("renode")
    robot = (gesture_accel_app / "tests/renode/nrf52840dk_nrf52840.robot").read_text()
    assert "FeedAccelerationSample" in (gesture_accel_app / "tests/renode/nrf52840dk_nrf52840.resc").read_text()
    assert "range = <4>;" in (gesture_accel_app / "tests/renode/nrf52840dk_nrf52840.overlay").read_text()
    out = run_test(gesture_accel_app, "renode", board="nrf52840dk/nrf52840", say=lambda s: None, timeout=1800)
    assert out.comparison.equal, out.comparison.diff
    assert out.passed, out.problems
    assert not out.build.warnings
    windows = [line for line in out.run.lines if " win=" in line]
    assert [line.split(" class=")[1].split()[0] for line in windows] == ["punch"] * 17 + ["upper_cut"] * 18
    assert [line.split("event=")[1] for line in windows if "event=" in line] == ["punch", "upper_cut"]
    assert all(f"Next Line Should Be         {line}" in robot for line in windows)


SAMPLE_RUNS = [("sine", "qemu", "qemu_cortex_m3"), ("environmental", "qemu", "qemu_cortex_m3"),
               ("gesture", "qemu", "qemu_cortex_m3"), ("gesture", "renode", "nrf52840dk/nrf52840"),
               # hifive1 ticks 128 times a second: the app ticks at its 32768 Hz timer to sample at
               # 1 kHz, and Renode's CLINT runs at that rate as the board's does.
               ("sine", "renode", "hifive1")]


@pytest.fixture(scope="module")
def sample_apps(app):
    """The samples beside anomaly, generated into the firmware-test folder (app: the workspace checks)."""
    from conftest import REPO

    out = {}
    for name in ("sine", "environmental", "gesture"):
        out[name] = APP.parent / "samples" / name
        assert main(["new", str(REPO / "samples" / name / f"{name}.yaml"), "-o", str(out[name]), "--force"]) == 0
    return out


@pytest.mark.parametrize("sample,sim,board", SAMPLE_RUNS, ids=[f"{s}-{b}" for s, _, b in SAMPLE_RUNS])
def test_samples_print_the_simulated_event_lines(sample_apps, sample, sim, board):
    """Each sample on a simulator: the same lines as `zgen simulate` (the gesture sample's on
    Renode through its LIS2DW12 model, fed the recording at the 4 g range), no compiler warning."""
    from zgen import boards
    from zgen.errors import ToolError
    from zgen.testing.session import run_test
    from zgen.workspace import toolchain_env

    _skip_without_tools(sim)
    try:
        toolchain_env(boards.get(board), find_workspace())
    except ToolError as e:  # hifive1 without a RISC-V GCC
        pytest.skip(str(e))
    out = run_test(sample_apps[sample], sim, board=board, say=lambda s: None, timeout=1800)
    assert out.comparison.equal, out.comparison.diff
    assert out.passed, out.problems
    assert not out.build.warnings
    assert out.arena[0] <= out.arena[1]


def test_environmental_sample_builds_with_the_boards_own_sensors(sample_apps):
    """disco_l475_iot1 has no simulator in the catalogue: the environmental sample builds for it
    with its HTS221 and LPS22HB through Zephyr's drivers, without warnings, within 10 % of the plan."""
    from zgen import boards
    from zgen.memory.builds import Build
    from zgen.memory.plan import plan_for
    from zgen.testing.base import SimRunner

    _skip_without_tools("qemu")  # arm-none-eabi-gcc
    runner = SimRunner(sample_apps["environmental"], boards.get("disco_l475_iot1"), find_workspace())
    build = runner.build()
    assert not build.warnings
    config = (build.build_dir / "zephyr" / ".config").read_text()
    assert "CONFIG_HTS221=y" in config and "CONFIG_LPS22HB=y" in config
    assert "CONFIG_TENSORFLOW_LITE_MICRO_CMSIS_NN_KERNELS=y" in config  # Cortex-M4F: DSP
    b = Build(build.build_dir)
    plan = plan_for(b.manifest, b.board, b.arena, replay=b.replay, kernels=b.kernels)
    assert not plan.missing, plan.missing
    assert 0.9 <= plan.flash_total / b.sizes.flash_used <= 1.1
    assert 0.9 <= plan.ram_total / b.sizes.ram_used <= 1.1


KINDS_MANIFEST = """\
zgen: 1
name: kinds_replay
board: native_sim
sensors:
  compass:
    kind: magnetometer
    rate_hz: 50
  ambient:
    kind: light
    rate_hz: 50
window: {length: 120, stride: 60}
features:
  - normalize: {mean: [0, 0, 0.4, 300], std: [0.3, 0.3, 0.3, 200]}
  - rms: {frames: 6}              # 6 frames x 4 channels = 24 inputs, as the anomaly model takes
model:
  file: MODEL
postprocess:
  - anomaly_score: {kind: reconstruction_mse}
  - threshold: {above: 0.5}
test:
  data: kinds.csv
"""


def test_replay_source_reads_every_remaining_kind(app, tmp_path_factory):
    """The replay source through the Zephyr sensor API for the kinds no sample reads
    (magnetometer: SENSOR_CHAN_MAGN_XYZ, light: SENSOR_CHAN_LIGHT; the samples cover
    accelerometer, adc, temperature, humidity and pressure, gesture_int8 the gyroscope): on
    native_sim the firmware prints `zgen simulate`'s lines, values with six decimals and
    negative ones included."""
    import numpy as np

    from zgen.testing.session import run_test

    _skip_without_tools("native_sim")
    work = APP.parent / "kinds"
    work.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(5)
    n = 1200
    t = np.arange(n) / 50
    rows = np.stack([0.2 * np.cos(0.3 * t), -0.25 * np.sin(0.3 * t), 0.42 + rng.normal(0, 0.01, n),
                     300 + 150 * np.sin(0.05 * t) + rng.normal(0, 5, n)], axis=1)
    (work / "kinds.csv").write_text("compass_x,compass_y,compass_z,ambient\n" + "".join(
        f"{a:.6f},{b:.6f},{c:.6f},{d:.3f}\n" for a, b, c, d in rows))
    shutil.copy(ANOMALY.parent / "model/anomaly.tflite", work / "anomaly.tflite")  # beside its manifest
    (work / "kinds.yaml").write_text(KINDS_MANIFEST.replace("MODEL", "anomaly.tflite"))
    out_app = work / "app"
    assert main(["new", str(work / "kinds.yaml"), "-o", str(out_app), "--force"]) == 0
    out = run_test(out_app, "native_sim", say=lambda s: None, timeout=600)
    assert out.comparison.equal, out.comparison.diff
    assert out.passed, out.problems
    assert out.run.lines[-1].startswith("zgen: end samples=1200 windows=19 read_errors=0")
