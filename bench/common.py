"""What the firmware benches share: finding the workspace (or saying why a script is skipped),
skipping boards without a toolchain, and the folder their apps are built in."""
from __future__ import annotations

import os
import sys
from pathlib import Path

# The firmware tests' folder (ZGEN_FIRMWARE_TEST_DIR): bench apps are built at the same folder
# depth, so with CCACHE_BASEDIR set to it they share TFLM's compiled objects with the tests.
FIRMWARE_CACHE = Path(os.environ.get("ZGEN_FIRMWARE_TEST_DIR", Path.home() / ".cache" / "zgen" / "firmware-tests"))
# ccache (Zephyr uses it where installed) then keys the build folders' own paths relative to it: a
# bench app's TFLM objects hit the cache the tests filled (a first TFLM build is 15-30 minutes on
# 2 cores). Only where the user has not set these.
os.environ.setdefault("CCACHE_BASEDIR", str(FIRMWARE_CACHE))
os.environ.setdefault("CCACHE_NOHASHDIR", "true")


def workspace(script: str):
    """The Zephyr workspace with TFLM, or None once `script: skipped: why` is said."""
    from zgen.workspace import find_workspace

    ws = find_workspace()
    if ws is None or ws.tflite_micro is None:
        why = "no Zephyr workspace (ZEPHYR_BASE, a west workspace around the current folder, ~/zephyrproject)" \
            if ws is None else f"the workspace at {ws.topdir} has no tflite-micro module"
        print(f"{script}: skipped: {why}", file=sys.stderr)
        return None
    return ws


def toolchain_problem(board, ws) -> str | None:
    """Why `board` cannot be built here, or None."""
    from zgen.errors import ToolError
    from zgen.workspace import toolchain_env

    try:
        toolchain_env(board, ws)
    except ToolError as e:
        return str(e)
    return None
