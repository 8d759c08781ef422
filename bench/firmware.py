"""The firmware parts of bench/run.py: zgen's apps beside Zephyr's stock TFLM samples, built from
the same workspace with the same model, and the figures that need real builds.

- stock: flash and RAM (from each build's linker map, read the same way) of zgen's app vs
  samples/modules/tflite-micro/hello_world on qemu_cortex_m3 and magic_wand on nrf52840dk, each
  zgen app made from the very model bytes the stock sample compiles in (its C array); the arena
  zgen plans and the firmware's printed use (run in QEMU) vs the sample's constant; and the clean
  build time of both (a new build folder each; the compiler cache as the run finds it, the same
  for both: say --cold to switch ccache off for both).
- trimming: the anomaly app's flash with its generated op resolver vs one that registers every op
  TFLM has (bench/all_kernels.py's two builds, cortex-m3 on mps2/an385).
- inference: instructions per inference and per multiply-accumulate, TFLM's reference kernels vs
  CMSIS-NN on the Cortex-M33 with DSP (QEMU -icount, bench/time_plan.py's profiled builds),
  beside MLPerf Tiny's published latency for the same model.

Each part returns {"skipped": why} where it cannot run (no workspace, no toolchain, no reference).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

from common import FIRMWARE_CACHE, toolchain_problem

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
REFERENCE = REPO.parent / "shared" / "reference"
OUT = HERE / "out" / "stock"

# Zephyr's stock magic_wand reads an ADXL345 (DEVICE_DT_GET_ONE(adi_adxl345)); nrf52840dk has
# none, so both apps get one on the Arduino I2C header (i2c0), at the ADXL345's address 0x53.
ADXL345_OVERLAY = """/* bench/run.py: an ADXL345 on nrf52840dk's Arduino I2C header, as zgen's app has. */
&i2c0 {
\tstatus = "okay";
\tadxl345@53 {
\t\tcompatible = "adi,adxl345";
\t\treg = <0x53>;
\t};
};
"""

# name: (board, the sample's folder, the C file holding its model, the sample's arena constant,
#        zgen's manifest for the same job (MODEL and BOARD filled in))
STOCK = {
    "hello_world": ("qemu_cortex_m3", "hello_world", "src/model.cpp", 2000, """\
zgen: 1
name: hello_world
board: BOARD
sensors:
  x: {kind: adc, rate_hz: 100, columns: [x]}
window: {length: 1, stride: 1}
features: []
model: {file: model.tflite}
postprocess:
  - output: {}
  - threshold: {above: 0.5}
test: {data: data.csv}
"""),
    "magic_wand": ("nrf52840dk/nrf52840", "magic_wand", "src/magic_wand_model_data.cpp", 60 * 1024, """\
zgen: 1
name: magic_wand
board: BOARD
sensors:
  accel: {kind: accelerometer, part: "adi,adxl345", bus: i2c0, address: 0x53, rate_hz: 25}
window: {length: 128, stride: 32}
features: []
model: {file: model.tflite}
postprocess:
  - classify: {labels: [wing, ring, slope, negative]}
  - threshold: {above: 0.5}
