#!/usr/bin/env python3
"""Measure the time plan's coefficients in QEMU and hold the plan to measured figures.

Profiled builds (CONFIG_ZGEN_PROFILE=y: each Invoke()'s cycles and each operator's, the feature
frames' cycles per decision) run in QEMU with -icount shift=6, where one instruction advances the
virtual clock 64 ns and SysTick counts that clock at the board's timer rate: instructions =
cycles / (64 ns x timer_hz). Per core and kernel set:
- cortex-m3 / reference on mps2/an385 (4 MB of RAM: every model fits);
- cortex-m33 / reference and cmsis-nn on mps2/an521/cpu0 with the DSP extension and the FPU switched
  on in QEMU and Kconfig: cpu1's core, which QEMU cannot time (QEMU 7.2 gives cpu1 no timer
  interrupt under -icount);
- rv32imac / reference on qemu_riscv32 (its machine timer at 10 MHz; needs a RISC-V GCC, README);
- cortex-m33 without FPU / reference on mps2/an521/cpu0 as Zephyr builds it (no DSP, no FPU).
Fitted: per operator family (zgen.model.work, float kernels apart) `fixed + per_unit x work`, both
>= 0, least relative error over every operator of every model; per Invoke() what the operators
leave; per feature step family instructions per value read (and per model input value quantised)
and a fixed cost per decision. Written to boards/memory/time.yaml (--write). The measurements are
kept in bench/results/time_plan.json; --refit fits and checks again without QEMU.

Then the check: for every model and sample, the plan (zgen.memory.timeplan) against the median
measured instructions per decision, on the fitting boards and on boards only checked:
qemu_cortex_m3 (a Cortex-M3 at another clock).
Target: within 20 %. Each model's inference is also planned with its own operators left out of the
fit, the honest figure for a model never seen.

Needs a Zephyr workspace and ../shared/reference.
Run: python bench/time_plan.py [--write]   (a recorded run: bench/results/time_plan.txt)
"""
from __future__ import annotations

import argparse
import datetime
import json
import re
import statistics
import sys
from pathlib import Path

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from arena import REFERENCE  # noqa: E402 (sets ZGEN_ALLOW_PATH)
from plan_models import MODELS, manifest_for  # noqa: E402
import profiled  # noqa: E402
from common import FIRMWARE_CACHE, workspace  # noqa: E402
from streams import micro_speech_manifest  # noqa: E402

SHIFT_NS = 64  # -icount shift=6
CONFIGS = {  # (core, kernel set): (board, DSP switched on for cpu0)
    ("cortex-m3", "reference"): ("mps2/an385", False),
    # cpu0 with DSP and FPU stands for cpu1 (the M33 with both), which QEMU cannot time.
    ("cortex-m33", "reference"): ("mps2/an521/cpu0", True),
    ("cortex-m33", "cmsis-nn"): ("mps2/an521/cpu0", True),
    ("rv32imac", "reference"): ("qemu_riscv32", False),  # 256 MB of RAM: every model fits
    # cpu0 as Zephyr builds it: no DSP, no FPU (floats in software); zgen picks reference kernels.
    ("cortex-m33 without FPU", "reference"): ("mps2/an521/cpu0", False),
}
# Not fitted, only held to the plan: (board, core, kernel set, DSP switched on).
CHECK_ONLY = [("qemu_cortex_m3", "cortex-m3", "reference", False)]


# cpu0 made a cpu1 for the bench (what "dsp" means below): QEMU gives cpu1 no timer interrupt under
# -icount (boards/mps2_an521_cpu1.yaml), so cpu1's core (Cortex-M33 with DSP and FPU) is measured
# on cpu0 with both switched on, in QEMU (-global sse-200.CPU0_DSP=on / CPU0_FPU=on) and in Kconfig.
AS_CPU1 = """
# bench/time_plan.py: cpu0 built as the M33 cpu1 is (DSP and FPU), which QEMU gives it with
# -global sse-200.CPU0_DSP=on -global sse-200.CPU0_FPU=on.
config ZGEN_BENCH_CPU0_AS_CPU1
	def_bool y
	select ARMV8_M_DSP
	select CPU_HAS_FPU
"""


def label(board_name: str, dsp: bool) -> str:
    return board_name + (" +DSP+FPU" if dsp else "")
FIT = ["kws_ref_model", "ad01_int8", "magic_wand (float)", "pretrainedResnet_quant", "hello_world_int8",
       "micro_speech", "keyword (sample)", "vibration (sample)", "fall (sample)", "anomaly (sample)",
       "hello_world_float", "gesture_reference (float)"]
