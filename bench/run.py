#!/usr/bin/env python3
"""zgen beside the stock way, measured side by side in one run; prints ratios, writes JSON.

Parts (each runs where it can and otherwise says why it was skipped):
- host: `zgen simulate` on a long recording (the anomaly sample's test data repeated 50 times:
  320,000 samples, 1,600 s at 200 Hz) against a straightforward NumPy + LiteRT loop over the
  same data and model (ai-edge-litert, default delegates off): wall and CPU time, windows per
  second, real-time factor; and the two agree on the decisions. Both run as fresh processes, as a
  user runs them, imports included.
- cli: `zgen new` and `zgen check` wall time, and `import zgen.cli` time.
- kernels: the TFLM kernel set zgen picks per model on a DSP core (issue 17: a float model gets
  the reference kernels) and the plan's flash for each set.
- stock, trimming, inference (bench/firmware.py; need a Zephyr workspace and ../shared/reference):
  flash, RAM, arena and clean build time of zgen's app vs Zephyr's stock hello_world
  (qemu_cortex_m3) and magic_wand (nrf52840dk) with the same model; flash with the generated op
  resolver vs every op; instructions per inference and per MAC, reference vs CMSIS-NN on the M33
  with DSP, beside MLPerf Tiny's published latencies. Builds show their progress.

Run: python bench/run.py [--repeat N] [--json OUT] [--no-firmware] [--cold]   (default bench/out/run.json; this machine's
results are committed in bench/results/run.txt and run.json)
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
ANOMALY = REPO / "samples" / "anomaly" / "anomaly.yaml"
REFERENCE = REPO.parent / "shared" / "reference"
os.environ.setdefault("ZGEN_ALLOW_PATH", str(REFERENCE))
REPEAT_DATA = 50

# The peer: what an engineer writes without zgen for the anomaly sample's pipeline (normalize,
# RMS of 8 frames per 128-sample window, stride 64, int8 autoencoder, MSE > 0.03, debounce 3).
PEER = r'''
import sys, time
import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType
csv, model = sys.argv[1], sys.argv[2]
x = np.loadtxt(csv, delimiter=",", skiprows=1, usecols=(0, 1, 2), dtype=np.float64)
x = (x - np.array([0, 0, 9.80665])) / np.array([0.25, 0.2, 0.1])
it = Interpreter(model_path=model, num_threads=1,
                 experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
it.allocate_tensors()
i, o = it.get_input_details()[0], it.get_output_details()[0]
(si, zi), (so, zo) = i["quantization"], o["quantization"]
state, streak, events = 0, 0, []
for end in range(127, len(x), 64):
    w = x[end - 127:end + 1].reshape(8, 16, 3)
    f = np.sqrt((w * w).mean(axis=1)).reshape(1, -1)
    q = np.clip(np.round(f / si) + zi, -128, 127).astype(np.int8)
    it.set_tensor(i["index"], q)
    it.invoke()
    y = (it.get_tensor(o["index"]).astype(np.float32) - zo) * so
    score = float(((y - ((q.astype(np.float32) - zi) * si)) ** 2).mean())
    on = int(score > 0.03)
    streak = streak + 1 if on != state else 0
    if streak >= 3:
        state, streak = on, 0
        events.append((end, on))
print(len(range(127, len(x), 64)), events)
'''


def _timed(cmd: list[str], **kw) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall s, CPU s of the child) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return wall, cpu, proc


def _best(runs):
    return min(runs, key=lambda r: r[0])


def host(repeat: int, work: Path) -> dict:
    try:
        import ai_edge_litert  # noqa: F401
    except ImportError:
        return {"skipped": "ai-edge-litert is not installed (pip install ai-edge-litert)"}
    src = (REPO / "samples" / "anomaly" / "data" / "test.csv").read_text().splitlines()
    data = work / "anomaly_x50.csv"
    data.write_text("\n".join([src[0]] + src[1:] * REPEAT_DATA) + "\n")
    samples = (len(src) - 1) * REPEAT_DATA
    seconds = samples / 200.0
    peer = work / "peer.py"
    peer.write_text(PEER)
    model = REPO / "samples" / "anomaly" / "model" / "anomaly.tflite"
    zgen_cmd = [sys.executable, "-m", "zgen", "simulate", str(ANOMALY), "--data", str(data)]
    peer_cmd = [sys.executable, str(peer), str(data), str(model)]
    zr, pr = [], []
    for _ in range(repeat):  # interleaved, so both see the same machine
        zr.append(_timed(zgen_cmd))
        pr.append(_timed(peer_cmd))
    (zw, zc, zp), (pw, pc, pp) = _best(zr), _best(pr)
    lines = zp.stdout.splitlines()
    windows = sum(" win=" in line for line in lines)
    zgen_events = [(int(line.split("t=")[1].split()[0]), int(line.endswith("event=anomaly")))
                   for line in lines if " event=" in line]
    peer_windows, peer_events = pp.stdout.strip().split(" ", 1)
    peer_events = [tuple(e) for e in eval(peer_events)]  # noqa: S307 (our own script's output)
    return {
        "recording": {"samples": samples, "seconds": seconds, "windows": windows},
        "zgen": {"wall_s": round(zw, 3), "cpu_s": round(zc, 3), "windows_per_s": round(windows / zw),
                 "realtime_factor": round(seconds / zw)},
        "peer": {"wall_s": round(pw, 3), "cpu_s": round(pc, 3), "windows_per_s": round(int(peer_windows) / pw),
                 "realtime_factor": round(seconds / pw)},
        "ratio_zgen_over_peer": {"wall": round(zw / pw, 3), "cpu": round(zc / pc, 3)},
        "events": {"zgen": len(zgen_events), "peer": len(peer_events), "same": zgen_events == peer_events},
        "runs": repeat,
    }


def cli(repeat: int, work: Path) -> dict:
    out = {}
    imp = [_timed([sys.executable, "-X", "importtime", "-c", "import zgen.cli"]) for _ in range(repeat)]
    out["import_zgen_cli_s"] = round(_best(imp)[0], 3)
    interp = [_timed([sys.executable, "-c", "pass"]) for _ in range(repeat)]
    out["python_startup_s"] = round(_best(interp)[0], 3)
    check = [_timed([sys.executable, "-m", "zgen", "check", str(ANOMALY)]) for _ in range(repeat)]
    out["zgen_check_s"] = round(_best(check)[0], 3)
    runs = []
    for k in range(repeat):
        runs.append(_timed([sys.executable, "-m", "zgen", "new", str(ANOMALY), "-o", str(work / f"app{k}")]))
    out["zgen_new_s"] = round(_best(runs)[0], 3)
    return out


def kernels() -> dict:
    from zgen import boards
    from zgen.manifest import load_manifest
    from zgen.memory.plan import plan_for
    from zgen.model.arena import measure
    from zgen.simulate import plan_arena

    dk = boards.get("nrf52840dk/nrf52840")
    out = {}
    models = {"anomaly (int8)": ANOMALY,
              "gesture_reference (float32)": REPO / "tests" / "manifests" / "gesture_reference.yaml"}
    for name, path in models.items():
        if not path.is_file():
            continue
        try:
            m = load_manifest(path, allow=(str(REFERENCE),))
        except Exception as e:  # noqa: BLE001 (the reference material may be absent)
            out[name] = {"skipped": str(e)}
            continue
        arena = measure(m.model.path)
        row = {"picked_on_nrf52840dk": m.kernels_on(dk)}
        for kset in ("reference", "cmsis-nn"):
            p = plan_for(m, dk, plan_arena(m, arena, "arm", kset), replay=False, kernels=kset)
            row[f"plan_flash_{kset}"] = p.flash_total
        out[name] = row
    return out


def report_firmware(result: dict) -> None:
    st = result["stock"]
    if "skipped" in st or "failed" in st:
        print(f"stock samples: {st.get('skipped') or st.get('failed')}")
    else:
        for name, r in st.items():
            if "skipped" in r:
                print(f"stock {name}: skipped: {r['skipped']}")
                continue
            z, s, q = r["zgen"], r["stock"], r["ratio"]
            print(f"stock {name} on {r['board']} (zgen: {r['kernels']} kernels): flash zgen {z['flash']} / stock "
                  f"{s['flash']} B = {q['flash']:.3f}, RAM {z['ram']} / {s['ram']} B = {q['ram']:.3f}")
            used = f", firmware uses {z['arena_used']} B ({z['arena_used_on']})" if "arena_used" in z else ""
            print(f"  arena: zgen plans {z['arena_planned']} B{used}; the stock sample's constant {s['arena']} B")
            print(f"  clean build (ccache {r['ccache']}): zgen {z['build_s']:.0f} s, stock {s['build_s']:.0f} s "
                  f"= {q['build']:.2f}")
        mw = st.get("magic_wand", {})
        if "ratio" in mw:
            print(f"  targets on magic_wand: RAM <= 0.5 x stock: {'met' if mw['ratio']['ram'] <= 0.5 else 'MISSED'} "
                  f"({mw['ratio']['ram']:.3f}); flash <= 1.05 x stock: "
                  f"{'met' if mw['ratio']['flash'] <= 1.05 else 'MISSED'} ({mw['ratio']['flash']:.3f})")
    t = result["trimming"]
    if "ratio" in t:
        print(f"op-resolver trimming ({t['board']}, {t['kernels']}): generated resolver {t['generated_flash']} B "
              f"flash vs every op ({t['all_ops']}) {t['all_ops_flash']} B = {t['ratio']:.3f}")
    else:
        print(f"op-resolver trimming: {t.get('skipped') or t.get('failed')}")
    inf = result["inference"]
    if "skipped" in inf or "failed" in inf:
        print(f"inference: {inf.get('skipped') or inf.get('failed')}")
        return
    print("inference on the Cortex-M33 with DSP (mps2/an521/cpu0, QEMU -icount): instructions per inference")
    for name, r in inf.items():
        if "skipped" in r or not r.get("reference") or not r.get("cmsis-nn"):
            print(f"  {name}: {r.get('skipped', 'not measured')}")
            continue
        ref, cm = r["reference"], r["cmsis-nn"]
        line = (f"  {name}: {r['macs']} MACs; reference {ref['instructions'] / 1e6:.3f} M ({ref['per_mac']} per MAC), "
                f"CMSIS-NN {cm['instructions'] / 1e6:.3f} M ({cm['per_mac']} per MAC): {r['reference_over_cmsis_nn']} x")
        if "mlperf" in r:
            mp = r["mlperf"]
            line += (f"; MLPerf Tiny v0.5 reference {mp['latency_ms']} ms = {mp['cycles_at_120MHz'] / 1e6:.1f} M cycles "
                     f"at 120 MHz ({mp['cycles_per_zgen_instruction']} cycles per instruction counted here)")
        print(line)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs of each timing (the best counts)")
    ap.add_argument("--json", type=Path, default=HERE / "out" / "run.json")
    ap.add_argument("--no-firmware", action="store_true", help="only the parts that need no Zephyr workspace")
    ap.add_argument("--cold", action="store_true", help="clean builds with ccache off (stock and zgen alike)")
    args = ap.parse_args(argv)
    result = {"date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}"}
    from zgen.workspace import find_workspace

    ws = find_workspace()
    result["zephyr"] = ws.version if ws else None
    with tempfile.TemporaryDirectory(prefix="zgen-bench-") as d:
        work = Path(d)
        result["host"] = host(args.repeat, work)
        result["cli"] = cli(args.repeat, work)
    result["kernels"] = kernels()
    if args.no_firmware:
        skip = {"skipped": "--no-firmware"}
    elif ws is None:
        skip = {"skipped": "no Zephyr workspace (ZEPHYR_BASE, a west workspace around the current folder, "
                           "~/zephyrproject)"}
    else:
        skip = None
    if skip is None and not REFERENCE.is_dir():
        skip = {"skipped": f"{REFERENCE} is not here"}
    for part in ("stock", "trimming", "inference"):
        if skip is not None:
            result[part] = skip
            continue
        import firmware

        try:
            result[part] = firmware.stock(ws, cold=args.cold) if part == "stock" else getattr(firmware, part)(ws)
        except Exception as e:  # noqa: BLE001 (one part failing must not hide the others' figures)
            result[part] = {"failed": f"{type(e).__name__}: {e}"}
    h = result["host"]
    print(f"zgen bench {result['date']} ({result['machine']}; Zephyr {result['zephyr']})")
    if "skipped" in h:
        print(f"host: skipped: {h['skipped']}")
    else:
        r = h["recording"]
        print(f"host: {r['samples']} samples ({r['seconds']:.0f} s at 200 Hz), {r['windows']} windows, best of "
              f"{h['runs']}")
        for who in ("zgen", "peer"):
            x = h[who]
            print(f"  {who:5} wall {x['wall_s']:.2f} s, CPU {x['cpu_s']:.2f} s, {x['windows_per_s']} windows/s, "
                  f"{x['realtime_factor']} x real time")
        print(f"  zgen / peer: wall {h['ratio_zgen_over_peer']['wall']:.2f}, CPU {h['ratio_zgen_over_peer']['cpu']:.2f}"
              f"; events {h['events']['zgen']} vs {h['events']['peer']} ({'the same' if h['events']['same'] else 'differ'})")
    c = result["cli"]
    print(f"cli: python startup {c['python_startup_s']:.2f} s, import zgen.cli {c['import_zgen_cli_s']:.2f} s, "
          f"zgen check {c['zgen_check_s']:.2f} s, zgen new {c['zgen_new_s']:.2f} s")
    for name, row in result["kernels"].items():
        if "skipped" in row:
            print(f"kernels: {name}: skipped: {row['skipped']}")
            continue
        print(f"kernels: {name} on nrf52840dk: zgen picks {row['picked_on_nrf52840dk']}; plan flash reference "
              f"{row['plan_flash_reference']} B, cmsis-nn {row['plan_flash_cmsis-nn']} B "
              f"({row['plan_flash_cmsis-nn'] / row['plan_flash_reference']:.2f} x)")
    report_firmware(result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
