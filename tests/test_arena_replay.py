"""The arena generated for Arm boards: the host's head plus the tail replayed
for Cortex-M must be what the firmware reports, and the generated arena must
be the smallest one AllocateTensors() succeeds with."""
from __future__ import annotations

from pathlib import Path

import pytest

from zgen.model import tflm_layout
from zgen.model.arena import measure
from zgen.model.tflite import read_model

SAMPLE = Path(__file__).resolve().parents[1] / "samples/anomaly/model/anomaly.tflite"

# arena_used_bytes() printed by firmware built from zgen apps (Zephyr 3.7.1,
# TFLM 48613f7b, reference kernels, arm-none-eabi GCC 12.2) on QEMU:
# bench/arena.py's run of 2026-11-25, bench/results/arena.txt.
FIRMWARE = {
    "tflm/hello_world_int8.tflite": 772,  # qemu_cortex_m3
    "mlperf_tiny/kws_ref_model.tflite": 22980,  # qemu_cortex_m3
    "mlperf_tiny/ad01_int8.tflite": 2436,  # mps2/an385
    "anomaly sample": 916,  # qemu_cortex_m3
    "tflm/magic_wand.tflite": 15312,  # mps2/an385, float
    "mlperf_tiny/pretrainedResnet_quant.tflite": 54596,  # mps2/an385
}


def _model(reference: Path, name: str) -> Path:
    return SAMPLE if name == "anomaly sample" else reference / "models" / name


@pytest.mark.parametrize("name", sorted(FIRMWARE))
def test_cortex_m_use_is_what_the_firmware_reports(reference, name):
    a = measure(_model(reference, name))
    assert a.used_on("arm") == FIRMWARE[name]


# The same apps built with TFLM's CMSIS-NN kernels on mps2/an521 with the DSP
# extension (bench/cmsis_nn.py's run of 2026-11-25, bench/results/cmsis_nn.txt;
# the anomaly sample also on mps2/an521/cpu1 in tests/test_firmware.py).
FIRMWARE_CMSIS_NN = {
    "tflm/hello_world_int8.tflite": 820,
    "mlperf_tiny/kws_ref_model.tflite": 23028,  # scratch buffers: the replay's bound
    "mlperf_tiny/ad01_int8.tflite": 2612,
    "anomaly sample": 996,
    "tflm/magic_wand.tflite": 15184,  # float: CMSIS-NN allocates no per-channel arrays
    "mlperf_tiny/pretrainedResnet_quant.tflite": 55236,  # scratch buffers: the replay's bound
}


@pytest.mark.parametrize("name", sorted(FIRMWARE_CMSIS_NN))
def test_cmsis_nn_use_is_what_the_firmware_reports_or_bounds_it(reference, name):
    a = measure(_model(reference, name))
    used, scratch = a.used_on("arm", "cmsis-nn"), a.targets["cmsis-nn"].scratch
    if scratch == 0:
        assert used == FIRMWARE_CMSIS_NN[name]
    else:  # every scratch buffer counted in full on top of the head: never less than the firmware needs,
        # and loose by at most the scratch bytes (which TFLM's planner overlaps with dead tensors) and
        # the tail's alignment around the scratch-buffer handles
        assert FIRMWARE_CMSIS_NN[name] <= used <= FIRMWARE_CMSIS_NN[name] + scratch + 64
        assert "upper bound" in a.note_for("arm", "cmsis-nn")


# The smallest 16-byte multiple the firmware's AllocateTensors() succeeds
# with: bench/arena.py builds each app with the generated arena and with 16 B
# less (and, for hello_world, 1088 failed with "Too many buffers (max is 3)",
# 848 and 784 with failed temporary allocations during Prepare).
SMALLEST_RUNNING = {
    "tflm/hello_world_int8.tflite": 1104,
    "mlperf_tiny/kws_ref_model.tflite": 22992,
    "mlperf_tiny/ad01_int8.tflite": 2816,
    "anomaly sample": 1344,
    "tflm/magic_wand.tflite": 15312,
    "mlperf_tiny/pretrainedResnet_quant.tflite": 54608,
}


@pytest.mark.parametrize("name", sorted(SMALLEST_RUNNING))
def test_generated_arena_is_the_smallest_that_runs(reference, name):
    a = measure(_model(reference, name))
    assert a.planned_for("arm") == SMALLEST_RUNNING[name]


@pytest.mark.parametrize("name", sorted(FIRMWARE))
def test_generated_arena_holds_the_use_and_the_transient_need(reference, name):
    a = measure(_model(reference, name))
    planned = a.planned_for("arm")
    assert planned % 16 == 0 and planned >= FIRMWARE[name]
    assert planned >= a.target.transient and planned - 16 < max(FIRMWARE[name], a.target.transient)
    if planned > FIRMWARE[name] + 15:  # the transient need decides: the README says so
        assert "on the way" in a.note_for("arm")


def test_other_targets_get_the_host_upper_bound(reference):
    a = measure(reference / "models/tflm/hello_world_int8.tflite")
    assert a.used_on("posix") == a.total == a.head + a.tail
    assert a.planned_for("riscv") == a.planned_for("posix") >= a.total > a.used_on("arm")
    assert a.needed_on("posix") == max(a.total, a.target.transient)


def test_a_model_outside_the_replay_falls_back_to_the_host_total(reference, monkeypatch):
    path = reference / "models/tflm/hello_world_int8.tflite"
    monkeypatch.delitem(tflm_layout.OPS, "FULLY_CONNECTED")
    info = read_model(path)
    assert tflm_layout.unsupported(info) == "no layout table for FULLY_CONNECTED"
    assert tflm_layout.replay(info) is None
    a = measure(path)
    assert a.used_on("arm") == a.total
    assert "FULLY_CONNECTED" in a.note_for("arm") and "upper bound" in a.note_for("arm")


def test_every_reference_model_is_covered_by_the_replay(reference):
    from zgen.model.ops import target_limits

    for path in sorted((reference / "models").glob("*/*.tflite")):
        info = read_model(path)
        if target_limits(info):
            continue  # zgen makes no app of it (micro_speech's front end, TFLM signal ops: lib/zgen runs it)
        assert tflm_layout.unsupported(info) is None, path.name
        # Smaller than the 64-bit host's tail, never larger.
        assert 0 < tflm_layout.replay(info).tail < measure(path).tail, path.name
