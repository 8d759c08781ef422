#!/usr/bin/env python3
"""The memory plan on models its measurements never saw, held to real builds.

For each model (TFLM's magic_wand, MLPerf Tiny's kws_ref_model, ad01 and pretrainedResnet_quant,
TFLM's hello_world, the micro_speech manifest and the samples) and each board below, one per core:
`zgen check`'s plan (before any build), then a real build of the app (the replay source; on a real
board the replay overlay, as the app's twister `build.replay` scenario builds it), and the ratio
plan / build of flash and RAM from the build's linker map. A cell whose plan does not fit the
board is not built (the plan's figures are printed). Target: complete plans, within 10 %.

Needs a Zephyr workspace and ../shared/reference.
Run: python bench/plan_models.py [--only NAME ...] [--boards B ...]   (a recorded run:
bench/results/plan_models.txt)
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from arena import REFERENCE, probe_manifest  # noqa: E402 (sets ZGEN_ALLOW_PATH)
from common import FIRMWARE_CACHE, toolchain_problem, workspace  # noqa: E402

BOARDS = ["qemu_cortex_m3", "mps2/an521/cpu1", "nrf52840dk/nrf52840", "qemu_riscv32"]
_LABELS = lambda n, p: "  - classify: {labels: [" + ", ".join(f"{p}{i}" for i in range(n)) + "]}\n"  # noqa: E731
# name: (model, window length, post-processing) for probe manifests; (manifest,) for real ones.
MODELS = {
    "magic_wand (float)": (REFERENCE / "tflm/magic_wand.tflite", 384,
                           _LABELS(4, "g") + "  - threshold: {above: 0.5}\n"),
    "kws_ref_model": (REFERENCE / "mlperf_tiny/kws_ref_model.tflite", 490,
                      _LABELS(12, "k") + "  - threshold: {above: 0.5}\n"),
    "ad01_int8": (REFERENCE / "mlperf_tiny/ad01_int8.tflite", 640,
                  "  - anomaly_score: {kind: reconstruction_mse}\n  - threshold: {above: 10}\n"),
    "pretrainedResnet_quant": (REFERENCE / "mlperf_tiny/pretrainedResnet_quant.tflite", 3072,
                               _LABELS(10, "c") + "  - threshold: {above: 0.5}\n"),
    "hello_world_int8": (REFERENCE / "tflm/hello_world_int8.tflite", 1,
                         "  - output: {}\n  - threshold: {above: 0.5}\n"),
    "micro_speech": (REPO / "tests/manifests/micro_speech.yaml",),
    "keyword (sample)": (REPO / "samples/keyword/keyword.yaml",),
    "vibration (sample)": (REPO / "samples/vibration/vibration.yaml",),
    "fall (sample)": (REPO / "samples/fall/fall.yaml",),
}
RESULTS = HERE / "results"


def manifest_for(name: str, board: str, models: dict = MODELS) -> Path:
    """The manifest of one of `models` for `board`: a real one, or a probe fed from one sensor."""
    if name == "keyword (sample)":  # its first 5 s: the whole 37 s of replay data fit no Arm board here
        from streams import keyword_manifest

        return keyword_manifest()
    spec = models[name]
    return spec[0] if len(spec) == 1 else probe_manifest(name, spec[0], board, spec[1], spec[2])


def main(argv=None) -> int:
    from zgen import boards
    from zgen.cli import main as zgen
    from zgen.manifest import load_manifest
    from zgen.memory import mapfile
    from zgen.memory.plan import plan_for
    from zgen.model.arena import measure
    from zgen.progress import Progress
    from zgen.simulate import plan_arena
    from zgen.testing.base import SimRunner

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=[], help="models whose name contains one of these")
    ap.add_argument("--boards", nargs="*", default=BOARDS)
    args = ap.parse_args(argv)
    ws = workspace("bench/plan_models.py")
    if ws is None:
        return 2

    class Build(SimRunner):
        def __init__(self, app, board, overlay: bool):
            super().__init__(app, board, ws, build_dir=app / "build" / board.file_stem)
            self.overlay = overlay

        def build_args(self) -> list[str]:
            return ["-DEXTRA_DTC_OVERLAY_FILE=boards/replay.overlay"] if self.overlay else []

    rows, lines = [], []
    for name, spec in MODELS.items():
        if args.only and not any(x in name for x in args.only):
            continue
        if not spec[0].is_file():
            print(f"{name}: skipped, {spec[0]} is not here")
            continue
        for board_name in args.boards:
            board = boards.get(board_name)
            if problem := toolchain_problem(board, ws):
                print(f"{name} on {board_name}: skipped: {problem}")
                continue
            manifest_path = manifest_for(name, board_name)
            m = load_manifest(manifest_path)
            overlay = not board.simulated
            arena = plan_arena(m, measure(m.model.path), board.arch, m.kernels_on(board))
            plan = plan_for(m, board, arena, replay=True)
            cell = {"model": name, "board": board_name, "core": board.core, "kernels": m.kernels_on(board),
                    "plan_flash": plan.flash_total, "plan_ram": plan.ram_total, "missing": plan.missing}
            if plan.missing:
                print(f"{name} on {board_name}: INCOMPLETE plan: {'; '.join(plan.missing)}")
            if not plan.fits:
                cell["built"] = False
                print(f"{name} on {board_name}: does not fit (plan {plan.flash_total} B flash of {plan.flash_size}, "
                      f"{plan.ram_total} B RAM of {plan.ram_size}): not built", flush=True)
                rows.append(cell)
                continue
            # At the firmware tests' folder depth: ccache shares TFLM's objects with their builds.
            app = FIRMWARE_CACHE / "plan-models" / name.split()[0].lower()
            if zgen(["new", str(manifest_path), "-o", str(app), "--force", "--board", board_name]) != 0:
                return 2
            bar = Progress(f"building {name} for {board_name}")
            try:
                b = Build(app, board, overlay).build(timeout=3600, progress=bar.update)
            finally:
                bar.close()
            sizes = mapfile.read(b.build_dir / "zephyr" / "zephyr.map")
            cell.update(built=True, flash=sizes.flash_used, ram=sizes.ram_used,
                        flash_ratio=round(plan.flash_total / sizes.flash_used, 3),
                        ram_ratio=round(plan.ram_total / sizes.ram_used, 3), build_s=round(b.seconds, 1))
            rows.append(cell)
            print(f"{name} on {board_name} ({cell['kernels']}): plan {plan.flash_total} / built {sizes.flash_used} B flash "
                  f"({cell['flash_ratio']:.3f}), plan {plan.ram_total} / built {sizes.ram_used} B RAM "
                  f"({cell['ram_ratio']:.3f})", flush=True)
    # Kept per cell: a run of some models or boards replaces those cells and keeps the others.
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "plan_models.json"
    kept = json.loads(out.read_text())["cells"] if out.is_file() else []
    done = {(c["model"], c["board"]) for c in rows}
    order = {n: i for i, n in enumerate(MODELS)}
    cells = sorted([c for c in kept if (c["model"], c["board"]) not in done] + rows,
                   key=lambda c: (order.get(c["model"], len(order)), c["core"], c["board"]))
    stamp = {"date": datetime.date.today().isoformat(), "zephyr": ws.version, "cells": cells}
    out.write_text(json.dumps(stamp, indent=1) + "\n")
    print(table(cells))
    built = [c for c in rows if c["built"]]
    return 0 if all(not c["missing"] for c in rows) and all(
        0.9 <= c["flash_ratio"] <= 1.1 and 0.9 <= c["ram_ratio"] <= 1.1 for c in built) else 1


def table(cells: list[dict]) -> str:
    """Every kept cell (this run's and earlier runs'), and the range of the ratios."""
    lines = ["| model | board (core, kernels) | plan flash | built flash | ratio | plan RAM | built RAM | ratio | plan |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for c in cells:
        where = f"{c['board']} ({c['core']}, {c['kernels']})"
        state = "complete" if not c["missing"] else "INCOMPLETE: " + "; ".join(c["missing"])
        if c["built"]:
            lines.append(f"| {c['model']} | {where} | {c['plan_flash']} | {c['flash']} | {c['flash_ratio']:.3f} | "
                         f"{c['plan_ram']} | {c['ram']} | {c['ram_ratio']:.3f} | {state} |")
        else:
            lines.append(f"| {c['model']} | {where} | {c['plan_flash']} | - | - | {c['plan_ram']} | - | - | "
                         f"{state}; does not fit, not built |")
    built = [c for c in cells if c["built"]]
    if built:
        cores = sorted({c["core"] for c in built})
        lines.append(f"{len(built)} builds on {len(cores)} cores ({', '.join(cores)}): flash "
                     f"{min(c['flash_ratio'] for c in built):.3f}-{max(c['flash_ratio'] for c in built):.3f}, RAM "
                     f"{min(c['ram_ratio'] for c in built):.3f}-{max(c['ram_ratio'] for c in built):.3f}; "
                     f"{len(cells) - len(built)} cells do not fit their board (not built); incomplete plans: "
                     f"{sum(bool(c['missing']) for c in cells)}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