# Float models beyond plan_models.py's: more points for the float kernels' families.
EXTRA = {"hello_world_float": (REFERENCE / "tflm/hello_world_float.tflite", 1, "  - output: {}\n  - threshold: {above: 0.5}\n"),
         "gesture_reference (float)": (REPO / "tests/manifests/gesture_reference.yaml",)}
OUT = REPO / "boards" / "memory" / "time.yaml"
RESULTS = HERE / "results" / "time_plan.json"  # the measurements, per run (core, kernels, board)
_OP = re.compile(r"^zgen: profile op=(\d+) tag=(\S+) cycles=(\d+)$")
_INVOKE = re.compile(r"^zgen: profile invoke_cycles=(\d+) output_crc32=\w+ features_cycles=(\d+)$")


def manifest_path(name: str, board: str) -> Path:
    if name == "anomaly (sample)":
        return REPO / "samples" / "anomaly" / "anomaly.yaml"
    if name == "micro_speech":
        return micro_speech_manifest()
    return manifest_for(name, board, {**MODELS, **EXTRA})


def measure(name: str, board_name: str, kset: str, dsp: bool, ws) -> dict | None:
    """Median instructions per Invoke(), per operator (in order) and of the features per decision."""
    from zgen import boards
    from zgen.cli import main as zgen
    board = boards.get(board_name)
    # One app per model and board (and DSP switch): a re-run rebuilds nothing.
    app = FIRMWARE_CACHE / f"time-plan-{board.file_stem}{'-dsp' if dsp else ''}" / name.split()[0].lower()
    if zgen(["new", str(manifest_path(name, board_name)), "-o", str(app), "--force", "--board", board_name]) != 0:
        return None
    if dsp:
        kconfig = app / "Kconfig"
        text = kconfig.read_text()
        if AS_CPU1 not in text:  # zgen new keeps an edit it has no reason to undo
            kconfig.write_text(text.replace('source "Kconfig.zephyr"', AS_CPU1 + '\nsource "Kconfig.zephyr"'))

    q = profiled.runner(app, kset, ws, board_name, dsp=dsp, fpu=dsp,
                        build_dir=app / "build" / f"{board.file_stem}-{kset}{'-dsp' if dsp else ''}")
    q.build(timeout=3600)
    run = q.run(timeout=1800)
    per_instr = 1.0 / (SHIFT_NS * 1e-9 * board.timer_hz)
    invokes, features, ops = [], [], {}
    for line in run.lines:
        if m := _OP.match(line):
            ops.setdefault(int(m.group(1)), []).append(int(m.group(3)))
        elif m := _INVOKE.match(line):
            invokes.append(int(m.group(1)))
            features.append(int(m.group(2)))
    if not invokes:
        print(f"{name} on {board_name}: no profile lines\n{run.output[-1500:]}", file=sys.stderr)
        return None
    # The first decision of a stream computes every frame of its first window: later ones are typical.
    feats = features[1:] if len(features) > 2 else features
    return {"invoke": statistics.median(invokes) * per_instr,
            "ops": [statistics.median(ops[i]) * per_instr for i in sorted(ops)],
            "features": statistics.median(feats) * per_instr, "decisions": len(invokes)}


def fits(name: str, board_name: str, kset: str) -> bool:
    from zgen import boards
    from zgen.manifest import load_manifest
    from zgen.memory.plan import plan_for
    from zgen.model.arena import measure as arena
    from zgen.simulate import plan_arena

    board = boards.get(board_name)
    m = load_manifest(manifest_path(name, board_name))
    p = plan_for(m, board, plan_arena(m, arena(m.model.path), board.arch, kset), replay=True, kernels=kset)
    return p is None or p.fits


def _fit_line(points: list[tuple[int, float, float]]) -> list[float]:
    """`fixed + per_unit x work` through points (work, instructions, weight), both >= 0, least
    weighted relative error. The weight is the op's share of its model's inference: what a plan
    per decision gets wrong is the error of the ops that take the time (soft-float kernels cost
    62-99 instructions a MAC depending on the values: the model that spends 95 % of its time in
    one of them decides the figure, not a small op's fixed cost)."""
    a = np.array([[1.0, n] for n, _, _ in points])
    y = np.array([v for _, v, _ in points])
    w = np.sqrt(np.array([max(x, 1e-6) for _, _, x in points]))
    if len({n for n, _, _ in points}) >= 2:
        (fixed, per_unit), *_ = np.linalg.lstsq(a / y[:, None] * w[:, None], w, rcond=None)
        if fixed >= 0 and per_unit >= 0:
            return [float(fixed), float(per_unit)]
    # One size only, or a negative term: through the origin (per_unit alone).
    per_unit = float(np.average([v / max(1, n) for n, v, _ in points], weights=w ** 2))
    return [0.0, per_unit]


