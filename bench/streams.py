#!/usr/bin/env python3
"""Streams and spectral pipelines on a Cortex-M33 with DSP, measured: the
micro_speech manifest (TFLM's classifier on zgen's front end, over the four
reference WAVs one after another), samples/keyword and samples/vibration,
each built with TFLM's reference and CMSIS-NN kernels (CONFIG_ZGEN_PROFILE=y)
and run in QEMU with -icount (bench/profiled.py), side by side in one run.

Printed per app and kernel set: the feature pipeline's cycles per frame (per
window for windowed pipelines; the front end, or FFT and bands, plus stacking
and quantisation), the model's cycles per inference, flash and RAM of the
build, the arena the firmware reports, whether the event lines equal `zgen
simulate`'s and whether both kernel sets give bit-identical outputs.
Under -icount, cycles are proportional to instructions.

Needs a Zephyr workspace and ../shared/reference (micro_speech).
Run: python bench/streams.py [--only NAME]   (a recorded run: bench/results/streams.txt)
"""
from __future__ import annotations

import os

import argparse
import statistics
import sys
import wave
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from profiled import BOARD, runner, with_dsp  # noqa: E402

OUT = HERE / "out" / "streams"
REFERENCE = REPO.parent / "shared" / "reference"
# The manifests made here read the reference WAVs and the samples' models in place: allowed.
os.environ["ZGEN_ALLOW_PATH"] = os.pathsep.join([str(REFERENCE), str(REPO / "samples")])


def micro_speech_manifest() -> Path:
    """tests/manifests/micro_speech.yaml over the four reference WAVs (read in place) joined."""
    folder = OUT / "micro_speech-data"
    folder.mkdir(parents=True, exist_ok=True)
    frames = b""
    for name in ("yes", "no", "silence", "noise"):
        with wave.open(str(REFERENCE / "data/tflm_micro_speech" / f"{name}_1000ms.wav")) as w:
            frames += w.readframes(w.getnframes())
    with wave.open(str(folder / "four.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(frames)
    text = (REPO / "tests/manifests/micro_speech.yaml").read_text()
    text = text.replace("../../../shared/reference", str(REFERENCE))
    text = text.replace(str(REFERENCE / "data/tflm_micro_speech/yes_1000ms.wav"), "four.wav")
    (folder / "micro_speech.yaml").write_text(text)
    return folder / "micro_speech.yaml"


def keyword_manifest() -> Path:
    """samples/keyword over the first 5 s of its test recording (two words): its 37 s do not fit
    the board's flash as replay data."""
    folder = OUT / "keyword-data"
    folder.mkdir(parents=True, exist_ok=True)
    with wave.open(str(REPO / "samples/keyword/data/test.wav")) as w:
        frames = w.readframes(5 * w.getframerate())
    with wave.open(str(folder / "first5s.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(frames)
    text = (REPO / "samples/keyword/keyword.yaml").read_text()
    text = text.replace("model/keyword.tflite", str(REPO / "samples/keyword/model/keyword.tflite"))
    text = text.replace("data: data/test.wav", "data: first5s.wav")
    (folder / "keyword.yaml").write_text(text)
    return folder / "keyword.yaml"


APPS = {
    "micro_speech": micro_speech_manifest,
    "keyword": keyword_manifest,
    "vibration": lambda: REPO / "samples/vibration/vibration.yaml",
}


def main() -> int:
    from zgen.cli import main as zgen
    from zgen.manifest import load_manifest
    from zgen.simulate import run as simulate
    from zgen.testing.compare import arena_figures, compare, feature_cycles, profile
    from zgen.workspace import require_workspace

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only")
    args = ap.parse_args()
    ws = require_workspace()
    rows, ok = [], True
    for name, make in APPS.items():
        if args.only and args.only not in name:
            continue
        manifest = make()
        m = load_manifest(manifest, board=BOARD)
        expected = simulate(m).lines
        app = OUT / name
        if zgen(["new", str(manifest), "-o", str(app), "--force", "--board", BOARD]) != 0:
            return 2
        with_dsp(app)
        per_decision = m.frame_stride if m.streaming else 1
        crcs = {}
        for kernels in ("reference", "cmsis-nn"):
            qemu = runner(app, kernels, ws)
            build = qemu.build()
            run = qemu.run(timeout=1800)
            if not run.finished:
                print(run.output[-2000:], file=sys.stderr)
                return 1
            same = compare(expected, run.lines, "firmware").equal
            prof = profile(run.lines)
            feats = feature_cycles(run.lines)
            crcs[kernels] = [c for _, c in prof]
            # Every decision after the first computed `per_decision` frames (the first, the whole stack).
            frame = statistics.median(f / per_decision for f in feats[1:]) if len(feats) > 1 else float(feats[0])
            infer = statistics.median(c for c, _ in prof)
            flash = build.memory.get("FLASH", (0, 0))[0]
            ram = build.memory.get("RAM", (0, 0))[0]
            arena = arena_figures(run.lines[0])[0]
            unit = "frame" if m.streaming else "window"
            rows.append((name, kernels, len(prof), f"{frame:.0f} per {unit}", f"{infer:.0f}", flash, ram, arena,
                         "yes" if same else "NO"))
            ok &= same
            print(f"{name} ({kernels}): {len(prof)} decisions, features {frame:.0f} cycles per {unit}, "
                  f"inference {infer:.0f} cycles, flash {flash} B, RAM {ram} B, arena {arena} B, "
                  f"lines equal to zgen simulate: {'yes' if same else 'NO'}", flush=True)
        identical = crcs["reference"] == crcs["cmsis-nn"]
        ok &= identical
        print(f"{name}: reference and CMSIS-NN outputs bit-identical: {'yes' if identical else 'NO'}", flush=True)
    table = [f"| app ({BOARD} with DSP, QEMU -icount) | kernels | decisions | feature cycles | cycles/inference "
             "| flash B | RAM B | arena_used B | lines = zgen simulate |", "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    table += ["| " + " | ".join(str(v) for v in r) + " |" for r in rows]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "streams.md").write_text("\n".join(table) + "\n")
    print("\n".join(table))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
