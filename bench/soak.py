#!/usr/bin/env python3
"""Soak: an hour of sensor time on native_sim, faults included, against `zgen simulate`.

The anomaly sample's test recording (32 s at 200 Hz, with its two bearing faults) is repeated to
an hour and more, and the replay sensor injects a fault every 97 s in turn: 3 failed reads, 25
dropped samples, a 60 ms stall. The app is built for native_sim (the firmware's sources, the
host's CPU) and its event lines are compared, every one, with `zgen simulate`'s; the stalls'
overrun lines must be where the host predicts them. Printed: sensor time, samples, decisions,
events, faults, lines compared, the first difference if any, and the wall time of both runs.

Needs a Zephyr workspace. Run: python bench/soak.py [--minutes 60]   (bench/results/soak.txt)
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out" / "soak"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0, help="sensor time (default 60)")
    args = ap.parse_args()

    from zgen.cli import main as zgen
    from zgen.manifest import load_manifest
    from zgen.simulate import run
    from zgen.testing.session import run_test

    shutil.rmtree(OUT, ignore_errors=True)
    shutil.copytree(REPO / "samples" / "anomaly", OUT / "data-src",
                    ignore=shutil.ignore_patterns("train.csv", "val.csv", "__pycache__"))
    src = OUT / "data-src"
    rows = (src / "data/test.csv").read_text().splitlines(keepends=True)
    header, data = rows[0], rows[1:]
    rate = 200
    need = int(args.minutes * 60 * rate) + 1
    repeats = -(-need // len(data))
    (src / "data/soak.csv").write_text(header + "".join(data * repeats))
    samples = len(data) * repeats
    faults, kinds = [], ["{sample: %d, read_errors: 3}", "{sample: %d, drop: 25}", "{sample: %d, stall_ms: 60}"]
    for i, at in enumerate(range(97 * rate, samples - 100, 97 * rate)):
        faults.append(kinds[i % 3] % at)
    manifest = src / "anomaly.yaml"
    text = manifest.read_text().replace("data: data/test.csv", "data: data/soak.csv")
    manifest.write_text(text + "  faults:\n" + "".join(f"    - {f}\n" for f in faults))
    t0 = time.monotonic()
    m = load_manifest(manifest)
    sim = run(m)
    host_s = time.monotonic() - t0
    app = OUT / "app"
    assert zgen(["new", str(manifest), "-o", str(app), "--force"]) == 0
    out = run_test(app, "native_sim", say=lambda s: print(f"  {s}", flush=True), timeout=3600)
    lines = out.run.lines
    print()
    print(f"sensor time        {samples / rate / 60:.1f} min ({samples} samples at {rate} Hz)")
    print(f"faults injected    {len(faults)} (read errors {sum('read_errors' in f for f in faults)} x3, "
          f"drops {sum('drop' in f for f in faults)} x25, stalls {sum('stall' in f for f in faults)} x60 ms)")
    print(f"decisions          {sum(' win=' in l for l in sim.lines)} host, {sum(' win=' in l for l in lines)} firmware")
    print(f"events             {sum('event=' in l for l in sim.lines)} host, {sum('event=' in l for l in lines)} firmware")
    print(f"read_error lines   {sum('read_error=' in l for l in sim.lines)} host, "
          f"{sum('read_error=' in l for l in lines)} firmware")
    print(f"overrun lines      {sum(' overrun=' in l for l in sim.lines)} host, "
          f"{sum(' overrun=' in l for l in lines)} firmware")
    print(f"lines compared     {len(sim.lines)}: {'identical' if out.comparison.equal else 'DIFFERENT'} "
          f"(arena figures and overrun counts masked)")
    if not out.comparison.equal:
        print(out.comparison.diff[:3000])
    print(f"wall time          zgen simulate {host_s:.1f} s, native_sim build {out.build.seconds:.0f} s, "
          f"run {out.run.seconds:.1f} s")
    return 0 if out.comparison.equal and out.passed else 1


if __name__ == "__main__":
    sys.exit(main())
