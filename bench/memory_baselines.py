#!/usr/bin/env python3
"""Measure the memory plan's parts from real builds, and check the plan
against every build found.

Calibration builds (--calibrate DIR ...) give, from their linker maps:
- per board: Zephyr's flash and RAM (kernel, drivers, C libraries, main stack), from a replay build;
- per core: TFLM's core, the zgen runtime and its fixed state, the replay code, what ld saves by
  merging strings, and per kernel set (reference, cmsis-nn) each TFLM kernel source and each
  CMSIS-NN library function;
- per kernel set and op: the kernel sources it pulls in (from builds whose op sets differ by one op;
  ops only ever seen together are kept as one group);
- per board and external part: its driver and bus, a sensor build less the board's replay build.
They are written to boards/memory/measured.yaml with the Zephyr version and the builds used.

Then, for every build under --check roots, the plan (zgen.memory.plan) next to
the build's own figures, with the ratio; builds used for calibration are marked.

Run: python bench/memory_baselines.py --calibrate B1 B2 ... --check ROOT ... [--write]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import yaml

from zgen.memory import mapfile
from zgen.memory.builds import Build, find_builds
from zgen.memory.plan import buffers, feature_tables_bytes, plan_for, replay_data_bytes
from zgen.resources import boards_dir
from common import workspace  # noqa: E402

OUT = boards_dir() / "memory" / "measured.yaml"


def _toolchain() -> str:
    try:
        out = subprocess.run(["arm-none-eabi-gcc", "--version"], capture_output=True, text=True).stdout
        return out.splitlines()[0]
    except (OSError, IndexError):
        return "unknown"


def calibrate(builds: list[Build], kernels: set[str], version: str, known_boards: dict | None = None) -> dict:
    """`known_boards`: board baselines measured before, for a sensor build whose board has no
    replay build among `builds` (its driver is what it links beyond that baseline)."""
    cores: dict[str, dict] = {}
    board_base: dict[str, dict] = {}
    drivers: dict[str, dict] = {}
    opsets = []
    for b in builds:
        flash, ram = mapfile.by_part(b.sizes, kernels)
        m, core = b.manifest, b.board.core
        stems = {p.split(":", 1)[1] for p in flash if p.startswith("kernel:")}
        opsets.append((b.kernels, frozenset(m.model.ops_used), stems))
        c = cores.setdefault(core, {"kernels": {}})
        c.setdefault("tflm", {"flash": flash.get("tflm", 0), "ram": ram.get("tflm", 0)})
        # The feature steps' tables (in pipeline.c) are the plan's own part; microphone apps (a
        # DMIC loop, no sampling thread) are measured apart from sensor apps.
        mic = m.microphone is not None
        # steps_apart: without the feature step families (the plan adds those the manifest uses).
        c.setdefault("zgen_mic" if mic else "zgen", {"flash": flash.get("zgen", 0) - feature_tables_bytes(m),
                                                     "ram": ram.get("zgen", 0) - sum(buffers(m, b.arena).values()),
                                                     "steps_apart": True})
        for part in sorted(flash):  # the feature step families the build links (zgen/steps)
            if part.startswith("steps:"):
                c.setdefault("steps", {}).setdefault(part.split(":", 1)[1],
                                                     {"flash": flash[part], "ram": ram.get(part, 0)})
        c.setdefault("merged_strings", b.sizes.flash_used - sum(flash.values()))
        if b.replay:
            c.setdefault("replay_dmic_code" if mic else "replay_code", flash.get("replay", 0) - replay_data_bytes(m))
        for extra in ("gpio_emul", "workq"):  # parts only some outputs link
            if extra in flash or extra in ram:
                c.setdefault(extra, {"flash": flash.get(extra, 0), "ram": ram.get(extra, 0)})
        for s in sorted(stems):  # a stable file from run to run
            c["kernels"].setdefault(b.kernels, {}).setdefault(s, flash[f"kernel:{s}"])
        # A board's own Zephyr from a sensor app's replay build where there is one: a microphone
        # app also links Zephyr's audio API and memory slabs, which sensor apps do not.
        sensor_build = any(x.replay and x.board.name == b.board.name and x.manifest.microphone is None
                           for x in builds)
        if b.replay and b.board.name not in board_base and not (mic and sensor_build):
            # The system work queue belongs to the board when its drivers link it without the app
            # asking (no pulse output): then the plan never adds it again.
            own_workq = "workq" in flash and not any(o.mode == "pulse" for o in m.outputs)
            kept = ("zephyr", "fill", "workq") if own_workq else ("zephyr", "fill")
            board_base[b.board.name] = {
                "flash": sum(flash.get(k, 0) for k in kept),
                # RAM-only images (CONFIG_XIP=n): RAM holds the image too, which the plan adds
                "ram": b.sizes.ram_used - sum(v for k, v in ram.items() if k not in kept)
                - (b.sizes.flash_used if b.sizes.ram_only else 0),
                "from": str(b)}
            if own_workq:
                board_base[b.board.name]["workq"] = True
            if b.sizes.ram_only:
                board_base[b.board.name]["ram_only"] = True
            if mic:
                board_base[b.board.name]["microphone"] = True
    known = {n: v for n, v in (known_boards or {}).items() if not v.get("microphone")}
    for b in builds:
        base = board_base.get(b.board.name) or known.get(b.board.name)
        if b.replay or base is None:
            continue
        flash, _ = mapfile.by_part(b.sizes, kernels)
        for s in b.manifest.sensors:
            if s.part:
                drivers.setdefault(b.board.name, {})[s.part] = (
                    flash.get("zephyr", 0) + flash.get("fill", 0) - base["flash"])
    ops: dict[str, dict[str, list[str]]] = {}

    def new_stems(kops: dict, op_set, stems: set[str]) -> list[str]:
        """The build's kernel sources that none of its already measured ops accounts for."""
        return sorted(stems - set().union(*(set(kops[o]) for o in op_set if o in kops)))

    for _ in range(len(opsets)):
        for kset, op_set, stems in sorted(opsets, key=lambda x: (x[0], len(x[1]))):
            kops = ops.setdefault(kset, {})
            unknown = [o for o in op_set if o not in kops]
            if len(unknown) == 1:
                kops[unknown[0]] = new_stems(kops, op_set, stems)
    # Ops that only ever came in together (a CNN's CONV_2D, MAX_POOL_2D, MEAN, RESHAPE): their
    # sources as one group, "OP+OP+...", which plans any model that uses all of them.
    groups = []
    for b, (kset, op_set, stems) in zip(builds, opsets):
        kops = ops.setdefault(kset, {})
        unknown = sorted(o for o in op_set if o not in kops)
        if len(unknown) > 1:
            kops.setdefault("+".join(unknown), new_stems(kops, op_set, stems))
            groups.append((b, kset, "+".join(unknown)))
    data = {"zephyr": version, "toolchain": _toolchain(),
            "calibrated_from": [str(b) for b in builds],
            "boards": board_base, "cores": cores, "ops": ops, "drivers": drivers}
    # What such a group pulls in besides its own sources: more of the objects every model links
    # (TFLM's shared helpers, the op resolver, libm). Its build, planned without it, tells.
    # Every group build is planned before any residual joins the data (else the second core's
    # build would lack the first core's "shared:" part and never be planned); per core, the first
    # build's residual.
    residuals = []
    for b, kset, group in groups:
        p = plan_for(b.manifest, b.board, b.arena, replay=b.replay, kernels=kset, data=data)
        if p is not None and not p.missing:
            residuals.append((b.board.core, kset, group, b.sizes.flash_used - p.flash_total))
    for core, kset, group, residual in residuals:
        shared = f"shared:{group}"
        cores[core]["kernels"][kset].setdefault(shared, residual)
        if shared not in ops[kset][group]:
            ops[kset][group].append(shared)
    return data


