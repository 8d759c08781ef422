"""`zgen new`: validate, analyse the model, simulate, render and write the app."""
from __future__ import annotations

import os
from pathlib import Path

from zgen import __version__
from zgen.codegen.lock import Lock, sha256
from zgen.codegen.render import render
from zgen.codegen.write import WriteReport, write_app
from zgen.errors import ZgenError
from zgen.manifest import Manifest, allowed_roots
from zgen.model.arena import measure
from zgen.simulate import run
from zgen.workspace import find_workspace


def generate(m: Manifest, app: Path, force: bool = False, dry_run: bool = False) -> tuple[WriteReport, int]:
    """Write the app for `m` into `app`; returns the report and the arena size."""
    if m.recording is None:
        raise ZgenError.at(str(m.path), 1, 1, "the manifest has no test data",
                           "add `test: {data: data/test.csv}`: the replay source and tests play it")
    app = Path(app).resolve()
    arena = measure(m.model.path)
    warnings = []
    ws = find_workspace()
    mismatch = ws.pin_mismatch() if ws is not None else None
    if mismatch:
        # The replay of TFLM's allocations holds for the pinned revisions only: elsewhere the
        # arena falls back to a safe bound, unless the manifest sets one.
        warnings.append(f"the Zephyr workspace at {ws.topdir} has {mismatch}: zgen's arena replay, op tables and "
                        "memory plan were measured on zgen's; " + (
                            f"the arena is the manifest's {m.arena} B" if isinstance(m.arena, int) else
                            "the arena falls back to the host's total plus a margin (set `model: arena:` to "
                            "choose it)"))
        if not isinstance(m.arena, int):
            arena = arena.on_foreign_workspace(mismatch)
    sim = run(m, arena=arena)
    rendered = render(m, sim, arena)
    lock = Lock(
        version=__version__,
        manifest=os.path.relpath(m.path.resolve(), app),
        inputs={"manifest": sha256(m.path.read_bytes()), "model": m.model.sha256,
                "data": sha256(m.recording.path.read_bytes())},
        # The folders the user allowed the manifest to reach, for `zgen test` to load it again.
        allow=[str(r) for r in allowed_roots(m.path)[1:]],
    )
    report = write_app(app, rendered.files, lock, force=force, dry_run=dry_run, once=rendered.once)
    report.warnings = warnings
    return report, rendered.arena_size
