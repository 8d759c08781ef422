"""The time plan's units and arithmetic, against figures from elsewhere: the MACs MLPerf Tiny's
paper publishes for its models (Banbury et al., "MLPerf Tiny Benchmark", NeurIPS 2021, Table 1),
counts done by hand, and the busy share a user would compute on paper."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from zgen import boards
from zgen.manifest import load_manifest
from zgen.memory.timeplan import describe, features_work, time_plan
from zgen.model.tflite import read_model
from zgen.model.work import model_work

REPO = Path(__file__).resolve().parent.parent
MODELS = REPO.parent / "shared" / "reference" / "models"


@pytest.mark.parametrize("model,macs", [
    ("mlperf_tiny/kws_ref_model.tflite", 2.7e6),          # DS-CNN
    ("mlperf_tiny/ad01_int8.tflite", 0.264e6),            # FC autoencoder
    ("mlperf_tiny/pretrainedResnet_quant.tflite", 12.5e6),  # ResNet-8
    ("mlperf_tiny/vww_96_int8.tflite", 7.5e6),            # MobileNetV1 0.25x
])
def test_multiply_accumulates_match_mlperf_tiny_published_figures(model, macs):
    path = MODELS / model
    if not path.is_file():
        pytest.skip(f"{path} is not here")
    work = model_work(read_model(path))
    total = sum(n for _, fam, n in work if not fam.startswith("other"))
    assert total == pytest.approx(macs, rel=0.02)  # the paper rounds to two or three figures


def test_per_operator_work_by_hand():
    """magic_wand's first operator: DEPTHWISE_CONV_2D, output 1x128x3x8, filter 4x3: 128*3*8*4*3."""
    path = MODELS / "tflm" / "magic_wand.tflite"
    if not path.is_file():
        pytest.skip(f"{path} is not here")
    work = model_work(read_model(path))
    assert work[0] == ("DEPTHWISE_CONV_2D", "depthwise_f32", 128 * 3 * 8 * 4 * 3)  # a float model
    assert {fam for _, fam, _ in work} <= {"conv_f32", "depthwise_f32", "fc_f32", "other_f32"}
    assert [op for op, _, _ in work][-1] == "SOFTMAX"


def test_features_work_counts_values_read_per_decision():
    """The anomaly sample: a 128-sample x 3-axis window, normalize then RMS over 8 frames, one
    decision per window (not a stream): each step family reads 384 values, and the model's
    24 int8 inputs are quantised."""
    m = load_manifest(REPO / "samples" / "anomaly" / "anomaly.yaml")
    work = features_work(m)
    assert work["quantize"] == 24
    assert sum(v for k, v in work.items() if k != "quantize") == 2 * 128 * 3


COEFF = {"cores": {"cortex-m3": {"reference": {
    "ops": {"conv": [100.0, 10.0], "depthwise": [100.0, 10.0], "fc": [1000.0, 2.0], "other": [50.0, 1.0]},
    "invoke": 5000.0, "decision": 2000.0, "steps": {"stats": 20.0}, }}}}


def test_busy_share_is_instructions_over_clock_times_period():
    m = load_manifest(REPO / "samples" / "anomaly" / "anomaly.yaml")
    board = boards.get("qemu_cortex_m3")
    p = time_plan(m, board, "reference", COEFF)
    work = model_work(m.model)
    expect_model = 5000 + sum({"fc": 1000 + 2 * n, "other": 50 + n}.get(fam, 0) for _, fam, n in work)
    assert p.model == round(expect_model)
    expect_features = 2000 + 20 * features_work(m).get("stats", 0)
    assert p.features == round(expect_features)
    period = m.decision_samples() / m.rate_hz
    assert p.busy == pytest.approx((p.model + p.features) / (board.cpu_hz * period))
    assert "% busy" in describe(p)


def test_a_core_that_cannot_keep_up_is_said_so():
    m = load_manifest(REPO / "samples" / "anomaly" / "anomaly.yaml")
    board = replace(boards.get("qemu_cortex_m3"), cpu_hz=1000)  # a 1 kHz core
    p = time_plan(m, board, "reference", COEFF)
    assert p.busy > 1
    assert "CANNOT keep up" in describe(p)


def test_unmeasured_core_says_not_measured_and_m4f_uses_the_m33s_counts():
    m = load_manifest(REPO / "samples" / "anomaly" / "anomaly.yaml")
    p = time_plan(m, boards.get("qemu_riscv32"), "reference", COEFF)
    assert p.missing and "not measured" in describe(p)
    data = {"cores": {"cortex-m33": COEFF["cores"]["cortex-m3"]}}
    p = time_plan(m, boards.get("nrf52840dk/nrf52840"), "reference", data)
    assert not p.missing and p.measured_on == "cortex-m33"
    assert "counted on cortex-m33" in describe(p)


