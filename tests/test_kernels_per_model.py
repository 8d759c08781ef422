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
