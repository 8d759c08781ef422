#!/usr/bin/env python3
"""Arena plan vs firmware: for each model, the arena TFLM's host interpreter
measures, the arena zgen generates, and the arena the firmware reports
(`arena_used` of its start line) on a QEMU board, in one run.

Needs a Zephyr workspace (see README, Firmware) and ../shared/reference.
Run: python bench/arena.py [--only NAME]   (writes bench/out/arena.md)
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
REFERENCE = REPO.parent / "shared" / "reference" / "models"
OUT = HERE / "out"
# One app folder per board, reused: rebuilds are incremental and ccache hits.
PROBES = Path(os.environ.get("ZGEN_ARENA_PROBE_DIR", Path.home() / ".cache" / "zgen" / "arena-probe"))

# name: (model, board, window length, post-processing)
MODELS = {
    "hello_world_int8": (REFERENCE / "tflm/hello_world_int8.tflite", "qemu_cortex_m3", 1,
                         "  - output: {}\n  - threshold: {above: 0.5}\n"),
    "kws_ref_model": (REFERENCE / "mlperf_tiny/kws_ref_model.tflite", "qemu_cortex_m3", 490,
                      "  - classify: {labels: [" + ", ".join(f"k{i}" for i in range(12)) + "]}\n"
                      "  - threshold: {above: 0.5}\n"),
    "ad01_int8": (REFERENCE / "mlperf_tiny/ad01_int8.tflite", "mps2/an385", 640,
                  "  - anomaly_score: {kind: reconstruction_mse}\n  - threshold: {above: 10}\n"),
    "anomaly (sample)": (REPO / "samples/anomaly/model/anomaly.tflite", "qemu_cortex_m3", None, None),
}


def probe_manifest(name: str, model: Path, board: str, length: int, post: str) -> Path:
    folder = OUT / "arena" / name.split()[0]
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    rows = rng.uniform(-1, 1, size=2 * length)
    (folder / "data.csv").write_text("x\n" + "".join(f"{v:.3f}\n" for v in rows))
    (folder / "probe.yaml").write_text(
        f"zgen: 1\nname: probe_{name.split()[0]}\nboard: {board}\n"
        "sensors:\n  x: {kind: adc, rate_hz: 100, columns: [x]}\n"
        f"window: {{length: {length}, stride: {length}}}\nfeatures: []\n"
        f"model: {{file: {model}}}\npostprocess:\n{post}test: {{data: data.csv}}\n")
    return folder / "probe.yaml"


def main() -> int:
    from zgen import boards
    from zgen.cli import main as zgen
    from zgen.model.arena import measure
    from zgen.testing.qemu import QemuRunner
    from zgen.testing.compare import arena_figures
    from zgen.workspace import require_workspace

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only")
    args = ap.parse_args()
    ws = require_workspace()
    rows = []
    for name, (model, board, length, post) in MODELS.items():
        if args.only and args.only not in name:
            continue
        manifest = (REPO / "samples/anomaly/anomaly.yaml" if length is None
                    else probe_manifest(name, model, board, length, post))
        app = PROBES / boards.get(board).file_stem
        if zgen(["new", str(manifest), "-o", str(app), "--force", "--board", board]) != 0:
            return 2
        host = measure(model)
        runner = QemuRunner(app, boards.get(board), ws)
        build = runner.build()
        run = runner.run(timeout=300)
        used, size = arena_figures(run.lines[0]) if run.lines else (None, None)
        if used is None:
            print(run.output[-2000:], file=sys.stderr)
            return 1
        flash = build.memory.get("FLASH", (0, 0))[0]
        rows.append((name, board, host.total, host.head, host.tail, size, used, size / used, flash))
        print(f"{name}: host {host.total}, generated {size}, firmware {used} ({size / used:.2f}x)", flush=True)
    table = ["| model | board | host total | host head | host tail | generated arena | firmware arena_used | "
             "generated / used | flash B |", "|---|---|---|---|---|---|---|---|---|"]
    table += [f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]} | {r[6]} | {r[7]:.2f} | {r[8]} |" for r in rows]
    OUT.mkdir(exist_ok=True)
    (OUT / "arena.md").write_text("\n".join(table) + "\n")
    print("\n".join(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
