"""A generated app links only the feature step families its manifest uses: the generated
CMakeLists names them, the dispatcher compiled with those definitions references no other
family's code, and the memory plan counts only those."""
from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ANOMALY, REPO
from zgen import boards
from zgen.manifest import load_manifest
from zgen.memory import mapfile
from zgen.memory.plan import measured, plan_for
from zgen.steps import FAMILY_KINDS, FAMILY_SOURCE

SRC = REPO / "app_template" / "lib" / "zgen"
ENTRY = {"stats": "zgen_stats_step", "spectral": "zgen_spectral_step", "audio": "zgen_afe_step"}
SAMPLES = {  # manifest: the step families its chain uses, read off its feature list by hand
    "anomaly/anomaly.yaml": ["stats"],            # normalize, rms
    "fall/fall.yaml": ["stats"],                  # magnitude, normalize
    "vibration/vibration.yaml": ["stats", "spectral"],  # normalize, fft, spectral_bands
    "keyword/keyword.yaml": ["audio"],            # audio_frontend
}


def _defines(cmakelists: str) -> list[str]:
    line = cmakelists.split("PROPERTIES COMPILE_DEFINITIONS", 1)[1].split('"')[1]
    return line.split(";")


@pytest.mark.parametrize("sample,families", SAMPLES.items())
def test_generated_cmakelists_selects_the_manifest_families(sample, families, tmp_path):
    from zgen.cli import main

    assert main(["new", str(REPO / "samples" / sample), "-o", str(tmp_path / "app")]) == 0
    defines = _defines((tmp_path / "app" / "CMakeLists.txt").read_text())
    assert defines == ["ZGEN_STEPS_SELECTED"] + [f"ZGEN_STEPS_{f.upper()}" for f in families]


def _undefined(defines: list[str], tmp_path: Path) -> set[str]:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("no host gcc")
    obj = tmp_path / "features.o"
    subprocess.run([gcc, "-std=c11", "-c", "-Wall", "-Wextra", "-Werror", "-I", str(SRC / "include"),
                    *(f"-D{d}" for d in defines), str(SRC / "src" / "zgen_features.c"), "-o", str(obj)],
                   check=True)
    out = subprocess.run(["nm", "-u", str(obj)], capture_output=True, text=True, check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


@pytest.mark.parametrize("selected", [[], ["stats"], ["spectral"], ["audio"], ["stats", "spectral"]])
def test_dispatcher_references_only_the_selected_families(selected, tmp_path):
    undefined = _undefined(["ZGEN_STEPS_SELECTED"] + [f"ZGEN_STEPS_{f.upper()}" for f in selected], tmp_path)
    called = {f for f, fn in ENTRY.items() if fn in undefined}
    assert called == set(selected)
    assert ("zgen_afe_reset" in undefined) == ("audio" in selected)


def test_host_build_has_every_family(tmp_path):
    """Without ZGEN_STEPS_SELECTED (the host runtime, zgen simulate): every family."""
    assert set(ENTRY.values()) <= _undefined([], tmp_path)


def test_each_step_lowers_to_kinds_of_its_own_modules_family():
    """The family a step's records link is the module that describes it (the time plan counts
    the features' cost by module too): every step, lowered on a shape its example accepts."""
    from zgen.memory.timeplan import step_family
    from zgen.steps import Shape, families, registry

    from zgen.steps import StepError

    steps = registry()
    shapes = [Shape(n, c, 16000.0) for n in (480, 512) for c in (1, 3)]
    shapes += [steps["fft"].lower({}, Shape(512, c, 16000.0))[1] for c in (1, 3)]  # spectra
    for name, step in steps.items():
        lowered = []
        for shape in shapes:
            try:
                lowered.append(step.lower(dict(step.example), shape)[0])
            except StepError:
                continue  # the example's values are for another shape
        assert lowered, f"{name}: its example lowers on none of {shapes}"
        assert all(families(r) == (step_family(name),) for r in lowered), name


def test_every_kind_has_one_family_and_each_family_its_source():
    kinds = [k for fam in FAMILY_KINDS.values() for k in fam.values()]
    assert len(kinds) == len(set(kinds))
    for family, source in FAMILY_SOURCE.items():
        assert (SRC / "src" / f"{source}.c").is_file(), family
        assert ENTRY[family] in (SRC / "src" / f"{source}.c").read_text()


def test_map_attributes_family_objects_to_their_family():
    for family, source in FAMILY_SOURCE.items():
        assert mapfile.part_of(f"app/libapp.a({source}.c.obj)", set()) == f"steps:{family}"
    assert mapfile.part_of("app/libapp.a(zgen_features.c.obj)", set()) == "zgen"


def _with_families_apart(data: dict) -> dict:
    data = copy.deepcopy(data)
    core = data["cores"]["cortex-m3"]
    core["zgen"] = {"flash": 7000, "ram": 1800, "steps_apart": True}
    core["steps"] = {"stats": {"flash": 900, "ram": 0}, "spectral": {"flash": 800, "ram": 0}}
    data["cores"]["cortex-m33"]["steps"] = {"audio": {"flash": 2600, "ram": 0}}
    return data


def test_plan_adds_the_families_the_manifest_uses():
    data = _with_families_apart(measured())  # measured() is cached: never change its dict
    board = boards.get("qemu_cortex_m3")
    p = plan_for(load_manifest(ANOMALY, board="qemu_cortex_m3"), board, arena=1344, data=data)
    assert p.flash["zgen runtime"] == 7000 and p.flash["zgen steps: stats"] == 900
    assert "zgen steps: spectral" not in p.flash and not p.missing
    vib = load_manifest(REPO / "samples/vibration/vibration.yaml", board="qemu_cortex_m3")
    p = plan_for(vib, board, arena=2000, data=data)
    assert p.flash["zgen steps: stats"] == 900 and p.flash["zgen steps: spectral"] == 800


def test_plan_of_a_family_unmeasured_on_the_core_takes_another_cores_size_or_says_so():
    data = _with_families_apart(measured())
    data["cores"]["cortex-m3"]["zgen_mic"] = {"flash": 6000, "ram": 400, "steps_apart": True}
    board = boards.get("qemu_cortex_m3")
    kw = load_manifest(REPO / "samples/keyword/keyword.yaml", board="qemu_cortex_m3")
    p = plan_for(kw, board, arena=20000, data=data)
    assert p.flash["zgen steps: audio (cortex-m33's size)"] == 2600
    for core in data["cores"].values():  # no core has the audio family measured
        core.get("steps", {}).pop("audio", None)
    p = plan_for(kw, board, arena=20000, data=data)
    assert "the zgen audio steps on cortex-m3: not measured" in p.missing


def test_runtime_measured_with_every_family_adds_none():
    """A runtime figure from before the families were linked apart holds them all already."""
    data = copy.deepcopy(measured())
    core = data["cores"]["cortex-m3"]
    core["zgen"] = {k: v for k, v in core["zgen"].items() if k != "steps_apart"}
    core["steps"] = {"stats": {"flash": 900, "ram": 0}}
    board = boards.get("qemu_cortex_m3")
    p = plan_for(load_manifest(ANOMALY, board="qemu_cortex_m3"), board, arena=1344, data=data)
    assert not any(k.startswith("zgen steps") for k in p.flash)
