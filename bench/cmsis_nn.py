#!/usr/bin/env python3
"""CMSIS-NN against TFLM's reference kernels on a Cortex-M33 with the DSP
extension, side by side in one run: the same app (CONFIG_ZGEN_PROFILE=y) built
twice, with CONFIG_TENSORFLOW_LITE_MICRO_CMSIS_NN_KERNELS=n and =y, both run in
QEMU with -icount (zgen's QEMU runner), where the SysTick cycles
k_cycle_get_32() counts around Invoke() are proportional to instructions.

The core: mps2/an521's cpu1 has the DSP extension, but QEMU 7.2 gives it no
timer interrupt under -icount (boards/mps2_an521_cpu1.yaml). So both builds
are for cpu0, compiled for the DSP extension (the app's Kconfig, in this
bench only, selects ARMV8_M_DSP: -mcpu=cortex-m33 instead of +nodsp, and
CMSIS-NN's DSP paths) and run with QEMU's CPU0 DSP switched on
(-global sse-200.CPU0_DSP=on): the same M33 core and DSP instructions as cpu1.

Printed per model: cycles per inference (median) of each build and their
ratio; whether every inference's output tensor is bit-identical (CRC-32 of the
output, per window); each build's flash, and the arena each reports using.

Models: the samples and the reference models of bench/arena.py (probe
manifests over random data). Needs a Zephyr workspace and, for the reference
models, ../shared/reference.
Run: python bench/cmsis_nn.py [--only NAME]   (a recorded run: bench/results/cmsis_nn.txt)
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from arena import MODELS, PROBES, manifest_for  # noqa: E402

from profiled import BOARD, runner, with_dsp  # noqa: E402


def main() -> int:
    from zgen.cli import main as zgen
    from zgen.testing.compare import arena_figures, profile
    from zgen.workspace import require_workspace

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only")
    args = ap.parse_args()
    ws = require_workspace()
    app = PROBES / f"{BOARD.replace('/', '_')}-kernels"

    rows = []
    for name, (model, _, length, post) in MODELS.items():
        if args.only and args.only not in name:
            continue
        if length is not None and not model.is_file():
            print(f"{name}: skipped, {model} is not here", flush=True)
            continue
        manifest = manifest_for(name, model, BOARD, length, post)
        if zgen(["new", str(manifest), "-o", str(app), "--force", "--board", BOARD]) != 0:
            return 2
        with_dsp(app)
        result = {}
        for kernels in ("reference", "cmsis-nn"):
            qemu = runner(app, kernels, ws)
            build = qemu.build()
            run = qemu.run(timeout=900)
            prof = profile(run.lines)
            config = (qemu.build_dir / "zephyr" / ".config").read_text()
            assert "CONFIG_ARMV8_M_DSP=y" in config, "the bench's DSP switch did not take"
            if not run.finished or not prof:
                print(run.output[-2000:], file=sys.stderr)
                return 1
            result[kernels] = (prof, build.memory.get("FLASH", (0, 0))[0], arena_figures(run.lines[0])[0])
        (ref, ref_flash, ref_arena), (nn, nn_flash, nn_arena) = result["reference"], result["cmsis-nn"]
        ref_cycles = statistics.median(c for c, _ in ref)
        nn_cycles = statistics.median(c for c, _ in nn)
        same = [c for _, c in ref] == [c for _, c in nn]
        rows.append((name, len(ref), ref_cycles, nn_cycles, ref_cycles / nn_cycles,
                     "yes" if same else "NO", ref_flash, nn_flash, ref_arena, nn_arena))
        print(f"{name}: {len(ref)} inferences, reference {ref_cycles:.0f} cycles, CMSIS-NN {nn_cycles:.0f} "
              f"({ref_cycles / nn_cycles:.1f}x fewer); outputs bit-identical: {'yes' if same else 'NO'}",
              flush=True)
    table = [f"| model ({BOARD} with DSP, QEMU -icount) | inferences | reference cycles/inference | CMSIS-NN cycles/inference "
             "| reference / CMSIS-NN | outputs bit-identical | flash reference B | flash CMSIS-NN B | "
             "arena_used reference B | arena_used CMSIS-NN B |",
             "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
    table += ["| " + " | ".join(f"{v:.1f}" if isinstance(v, float) else str(v) for v in r) + " |" for r in rows]
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / "cmsis_nn.md").write_text("\n".join(table) + "\n")
    print("\n".join(table))
    return 0 if all(r[5] == "yes" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
