#!/usr/bin/env python3
"""Arena plan vs firmware: for each model, the arena TFLM's host interpreter
measures, the Cortex-M use zgen predicts from it (host head + replayed 32-bit
tail, zgen/model/tflm_layout.py), the arena zgen generates, and the arena the
firmware reports (`arena_used` of its start line) on a QEMU board, in one run.

With --board, every model runs on that QEMU board instead: mps2/an521/cpu1
has the DSP extension, so the apps build with CMSIS-NN's kernels there and the
prediction is the CMSIS-NN replay.

Needs a Zephyr workspace (see README, Firmware) and ../shared/reference.
Run: python bench/arena.py [--only NAME] [--board B]   (writes bench/out/arena.md;
recorded runs are in bench/results/arena.txt and arena_cmsis_nn.txt)
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
# The probe manifests made here name reference and sample models in place: allowed.
os.environ["ZGEN_ALLOW_PATH"] = os.pathsep.join([str(REPO.parent / "shared" / "reference"), str(REPO)])
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
    # The samples, with their own manifests (no window length: replayed on qemu_cortex_m3).
    "anomaly (sample)": (REPO / "samples/anomaly/model/anomaly.tflite", "qemu_cortex_m3", None, None),
    "gesture (sample)": (REPO / "samples/gesture/model/gesture.tflite", "qemu_cortex_m3", None, None),
    "sine (sample)": (REPO / "samples/sine/model/sine.tflite", "qemu_cortex_m3", None, None),
    "environmental (sample)": (REPO / "samples/environmental/model/environmental.tflite", "qemu_cortex_m3", None, None),
    # Beyond the four the issue names: a float model and a CONV/ADD/AVERAGE_POOL ResNet. (vww's
    # 27648-value input exceeds the manifest's 4096-sample window.)
    "magic_wand (float)": (REFERENCE / "tflm/magic_wand.tflite", "mps2/an385", 384,
                           "  - classify: {labels: [w, r, l, n]}\n  - threshold: {above: 0.5}\n"),
    "pretrainedResnet_quant": (REFERENCE / "mlperf_tiny/pretrainedResnet_quant.tflite", "mps2/an385", 3072,
                               "  - classify: {labels: [" + ", ".join(f"c{i}" for i in range(10)) + "]}\n"
                               "  - threshold: {above: 0.5}\n"),
}


def manifest_for(name: str, model: Path, board: str, length: int | None, post: str | None) -> Path:
    """A sample's own manifest, or a probe manifest over random data for a reference model."""
    if length is None:
        sample = name.split()[0]
        return REPO / "samples" / sample / f"{sample}.yaml"
    return probe_manifest(name, model, board, length, post)


def probe_manifest(name: str, model: Path, board: str, length: int, post: str, folder: Path | None = None) -> Path:
    """A manifest feeding `model` a window of `length` values from one scalar sensor, with two
    windows of random data (in `folder`, by default bench/out/arena/NAME)."""
    from zgen import boards

    folder = folder or OUT / "arena" / name.split()[0].lower()
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    rows = rng.uniform(-1, 1, size=2 * length)
    (folder / "data.csv").write_text("x\n" + "".join(f"{v:.3f}\n" for v in rows))
    # A simulated board replays a built-in ADC; a real board has none, so one scalar I2C part
    # (its build replays the same data through the replay overlay) at a rate its tick divides.
    b = boards.get(board)
    sensor = ("{kind: adc, rate_hz: 100, columns: [x]}" if b.simulated else
              f'{{kind: temperature, part: "ti,tmp116", bus: {b.buses[0]}, address: 0x48, rate_hz: 64, columns: [x]}}')
    (folder / "probe.yaml").write_text(
        f"zgen: 1\nname: probe_{name.split()[0].lower()[:24]}\nboard: {board}\n"
        f"sensors:\n  x: {sensor}\n"
        f"window: {{length: {length}, stride: {length}}}\nfeatures: []\n"
        f"model: {{file: {model}}}\npostprocess:\n{post}test: {{data: data.csv}}\n")
    return folder / "probe.yaml"


def _runs_with(runner, arena: int) -> bool:
    """Build the probe with another arena (prj.conf) and say whether
    AllocateTensors() succeeds; zgen new --force restores prj.conf."""
    conf = runner.app / "prj.conf"
    original = conf.read_text()
    conf.write_text(original + f"\nCONFIG_ZGEN_ARENA_SIZE={arena}\n")
    try:
        runner.build()
        run = runner.run(timeout=60)  # TFLM aborts (and the board hangs) on some failures
    finally:
        conf.write_text(original)
    return bool(run.lines) and run.lines[0].startswith("zgen: start ")


def main() -> int:
    from zgen import boards
    from zgen.cli import main as zgen
    from zgen.model.arena import measure
    from zgen.testing.qemu import QemuRunner
    from zgen.testing.compare import arena_figures
    from zgen.workspace import require_workspace

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only")
    ap.add_argument("--board", help="run every model on this QEMU board")
    args = ap.parse_args()
    ws = require_workspace()
    rows = []
    for name, (model, board, length, post) in MODELS.items():
        if args.only and args.only not in name:
            continue
        board = args.board or board
        manifest = manifest_for(name, model, board, length, post)
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
        kernels = boards.get(board).tflm_kernels
        predicted = host.used_on("arm", kernels)
        # One arena step (16 B) below the plan must fail: then the plan is the
        # smallest arena that runs, whatever the printed use.
        below = _runs_with(runner, size - 16)
        rows.append((name, f"{board} ({kernels})", host.total, host.head, host.tail, predicted, size, used, size / used,
                     "fails" if not below else "RUNS", flash))
        print(f"{name}: host {host.total}, predicted use {predicted}, generated {size}, firmware use {used} "
              f"({size / used:.3f}x); {size - 16} B: {'runs' if below else 'fails'}", flush=True)
    table = ["| model | board | host total | host head | host tail | predicted Cortex-M use | generated arena | "
             "firmware arena_used | generated / used | generated - 16 B | flash B |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    table += ["| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in r) + " |" for r in rows]
    OUT.mkdir(exist_ok=True)
    (OUT / ("arena.md" if not args.board else f"arena-{boards.get(args.board).file_stem}.md")).write_text("\n".join(table) + "\n")
    print("\n".join(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
