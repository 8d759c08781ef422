"""Every sample built for every catalogue board, each build held to `zgen check`'s plan.

One cell per (sample, board): `west build` of the sample's app as a user builds it for that
board (its own board with its real sensors; the simulated boards with the replay source, as
the app sets up; any other real board with the replay overlay, as the app's twister
`build.replay` scenario does). The build must succeed without a compiler warning in the app,
with the TFLM kernel set the board's core calls for, and the plan must be complete and within
10 % of the linker map's flash and RAM. native_sim has no plan (host memory): it must build.

Hours on a 2-core machine, so it runs only when selected: `pytest -m matrix` (with -k to pick
cells). Builds stay in the firmware-test folder, so a rerun is incremental and ccache-fast.
A board whose toolchain is not installed skips, with the reason."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SAMPLES
from test_firmware import APP
from zgen import boards
from zgen.cli import main
from zgen.errors import ToolError
from zgen.testing.base import SimRunner
from zgen.workspace import toolchain_env

pytestmark = [pytest.mark.firmware, pytest.mark.matrix]

CELLS = [(m.stem, b) for m in SAMPLES for b in sorted(boards.catalogue())]
_generated: dict[str, Path] = {}


class _Build(SimRunner):
    """A build-only runner: the replay overlay on real boards other than the manifest's."""

    def __init__(self, app, board, ws, replay_overlay: bool):
        stem = board.file_stem + ("-replay" if replay_overlay else "")
        super().__init__(app, board, ws, build_dir=app / "build" / "matrix" / stem)
        self.replay_overlay = replay_overlay

    def build_args(self) -> list[str]:
        return ["-DEXTRA_DTC_OVERLAY_FILE=boards/replay.overlay"] if self.replay_overlay else []


def _app(name: str) -> Path:
    """The sample's app, generated once per session beside the other firmware-test apps (all at
    one folder depth, so ccache can share objects between them with CCACHE_BASEDIR)."""
    if name not in _generated:
        manifest = next(m for m in SAMPLES if m.stem == name)
        out = APP.parent / "samples" / name
        assert main(["new", str(manifest), "-o", str(out), "--force"]) == 0
        _generated[name] = out
    return _generated[name]


@pytest.mark.parametrize("sample,board_name", CELLS, ids=[f"{s}-{b}" for s, b in CELLS])
def test_sample_builds_within_its_plan(firmware_workspace, sample, board_name):
    from zgen.manifest import load_manifest
    from zgen.memory.builds import Build
    from zgen.memory.plan import plan_for

    board = boards.get(board_name)
    try:
        toolchain_env(board, firmware_workspace)
    except ToolError as e:
        pytest.skip(str(e))
    manifest = load_manifest(next(m for m in SAMPLES if m.stem == sample))
    replay_overlay = not board.simulated and board.name != manifest.board.name
    from zgen.model.arena import measure
    from zgen.simulate import plan_arena

    arena = plan_arena(manifest, measure(manifest.model.path), board.arch, board.tflm_kernels)
    before = plan_for(manifest, board, arena, replay=board.simulated or replay_overlay)
    if before is not None and not before.fits:  # "every sample on every board it fits"
        pytest.skip(f"{sample} does not fit {board_name} ({'replay' if before.replay else 'sensors'}): "
                    f"plan {before.flash_total} B flash of {before.flash_size}, {before.ram_total} B RAM of {before.ram_size}")
    app = _app(sample)
    build = _Build(app, board, firmware_workspace, replay_overlay).build(timeout=3600)
    assert not build.warnings, build.warnings
    if board.arch != "posix":  # read from the image: nothing allocates after start-up
        from zgen.memory.heap import report as heap_report

        heap = heap_report(build.build_dir / "zephyr" / "zephyr.elf")
        assert heap.ok, heap.summary()
    b = Build(build.build_dir)
    assert b.replay == (board.simulated or replay_overlay)
    # The kernel clock the catalogue claims, and the tick zgen chose for the sampling rate (a
    # microphone's rate that no tick choice paces, 16 kHz on a 32768 Hz timer: the board's own
    # tick, as zgen leaves it; the DMIC loop has no sampling timer).
    assert int(b.config["CONFIG_SYS_CLOCK_HW_CYCLES_PER_SEC"]) == board.timer_hz
    assert int(b.config["CONFIG_SYS_CLOCK_TICKS_PER_SEC"]) == (board.app_tick_hz(manifest.rate_hz) or board.tick_hz)
    plan = plan_for(b.manifest, b.board, b.arena, replay=b.replay, kernels=b.kernels)
    if plan is None:  # native_sim: the host's memory
        return
    assert b.kernels == board.tflm_kernels
    assert not plan.missing, plan.missing
    flash, ram = plan.flash_total / b.sizes.flash_used, plan.ram_total / b.sizes.ram_used
    assert 0.9 <= flash <= 1.1 and 0.9 <= ram <= 1.1, (
        f"plan/build: flash {plan.flash_total}/{b.sizes.flash_used} = {flash:.3f}, "
        f"RAM {plan.ram_total}/{b.sizes.ram_used} = {ram:.3f}")
