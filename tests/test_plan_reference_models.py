"""`zgen check` plans every model of ../shared/reference completely on every board of the
catalogue: each op's kernels measured on the board's core (bench/all_kernels.py) and each op's
instructions (bench/time_plan.py), so no "not measured" for a model nobody calibrated with. The
models of TFLM's signal library (an audio front end as a model) are refused with the step that
runs that front end; the image model, with the window limit."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from zgen import boards
from zgen.errors import ZgenError
from zgen.manifest import load_manifest
from zgen.memory.plan import plan_for
from zgen.memory.timeplan import time_plan
from zgen.model.arena import measure
from zgen.model.tflite import read_model
from zgen.simulate import plan_arena

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from arena import probe_manifest  # noqa: E402 (bench's probe manifests: one scalar sensor, as a new user might)

pytestmark = pytest.mark.usefixtures("reference")


def _models(reference):
    return sorted((reference / "models").rglob("*.tflite"))


def test_every_reference_model_is_planned_completely_on_every_board(reference, tmp_path):
    targets = [b for b in boards.catalogue().values() if b.arch != "posix"]
    assert {b.core for b in targets} >= {"cortex-m3", "cortex-m33", "cortex-m4f", "rv32imac"}
    planned = refused = 0
    arenas = {}
    for model in _models(reference):
        for board in targets:
            folder = tmp_path / model.stem / board.file_stem
            folder.mkdir(parents=True)
            try:
                n = read_model(model).inputs[0].count
                post = "  - output: {}\n  - threshold: {above: 0.5}\n"
                m = load_manifest(probe_manifest(model.stem, model, board.name, n, post, folder))
            except ZgenError as e:
                # Refused with the fix: the signal library's front ends (the step that runs them)
                # and an image model whose input no window of samples holds.
                if model.stem.startswith("audio_preprocessor"):
                    assert "CUSTOM:Signal" in str(e) and "audio_frontend" in str(e), str(e)
                else:
                    assert model.stem == "vww_96_int8" and "window.length is 27648" in str(e), str(e)
                refused += 1
                continue
            if model not in arenas:
                arenas[model] = measure(m.model.path)
            p = plan_for(m, board, plan_arena(m, arenas[model], board.arch, m.kernels_on(board)), replay=True)
            assert not p.missing, (model.name, board.name, p.missing)
            t = time_plan(m, board)
            assert t is not None and not t.missing, (model.name, board.name, t and t.missing)
            assert t.model > 0, (model.name, board.name)
            planned += 1
    assert planned == 8 * len(targets) and refused == 3 * len(targets), (planned, refused)