test: {data: data.csv}
"""),
}

# MLPerf Tiny v0.5, closed division, the reference submission (TFLM with CMSIS-NN on a
# NUCLEO-L4R5ZI, Cortex-M4F at 120 MHz): median throughput in
# mlcommons/tiny_results_v0.5 closed/reference/results/Nucleo-L4R5ZI/{kws,ad,ic}/performance/results.txt.
MLPERF_HZ = 120e6
MLPERF = {"kws_ref_model": 5.497, "ad01_int8": 99.487, "pretrainedResnet_quant": 1.420}  # inferences/s


def model_bytes(c_file: Path) -> bytes:
    """The bytes of the first `{ 0x.., ... }` array in a C/C++ source (a sample's model)."""
    text = c_file.read_text()
    body = text[text.index("{", text.index("[]")) + 1:]
    body = body[:body.index("}")]
    return bytes(int(v, 16) for v in re.findall(r"0x([0-9a-fA-F]{2})", body))


def _sizes(build: Path) -> tuple[int, int]:
    from zgen.memory import mapfile

    s = mapfile.read(build / "zephyr" / "zephyr.map")
    return s.flash_used, s.ram_used


@contextmanager
def _environ(extra: dict):
    """os.environ with `extra` for the builds inside (zgen's runners read it)."""
    saved = dict(os.environ)
    os.environ.update(extra)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _built(runner, what: str, cmd: list[str] | None = None):
    """Build with progress: zgen's app (runner.build()), or the stock sample's `west build` cmd
    through the runner's own output reader. (exit status, log, seconds)."""
    from zgen.progress import Progress

    bar = Progress(what)
    t = time.monotonic()
    try:
        if cmd is None:
            b = runner.build(timeout=3600, progress=bar.update)
            return 0, b.log, b.seconds
        status, log = runner._stream(cmd, 3600, bar.update)
        return status, log, time.monotonic() - t
    finally:
        bar.close()


def stock(ws, cold: bool = False) -> dict:
    """zgen's app vs each stock sample: flash, RAM, arena, clean build time."""
    from zgen import boards
    from zgen.cli import main as zgen
    from zgen.errors import ToolError
    from zgen.testing.base import SimRunner
    from zgen.testing.compare import arena_figures
    from zgen.testing.qemu import QemuRunner
    from zgen.workspace import toolchain_env

    samples = ws.zephyr_base / "samples" / "modules" / "tflite-micro"
    out = {}
    for name, (board_name, folder, c_file, arena_const, manifest) in STOCK.items():
        board = boards.get(board_name)
        try:
            env = toolchain_env(board, ws)
        except ToolError as e:
            out[name] = {"skipped": str(e)}
            continue
        sample = samples / folder
        if not (sample / c_file).is_file():
            out[name] = {"skipped": f"{sample / c_file} is not in this workspace"}
            continue
        work = OUT / name  # the manifest, model and data
        work.mkdir(parents=True, exist_ok=True)
        # Apps and builds at the firmware tests' folder depth: ccache shares TFLM's objects with them.
        app = FIRMWARE_CACHE / "stock" / name
        (work / "model.tflite").write_bytes(model_bytes(sample / c_file))
        (work / "manifest.yaml").write_text(manifest.replace("BOARD", board_name))
        # Random data: two windows' worth on every column (QEMU replays it; the figures are sizes).
        import numpy as np

        rng = np.random.default_rng(0)
        cols = ["x"] if name == "hello_world" else ["accel_x", "accel_y", "accel_z"]
        rows = rng.uniform(-1, 1, size=(256, len(cols)))
        (work / "data.csv").write_text(",".join(cols) + "\n" + "".join(",".join(f"{v:.3f}" for v in r) + "\n"
                                                                    for r in rows))
        # The stock sample: as its README says, plus what Debian's toolchain needs (picolibc, TLS).
        stock_dir = app / "build" / "stock"
        shutil.rmtree(stock_dir, ignore_errors=True)
        args = ["-DTOOLCHAIN_HAS_PICOLIBC=y", "-DCONFIG_PICOLIBC=y"]
        if name == "magic_wand":
            (work / "adxl345.overlay").write_text(ADXL345_OVERLAY)
            args.append(f"-DEXTRA_DTC_OVERLAY_FILE={work / 'adxl345.overlay'}")
        extra = {"CCACHE_DISABLE": "1"} if cold else {}
        if env.get("ZEPHYR_TOOLCHAIN_VARIANT") in ("gnuarmemb", "cross-compile"):
            extra["ZEPHYR_TOOLCHAIN_SUPPORTS_THREAD_LOCAL_STORAGE"] = "y"
        with _environ(extra):
            status, log, stock_s = _built(SimRunner(app, board, ws, build_dir=stock_dir), f"building stock {name}",
                                          ["west", "build", "-p", "always", "-b", board_name, "-d", str(stock_dir),
                                           str(sample), "--", *args])
        if status != 0:
            out[name] = {"skipped": f"the stock sample did not build: {log[-2000:]}"}
            continue
        sf, sr = _sizes(stock_dir)
        # zgen's app, made and built as a user does (a new build folder: a clean build).
        if zgen(["new", str(work / "manifest.yaml"), "-o", str(app), "--force"]) != 0:
            out[name] = {"skipped": "zgen new failed"}
            continue
        build_dir = app / "build" / "zgen"
        shutil.rmtree(build_dir, ignore_errors=True)
        with _environ({"CCACHE_DISABLE": "1"} if cold else {}):
            _, _, zgen_s = _built(SimRunner(app, board, ws, build_dir=build_dir), f"building zgen's {name}")
        zf, zr = _sizes(build_dir)
        config = (build_dir / "zephyr" / ".config").read_text()
        plan_arena = int(re.search(r"^CONFIG_ZGEN_ARENA_SIZE=(\d+)", config, re.M).group(1))
        row = {"board": board_name, "kernels": "cmsis-nn" if "CMSIS_NN_KERNELS=y" in config else "reference",
               "stock": {"flash": sf, "ram": sr, "arena": arena_const, "build_s": round(stock_s, 1)},
               "zgen": {"flash": zf, "ram": zr, "arena_planned": plan_arena, "build_s": round(zgen_s, 1)},
               "ratio": {"flash": round(zf / sf, 3), "ram": round(zr / sr, 3), "build": round(zgen_s / stock_s, 3)},
               "ccache": "off" if cold else "as found"}
        # The arena the firmware says it uses, from a run in QEMU (the same model and kernels).
        if board.simulated:  # the build above
            qboard, qapp, qbuild = board, app, build_dir
        else:  # the same model and kernels on qemu_cortex_m3
            qboard, qapp = boards.get("qemu_cortex_m3"), FIRMWARE_CACHE / "stock" / f"{name}-qemu"
            qbuild = qapp / "build" / qboard.file_stem
        if qapp == app or zgen(["new", str(work / "manifest.yaml"), "-o", str(qapp), "--force",
                                "--board", qboard.name]) == 0:
            q = QemuRunner(qapp, qboard, ws, qbuild)
            q.build(timeout=3600)
            run = q.run(timeout=300)
            fig = arena_figures(run.lines[0]) if run.lines else None
            if fig:
                row["zgen"]["arena_used"] = fig[0]
                row["zgen"]["arena_used_on"] = qboard.name
                row["ratio"]["arena_planned_over_stock"] = round(plan_arena / arena_const, 3)
        out[name] = row
    return out


def trimming(ws) -> dict:
    """The anomaly app with its generated resolver vs every op registered (cortex-m3, mps2/an385)."""
    import all_kernels
    from zgen import boards

    board = boards.get("mps2/an385")
    if problem := toolchain_problem(board, ws):
        return {"skipped": problem}
    cache = FIRMWARE_CACHE
    regs = all_kernels.registrations(ws.tflite_micro)
    drop = {op for op in regs if op in all_kernels.ZEPHYR_MODULE_LACKS}
    flash = {}
    for tag in ("generated", "all-ops"):
        app = all_kernels.app_dir(cache, tag, drop)
        b = all_kernels._Build(app, board, ws, "reference", tag).build(timeout=3600)
        flash[tag] = _sizes(b.build_dir)[0]
    ops = len([op for op in regs if op not in drop])
    return {"board": board.name, "kernels": "reference", "generated_flash": flash["generated"],
            "all_ops_flash": flash["all-ops"], "all_ops": ops,
            "ratio": round(flash["generated"] / flash["all-ops"], 3)}


INFERENCE_MODELS = ["kws_ref_model", "ad01_int8", "pretrainedResnet_quant", "anomaly (sample)",
                    "keyword (sample)", "vibration (sample)"]


def inference(ws, models=INFERENCE_MODELS) -> dict:
    """Instructions per inference and per MAC, reference vs CMSIS-NN on the M33 with DSP."""
    import time_plan
    from zgen.manifest import load_manifest
    from zgen.model.work import model_work

    board = "mps2/an521/cpu0"
    kept = {}
    if time_plan.RESULTS.is_file():
        for run in json.loads(time_plan.RESULTS.read_text())["runs"]:
            if (run["core"], run["board"], run["dsp"]) == ("cortex-m33", board, True):
                kept.update({(run["kernels"], n): r for n, r in run["rows"].items()})
    out = {}
    for name in models:
        path = time_plan.manifest_path(name, board)
        if not path.is_file():
            out[name] = {"skipped": f"{path} is not here"}
            continue
        m = load_manifest(path)
        macs = sum(w for _, fam, w in model_work(m.model) if not fam.startswith("other"))
        row = {"macs": macs}
        for kset in ("reference", "cmsis-nn"):
            # QEMU -icount counts are deterministic: bench/time_plan.py's kept measurement of the
            # same build serves; measured here where it has none.
            r = kept.get((kset, name)) or time_plan.measure(name, board, kset, True, ws)
            if r is None:
                row[kset] = None
                continue
            row[kset] = {"instructions": round(r["invoke"]), "per_mac": round(r["invoke"] / macs, 2) if macs else None}
        if row.get("reference") and row.get("cmsis-nn"):
            row["reference_over_cmsis_nn"] = round(row["reference"]["instructions"] / row["cmsis-nn"]["instructions"], 2)
        if name in MLPERF:
            cycles = MLPERF_HZ / MLPERF[name]
            row["mlperf"] = {"latency_ms": round(1000 / MLPERF[name], 2), "cycles_at_120MHz": round(cycles),
                             "board": "NUCLEO-L4R5ZI (Cortex-M4F, 120 MHz), TFLM + CMSIS-NN, v0.5 reference"}
            if row.get("cmsis-nn"):
                row["mlperf"]["cycles_per_zgen_instruction"] = round(cycles / row["cmsis-nn"]["instructions"], 2)
        out[name] = row
    return out