def test_an_m33_without_fpu_and_dsp_takes_its_own_counts_else_the_m3s():
    """mps2/an521/cpu0 has neither (only cpu1 does): floats in software. Planned with the counts
    measured on it where there are some ("cortex-m33 without FPU"), else with the M3's."""
    m = load_manifest(REPO / "samples" / "anomaly" / "anomaly.yaml")
    data = {"cores": {"cortex-m3": COEFF["cores"]["cortex-m3"],
                      "cortex-m33": {"reference": {**COEFF["cores"]["cortex-m3"]["reference"], "invoke": 1.0}}}}
    cpu0, cpu1 = boards.get("mps2/an521/cpu0"), boards.get("mps2/an521/cpu1")
    assert not cpu0.fpu and cpu1.fpu
    assert time_plan(m, cpu0, "reference", data).measured_on == "cortex-m3"
    assert time_plan(m, cpu1, "reference", data).measured_on == "cortex-m33"
    data["cores"]["cortex-m33 without FPU"] = {"reference": {**COEFF["cores"]["cortex-m3"]["reference"], "invoke": 2.0}}
    assert time_plan(m, cpu0, "reference", data).measured_on == "cortex-m33 without FPU"
    assert time_plan(m, cpu1, "reference", data).measured_on == "cortex-m33"


def test_native_sim_has_no_time_plan():
    m = load_manifest(REPO / "samples" / "anomaly" / "anomaly.yaml")
    assert time_plan(m, boards.get("native_sim"), "reference", COEFF) is None


# The plan held to a real run: the anomaly sample profiled on qemu_cortex_m3 (a board the
# coefficients were not fitted on; they come from mps2/an385), in QEMU with -icount shift=6.
@pytest.mark.firmware
def test_plan_within_20_percent_of_qemu_instruction_counts(firmware_workspace, tmp_path):
    import os
    import re
    import statistics

    from zgen.cli import main
    from zgen.memory.timeplan import measured
    from zgen.testing.qemu import QemuRunner

    if "cortex-m3" not in measured()["cores"]:
        pytest.fail("boards/memory/time.yaml has no cortex-m3 counts (bench/time_plan.py --write)")
    board = boards.get("qemu_cortex_m3")
    root = Path(os.environ.get("ZGEN_FIRMWARE_TEST_DIR", Path.home() / ".cache" / "zgen" / "firmware-tests"))
    app = root / "time-plan-check" / "anomaly"
    manifest = REPO / "samples" / "anomaly" / "anomaly.yaml"
    assert main(["new", str(manifest), "-o", str(app), "--force", "--board", board.name]) == 0

    class Profiled(QemuRunner):
        def build_args(self):
            return ["-DCONFIG_ZGEN_PROFILE=y"]

    q = Profiled(app, board, firmware_workspace, app / "build" / board.file_stem)
    q.build(timeout=3600)
    run = q.run(timeout=600)
    pat = re.compile(r"^zgen: profile invoke_cycles=(\d+) output_crc32=\w+ features_cycles=(\d+)$")
    cycles = [int(m.group(1)) + int(m.group(2)) for line in run.lines if (m := pat.match(line))]
    assert len(cycles) > 10, run.output[-2000:]
    # -icount shift=6: an instruction is 64 ns of virtual time, which SysTick counts at timer_hz.
    instructions = statistics.median(cycles[1:]) / (64e-9 * board.timer_hz)
    p = time_plan(load_manifest(manifest), board, "reference")
    assert not p.missing
    assert p.total == pytest.approx(instructions, rel=0.2)


def test_committed_plan_holds_to_the_kept_qemu_counts(monkeypatch):
    """boards/memory/time.yaml, as `zgen check` reads it, against every count bench/time_plan.py
    kept from QEMU (bench/results/time_plan.json: the firmware's own profile lines), per decision,
    on the fitted boards and on qemu_cortex_m3 (planned with mps2/an385's counts): within 20 %."""
    import importlib
    import json
    import sys

    from zgen.memory.timeplan import measured

    if not MODELS.is_dir():
        pytest.skip(f"{MODELS} is not here")
    monkeypatch.setenv("ZGEN_ALLOW_PATH", "")  # bench/arena.py sets it at import; restored after
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    tp = importlib.import_module("time_plan")
    kept = json.loads((REPO / "bench" / "results" / "time_plan.json").read_text())
    checked = []
    for run in kept["runs"]:
        board = boards.get(run["board"])
        for name, r in run["rows"].items():
            m = load_manifest(tp.manifest_path(name, run["board"]))
            if run["dsp"]:  # cpu0 with DSP and FPU switched on in QEMU and Kconfig: the M33's counts
                board = replace(board, fpu=True, dsp=True)
            p = time_plan(m, board, run["kernels"], measured())
            if p is None or p.missing:
                continue
            checked.append((run["board"], run["kernels"], name, p.total / (r["invoke"] + r["features"])))
    sys.modules.pop("time_plan", None)
    assert len(checked) >= 30, checked
    bad = [c for c in checked if abs(c[3] - 1) > 0.2]
    assert not bad, bad
