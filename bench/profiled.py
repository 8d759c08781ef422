"""The profiled QEMU runner the benches share: an app built for mps2/an521/cpu0 with the DSP
extension (CONFIG_ZGEN_PROFILE=y, one TFLM kernel set) and run in QEMU with -icount, where the
SysTick cycles k_cycle_get_32() counts are proportional to instructions.

mps2/an521's cpu1 has the DSP extension, but QEMU 7.2 gives it no timer interrupt under -icount
(boards/mps2_an521_cpu1.yaml). So the builds are for cpu0, compiled for the DSP extension (the
app's Kconfig, in the bench only, selects ARMV8_M_DSP: -mcpu=cortex-m33 instead of +nodsp, and
CMSIS-NN's DSP paths) and run with QEMU's CPU0 DSP switched on (-global sse-200.CPU0_DSP=on):
the same M33 core and DSP instructions as cpu1."""
from __future__ import annotations

from pathlib import Path

BOARD = "mps2/an521/cpu0"
DSP_ON = """
# bench: build cpu0 for the DSP extension its QEMU CPU gets with
# -global sse-200.CPU0_DSP=on (Zephyr selects it for cpu1 only).
config ZGEN_BENCH_CPU0_DSP
	def_bool y
	select ARMV8_M_DSP
"""


def with_dsp(app: Path) -> None:
    """After `zgen new`: the app's Kconfig selects the DSP extension on cpu0."""
    kconfig = app / "Kconfig"
    kconfig.write_text(kconfig.read_text().replace('source "Kconfig.zephyr"', DSP_ON + '\nsource "Kconfig.zephyr"'))


def runner(app: Path, kernels: str, ws, board: str = BOARD, dsp: bool = True, fpu: bool = False,
           build_dir: Path | None = None):
    """A QEMU runner of `app` built with TFLM's `kernels` (reference or cmsis-nn), profiled. On cpu0
    QEMU switches on the DSP extension (and the FPU) where asked: the app's Kconfig must select
    them too (with_dsp; bench/time_plan.py's AS_CPU1 for both)."""
    from zgen import boards
    from zgen.testing.qemu import QemuRunner

    class Profiled(QemuRunner):
        def build_args(self) -> list[str]:
            cmsis = "y" if kernels == "cmsis-nn" else "n"
            return ["-DCONFIG_ZGEN_PROFILE=y", *(["-DCONFIG_FPU=y"] if fpu else []),
                    f"-DCONFIG_TENSORFLOW_LITE_MICRO_CMSIS_NN_KERNELS={cmsis}"]

        def command(self) -> list[str]:
            cmd = super().command()
            on = [*(["-global", "sse-200.CPU0_DSP=on"] if dsp else []),
                  *(["-global", "sse-200.CPU0_FPU=on"] if fpu else [])]
            return cmd[:1] + on + cmd[1:]

    return Profiled(app, boards.get(board), ws, build_dir or app / "build" / kernels)
