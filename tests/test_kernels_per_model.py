"""TFLM's kernel set is chosen per model, not per core alone: CMSIS-NN has no float kernels, so a
float model on a DSP core builds with the reference kernels (its 47 KB of CMSIS-NN code would
buy nothing); an int8 model there gets CMSIS-NN; `model: kernels:` overrides. The plan, the arena
and the generated Kconfig agree on the choice."""
from __future__ import annotations

import re
import shutil

import pytest

from conftest import ANOMALY, REPO
from zgen import boards
from zgen.cli import main
from zgen.manifest import load_manifest
from zgen.memory.plan import plan_for
from zgen.model.arena import measure
from zgen.simulate import plan_arena

DK = boards.get("nrf52840dk/nrf52840")
FLOAT = REPO / "tests" / "manifests" / "gesture_reference.yaml"


def _kconfig_default(app) -> str:
    text = (app / "Kconfig").read_text()
    return re.search(r"config TENSORFLOW_LITE_MICRO_CMSIS_NN_KERNELS\n\tdefault (.*)\n", text).group(1)


def test_a_float_model_gets_the_reference_kernels_on_a_dsp_core(reference, tmp_path):
    m = load_manifest(FLOAT, allow=(str(reference),))
    assert m.model.inputs[0].dtype == "float32"
    m33 = boards.get("mps2/an521/cpu1")  # a Cortex-M33 with DSP, simulated: any sensor replays
    assert m.kernels_on(DK) == m.kernels_on(m33) == "reference" and m33.tflm_kernels == "cmsis-nn"
    p = plan_for(m, m33, plan_arena(m, measure(m.model.path), "arm", "reference"))
    assert any(k.startswith("TFLM reference kernels") for k in p.flash)
    app = tmp_path / "app"
    assert main(["new", str(FLOAT), "-o", str(app), "--board", "mps2/an521/cpu1",
                 "--allow-path", str(reference)]) == 0
    assert _kconfig_default(app) == "n"
    assert "CMSIS-NN has no float kernels" in (app / "Kconfig").read_text()


@pytest.mark.parametrize("choice,want", [("auto", "cmsis-nn"), ("reference", "reference"), ("cmsis-nn", "cmsis-nn")])
def test_an_int8_model_and_the_manifests_choice(sample_copy, tmp_path, choice, want):
    sample_copy.write_text(sample_copy.read_text().replace("  arena: auto\n", f"  arena: auto\n  kernels: {choice}\n"))
    m = load_manifest(sample_copy)
    assert m.kernels_on(DK) == want
    assert m.kernels_on(boards.get("qemu_cortex_m3")) == "reference"  # no DSP: always reference
    p = plan_for(m, DK, 4096)
    assert any(k.startswith(f"TFLM {want} kernels") for k in p.flash)
    app = tmp_path / "app"
    assert main(["new", str(sample_copy), "-o", str(app)]) == 0
    default = _kconfig_default(app)
    assert (default == "n") == (want == "reference")
    if want == "cmsis-nn" and choice == "auto":
        assert "int8/int16 FULLY_CONNECTED" in (app / "Kconfig").read_text()


def test_a_model_whose_cmsis_nn_kernel_cannot_link_gets_the_reference_kernels(tmp_path, monkeypatch, capsys):
    """Zephyr 3.7.1's cmsis-nn module has no arm_lstm_unidirectional_s8, which TFLM's CMSIS-NN LSTM
    kernel calls (bench/all_kernels.py's CMSIS-NN build of every op fails there alone): an LSTM
    model on a DSP core builds with the reference kernels, and `kernels: cmsis-nn` is refused."""
    from dataclasses import replace

    from zgen.model import ops
    from zgen.model.tflite import OperatorUse

    m = load_manifest(ANOMALY)
    assert m.kernels_on(DK) == "cmsis-nn"
    lstm = replace(m, model=replace(m.model, operators=m.model.operators + (
        OperatorUse(index=len(m.model.operators), op="UNIDIRECTIONAL_SEQUENCE_LSTM"),)))
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in lstm.model.ops_used
    assert lstm.kernels_on(DK) == "reference"
    # The explicit choice, on a manifest whose model (monkeypatched) has an LSTM.
    sample = tmp_path / "s"
    shutil.copytree(ANOMALY.parent, sample, ignore=shutil.ignore_patterns("train.csv", "val.csv"))
    text = (sample / "anomaly.yaml").read_text()
    old = "  file: model/anomaly.tflite         # made by train.py\n"
    assert old in text
    (sample / "anomaly.yaml").write_text(text.replace(old, old + "  kernels: cmsis-nn\n"))
    monkeypatch.setattr(ops, "cmsis_nn_cannot_link", lambda model: ["UNIDIRECTIONAL_SEQUENCE_LSTM"])
    assert main(["check", str(sample / "anomaly.yaml")]) == 2
    err = capsys.readouterr().err
    line = next(i for i, t in enumerate((sample / "anomaly.yaml").read_text().splitlines(), 1) if "kernels:" in t)
    assert f"anomaly.yaml:{line}:12: anomaly.tflite uses UNIDIRECTIONAL_SEQUENCE_LSTM" in err
    assert "arm_lstm_unidirectional_s8" in err and "set `kernels: auto`" in err