def fit_ops(rows: dict[str, dict], manifests: dict) -> dict:
    """Per operator family: [fixed, per_unit] from every measured operator; and per Invoke()
    what the operators leave."""
    from zgen.model.work import FAMILIES, model_work

    pts: dict[str, list] = {f: [] for f in FAMILIES}
    left = []
    for name, r in rows.items():
        work = model_work(manifests[name].model)
        if len(work) != len(r["ops"]):
            print(f"{name}: {len(r['ops'])} operators profiled, the model has {len(work)}: left out", file=sys.stderr)
            continue
        for (op, fam, n), instr in zip(work, r["ops"]):
            share = instr / max(1.0, sum(r["ops"]))
            pts[fam].append((n, instr, share))
            if fam.startswith("other"):  # and per op, for op_key()
                pts.setdefault(op + fam[len("other"):], []).append((n, instr, share))
        left.append(r["invoke"] - sum(r["ops"]))
    return {"ops": {fam: _fit_line(p) if p else None for fam, p in pts.items()},
            "invoke": float(statistics.median(left)) if left else 0.0}


def fit_features(rows: dict[str, dict], manifests: dict) -> dict:
    """Per step family, instructions per value read, and a fixed cost per decision."""
    from zgen.memory.timeplan import features_work

    eq = [(features_work(manifests[name]), r["features"]) for name, r in rows.items()]
    fams = sorted({f for w, _ in eq for f in w})
    if not fams or len(eq) <= len(fams):
        return {}
    a = np.array([[1.0] + [w.get(f, 0) for f in fams] for w, _ in eq])
    y = np.array([v for _, v in eq])
    sol = _nnls(a / y[:, None], np.ones(len(y)))
    return {"decision": float(sol[0]), "steps": {f: float(v) for f, v in zip(fams, sol[1:])}}


def _nnls(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Least squares with every term >= 0 (active set: drop the most negative term, solve again)."""
    free = list(range(a.shape[1]))
    while True:
        x = np.zeros(a.shape[1])
        x[free], *_ = np.linalg.lstsq(a[:, free], b, rcond=None)
        if (x >= 0).all():
            return x
        free.remove(int(np.argmin(np.where(np.isin(np.arange(len(x)), free), x, np.inf))))


def fit(rows: dict[str, dict], manifests: dict) -> dict:
    """Coefficients from measurements {model: measure()} (models of one core and kernel set)."""
    return {**fit_ops(rows, manifests), **fit_features(rows, manifests)}


def _key(run: dict) -> tuple:
    return run["core"], run["kernels"], run["board"], run["dsp"]


def save(runs: list[dict], ws_version: str) -> None:
    """Keep the measurements (bench/results/time_plan.json), replacing a re-measured run's."""
    merged = json.loads(RESULTS.read_text())["runs"] if RESULTS.is_file() else []
    for run in runs:  # a model measured again replaces its row; the run's other rows stay
        same = next((r for r in merged if _key(r) == _key(run)), None)
        if same is None:
            merged.append(run)
        else:
            same["rows"].update(run["rows"])
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"date": str(datetime.date.today()), "zephyr": ws_version,
                                   "runs": merged}, indent=1) + "\n")


