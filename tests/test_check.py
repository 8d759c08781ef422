"""`zgen check`: the memory plan from measured parts (boards/memory/measured.yaml)."""
from __future__ import annotations

import json

import pytest

from conftest import ANOMALY
from zgen import boards
from zgen.cli import main
from zgen.manifest import load_manifest
from zgen.memory.plan import measured, plan_for


def test_plan_adds_up_the_measured_parts():
    m = load_manifest(ANOMALY, board="qemu_cortex_m3")
    p = plan_for(m, boards.get("qemu_cortex_m3"), arena=1344)
    data = measured()
    assert p.replay and not p.missing
    assert p.flash["model"] == (ANOMALY.parent / "model/anomaly.tflite").stat().st_size
    # 6400 samples x 3 axes, int16 (every value fits), plus the replay sensor's code
    assert p.flash["replay data"] == 6400 * 3 * 2 + data["cores"]["cortex-m3"]["replay_code"]
    assert p.flash["Zephyr (kernel, drivers, libc)"] == data["boards"]["qemu_cortex_m3"]["flash"]
    # the buffers main.cpp declares: ring + work (128 x 3 floats each), a 128-message queue of 3 floats + status
    assert p.ram["window ring + work"] == 2 * 128 * 3 * 4 and p.ram["sample queue"] == 128 * 16
    assert p.ram["arena"] == 1344 and p.flash_total == sum(p.flash.values())


def test_real_board_counts_the_parts_driver_not_replay_data():
    m = load_manifest(ANOMALY)
    p = plan_for(m, m.board, arena=1344)
    assert not p.replay and "replay data" not in p.flash
    assert p.flash["st,lis2dw12 driver + bus"] > 0


def test_unmeasured_board_says_so(capsys, monkeypatch):
    import copy

    from zgen.memory import plan

    data = copy.deepcopy(measured())  # measured() is cached: never change its dict
    data["boards"].pop("qemu_riscv32")
    monkeypatch.setattr(plan, "measured", lambda: data)
    assert main(["check", str(ANOMALY), "--all-boards"]) == 0
    out = capsys.readouterr().out
    assert "qemu_riscv32: no measured baseline" in out and "bench/memory_baselines.py" in out
    assert "native_sim (replay)" in out and "host memory" in out


def test_ram_only_board_holds_the_image_in_ram():
    """qemu_riscv32 runs from RAM (CONFIG_XIP=n): its RAM holds the image besides the buffers."""
    m = load_manifest(ANOMALY, board="qemu_riscv32")
    p = plan_for(m, boards.get("qemu_riscv32"), arena=1776)
    assert not p.missing, p.missing
    assert p.ram["the image (runs from RAM)"] == p.flash_total
    assert p.ram_total == p.flash_total + sum(v for k, v in p.ram.items() if k != "the image (runs from RAM)")


def test_native_sim_is_host_memory(capsys):
    assert main(["check", str(ANOMALY), "--board", "native_sim", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["boards"] == [{"board": "native_sim", "host": True}]


def test_a_window_too_big_for_the_board_fails_with_suggestions(sample_copy, capsys):
    """4096-sample windows of 3 floats: ring and work alone are 96 KB, qemu_cortex_m3 has 64 KB."""
    sample_copy.write_text(sample_copy.read_text().replace("window: {length: 128, stride: 64}",
                                                           "window: {length: 4096, stride: 2048}"))
    assert main(["check", str(sample_copy), "--board", "qemu_cortex_m3"]) == 1
    out = capsys.readouterr().out
    assert "DOES NOT FIT" in out
    assert "a shorter window or fewer channels" in out and "window ring + work" in out
    assert "a board where it fits" not in out or "qemu_cortex_m3" not in out.split("a board where it fits")[1]


def test_json_parts(capsys):
    assert main(["check", str(ANOMALY), "--json"]) == 0
    (b,) = json.loads(capsys.readouterr().out)["boards"]
    assert b["board"] == "nrf52840dk/nrf52840" and b["fits"] is True
    assert b["flash"] == sum(b["flash_parts"].values()) and b["ram"] == sum(b["ram_parts"].values())


def test_unknown_board_is_a_usage_error(capsys):
    assert main(["check", str(ANOMALY), "--board", "nrf52"]) == 2
    assert "not in the catalogue" in capsys.readouterr().err


def _firmware_builds():
    from pathlib import Path

    from zgen.memory.builds import find_builds

    return find_builds(Path.home() / ".cache" / "zgen" / "firmware-tests")


@pytest.mark.parametrize("build", _firmware_builds() or [None], ids=lambda b: b and str(b))
def test_plan_within_10_percent_of_real_builds(build):
    """Against the builds the firmware tests left here (where a workspace exists)."""
    if build is None:
        pytest.skip("no firmware builds here (run the firmware tests first)")
    if build.edited:
        pytest.skip(f"not the app zgen wrote ({', '.join(build.edited)}): not what the plan describes")
    p = plan_for(build.manifest, build.board, build.arena, replay=build.replay, kernels=build.kernels)
    if p is None:
        pytest.skip("native_sim: host memory")
    if p.missing:
        pytest.skip("; ".join(p.missing))
    assert abs(p.flash_total / build.sizes.flash_used - 1) <= 0.10, (p.flash, build.sizes.flash_used)
    assert abs(p.ram_total / build.sizes.ram_used - 1) <= 0.10, (p.ram, build.sizes.ram_used)


def test_every_op_the_pinned_tflm_links_is_measured_on_every_core_with_a_table():
    """bench/all_kernels.py measured each core's kernels from a build registering every op: every
    op TFLM 48613f7b registers (but those Zephyr's modules cannot link) has its parts, so no model
    the firmware can build meets "not measured" there. A model's kernels are the union of its ops'
    parts, each counted once (the parts two ops share, e.g. the quantisation helpers)."""
    from dataclasses import replace

    from conftest import GESTURE
    from zgen.model.ops import CMSIS_NN_BUILD_LACKS, RESOLVER_METHOD, ZEPHYR_MODULE_LACKS

    data = measured()
    runnable = set(RESOLVER_METHOD) - {"CUSTOM"} - set(ZEPHYR_MODULE_LACKS)
    cores = [c for c, v in data["cores"].items() if "ops" in v]
    assert "cortex-m3" in cores
    for core in cores:
        for kset, ops in data["cores"][core]["ops"].items():
            want = runnable - (set(CMSIS_NN_BUILD_LACKS) if kset == "cmsis-nn" else set())
            assert set(ops) == want, (core, kset, sorted(want ^ set(ops)))
            parts = data["cores"][core]["kernels"][kset]
            assert all(p in parts for v in ops.values() for p in v)
    m = load_manifest(GESTURE, board="qemu_cortex_m3")
    ops = data["cores"]["cortex-m3"]["ops"]["reference"]
    parts = data["cores"]["cortex-m3"]["kernels"]["reference"]
    p = plan_for(m, boards.get("qemu_cortex_m3"), arena=2880)
    assert not p.missing
    union = set().union(*(ops[o] for o in m.model.ops_used))
    planned = p.flash["TFLM reference kernels (" + ", ".join(m.model.ops_used) + ")"]
    assert planned == sum(parts[x] for x in union) < sum(parts[x] for o in m.model.ops_used for x in ops[o])
    # Fewer ops, fewer bytes.
    fewer = replace(m, model=replace(m.model, operators=tuple(o for o in m.model.operators if o.op != "CONV_2D")))
    q = plan_for(fewer, boards.get("qemu_cortex_m3"), arena=2880)
    assert not q.missing and q.flash_total < p.flash_total