RUNTIME_PARTS = ("zgen", "zgen_mic", "replay_code", "replay_dmic_code", "gpio_emul", "workq")


def merge(old: dict, new: dict) -> dict:
    """`new` (a calibration of a few builds) into `old`: per core, the zgen runtime's own parts are
    new's (they change whenever lib/zgen does); boards and drivers new measured replace or join
    old's. Kernels and ops are not merged: a few builds cannot tell ops apart (see calibrate)."""
    out = dict(old)
    out["calibrated_from"] = old["calibrated_from"] + [b for b in new["calibrated_from"]
                                                       if b not in old["calibrated_from"]]
    # A board or driver measured again replaces its old figure (the workspace may have changed: e.g.
    # the segger module makes nRF boards link SEGGER RTT's buffers).
    out["boards"] = {**old.get("boards", {}), **new.get("boards", {})}
    out["drivers"] = {board: {**old.get("drivers", {}).get(board, {}), **new.get("drivers", {}).get(board, {})}
                      for board in {**old.get("drivers", {}), **new.get("drivers", {})}}
    for name, base in new.get("boards", {}).items():  # a microphone app's never replaces a sensor app's
        if base.get("microphone") and name in old.get("boards", {}) and not old["boards"][name].get("microphone"):
            out["boards"][name] = old["boards"][name]
    for core, c in new["cores"].items():
        if core in out["cores"]:
            # The step families new measured replace or join old's; a core measured before they
            # were linked apart loses its figure of every family with zgen's (new's, without them).
            steps = {**out["cores"][core].get("steps", {}), **c.get("steps", {})}
            out["cores"][core].update({part: v for part, v in c.items() if part in RUNTIME_PARTS})
            if steps:
                out["cores"][core]["steps"] = steps
        else:
            out["cores"][core] = c
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calibrate", nargs="*", type=Path, default=[])
    ap.add_argument("--add", nargs="*", type=Path, default=[],
                    help="measure these builds and merge them into the measured data: their boards' "
                         "baselines (replay builds), drivers (sensor builds) and their cores' zgen runtime "
                         "parts (zgen, zgen_mic, the feature step families, replay code, GPIO emulator, work "
                         "queue) replace or join it")
    ap.add_argument("--check", nargs="*", type=Path, default=[])
    ap.add_argument("--write", action="store_true", help=f"write {OUT}")
    args = ap.parse_args(argv)
    ws = workspace("bench/memory_baselines.py")
    if ws is None:
        return 2
    kernels = mapfile.kernel_stems(ws.tflite_micro)
    cal = [Build(p) for p in args.calibrate]
    added = [Build(p) for p in args.add]
    if added and not cal:
        old = yaml.safe_load(OUT.read_text())
        data = merge(old, calibrate(added, kernels, ws.version, known_boards=old.get("boards", {})))
    if cal:
        data = calibrate(cal, kernels, ws.version)
    if cal or added:
        text = ("# Measured by bench/memory_baselines.py and bench/all_kernels.py from the linker maps of real "
                "builds; do not edit.\n"
                + yaml.safe_dump(data, sort_keys=False))
        if args.write:
            OUT.parent.mkdir(parents=True, exist_ok=True)
            OUT.write_text(text)
            print(f"wrote {OUT}")
        else:
            print(text)
    used = {str(b.path.resolve()) for b in cal}
    rows = []
    for b in find_builds(*args.check):
        if b.edited:
            continue  # e.g. bench/all_kernels.py's resolver of every op: not what the plan describes
        p = plan_for(b.manifest, b.board, b.arena, replay=b.replay, kernels=b.kernels)
        if p is None:
            continue
        mark = " (calibration)" if str(b.path.resolve()) in used else ""
        rows.append((f"{b}, {b.kernels}{mark}", p, b.sizes))
    if rows:
        print("| build | plan FLASH | built FLASH | ratio | plan RAM | built RAM | ratio | not measured |")
        print("|---|---:|---:|---:|---:|---:|---:|---|")
        for name, p, s in rows:
            print(f"| {name} | {p.flash_total} | {s.flash_used} | {p.flash_total / s.flash_used:.3f} | "
                  f"{p.ram_total} | {s.ram_used} | {p.ram_total / s.ram_used:.3f} | {'; '.join(p.missing)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