def main(argv=None) -> int:
    from zgen.manifest import load_manifest
    from zgen import boards
    from zgen.memory.timeplan import features_instructions, model_instructions, time_plan
    from zgen.model.work import model_work

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help=f"write {OUT}")
    ap.add_argument("--only", nargs="*", default=[], help="models (names as in FIT)")
    ap.add_argument("--config", nargs="*", default=[], help="CORE/KERNELS to measure (default: all of CONFIGS)")
    ap.add_argument("--no-check-only", action="store_true", help="skip the boards that are only checked")
    ap.add_argument("--checks", action="store_true", help="measure only the boards that are only checked")
    ap.add_argument("--board", nargs="*", default=[], help="of the boards only checked, these")
    ap.add_argument("--refit", action="store_true",
                    help=f"measure nothing: fit and check from the measurements kept in {RESULTS}")
    args = ap.parse_args(argv)
    ws = None if args.refit else workspace("bench/time_plan.py")
    if ws is None and not args.refit:
        return 2
    names = [n for n in FIT if not args.only or n in args.only]
    if not args.refit:
        todo = [(core, kset, board, dsp, True) for (core, kset), (board, dsp) in CONFIGS.items()
                if (not args.config or f"{core}/{kset}" in args.config) and not args.checks]
        if not args.no_check_only:
            todo += [(core, kset, board, dsp, False) for board, core, kset, dsp in CHECK_ONLY
                     if (not args.config or f"{core}/{kset}" in args.config)
                     and (not args.board or board in args.board)]
        for core, kset, board_name, dsp, fitted in todo:
            rows = {}
            for name in names:
                if not fits(name, board_name, kset):
                    print(f"{name}: does not fit {board_name} (the memory plan): not measured there")
                    continue
                r = measure(name, board_name, kset, dsp, ws)
                if r is not None:
                    rows[name] = r
                    print(f"{label(board_name, dsp)} {kset} {name}: {r['invoke'] / 1e6:.3f} M instructions per "
                          f"inference, features {r['features'] / 1e6:.3f} M per decision ({r['decisions']} "
                          "decisions)", flush=True)
            save([{"core": core, "kernels": kset, "board": board_name, "dsp": dsp, "fitted": fitted,
                   "rows": rows}], ws.version)
    kept = json.loads(RESULTS.read_text())
    runs = kept["runs"]
    manifests: dict = {}
    for run in runs:
        for name in run["rows"]:
            if name not in manifests:
                manifests[name] = load_manifest(manifest_path(name, run["board"]))
    data = {"zephyr": kept["zephyr"], "measured": f"QEMU -icount shift=6, bench/time_plan.py, {kept['date']}",
            "cores": {}}
    for run in runs:
        if run["fitted"]:
            data["cores"].setdefault(run["core"], {})[run["kernels"]] = fit(run["rows"], manifests)
    # The check: plan vs measured per decision (features + inference); and the inference planned
    # with that model's own operators left out of the fit (the figure for a model never seen).
    lines = ["| board (core, kernels) | model | measured M instr/decision | plan | ratio | inference measured | "
             "inference plan, model left out | ratio |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    worst = 0.0
    for run in runs:
        core = run["core"]
        if not run["fitted"]:  # as zgen check plans that board (e.g. cpu0 without FPU: the M3's counts)
            core = time_plan(manifests[next(iter(run["rows"]))], boards.get(run["board"]), run["kernels"],
                             data).measured_on if run["rows"] else core
        coeff = data["cores"].get(core, {}).get(run["kernels"])
        if coeff is None:
            continue
        base = next(r for r in runs if r["fitted"] and (r["core"], r["kernels"]) == (core, run["kernels"]))
        where = (f"{label(run['board'], run['dsp'])} ({run['core']}, {run['kernels']}"
                 f"{'' if run['fitted'] else ', not fitted: counts of ' + core})")
        for name, r in run["rows"].items():
            m = manifests[name]
            if any(coeff["ops"].get(fam) is None for _, fam, _ in model_work(m.model)):
                lines.append(f"| {where} | {name} | {(r['invoke'] + r['features']) / 1e6:.3f} | - | - | | | |")
                continue
            got = r["invoke"] + r["features"]
            plan = model_instructions(m, coeff) + features_instructions(m, coeff)
            worst = max(worst, abs(plan / got - 1))
            loo = fit_ops({k: v for k, v in base["rows"].items() if k != name}, manifests)
            if any(loo["ops"].get(fam) is None for _, fam, _ in model_work(m.model)):
                left = "- (its op families only in this model) | -"
            else:
                inf = model_instructions(m, loo)
                left = f"{inf / 1e6:.3f} | {inf / r['invoke']:.3f}"
            lines.append(f"| {where} | {name} | {got / 1e6:.3f} | {plan / 1e6:.3f} | {plan / got:.3f} | "
                         f"{r['invoke'] / 1e6:.3f} | {left} |")
    print("\n".join(lines))
    print(f"worst error of the plan per decision: {100 * worst:.1f} % (target: 20 %)")
    if args.write:
        OUT.write_text("# Measured by bench/time_plan.py in QEMU; do not edit.\n" + yaml.safe_dump(data, sort_keys=False))
        print(f"wrote {OUT}")
    return 0 if worst <= 0.2 else 1


if __name__ == "__main__":
    sys.exit(main())
