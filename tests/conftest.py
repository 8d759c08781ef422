"""Shared fixtures: paths, the reference material in ../shared, and the Zephyr
workspace for firmware tests (skipped, with the reason, when there is none)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ANOMALY = REPO / "samples" / "anomaly" / "anomaly.yaml"
GESTURE = REPO / "samples" / "gesture" / "gesture.yaml"
SINE = REPO / "samples" / "sine" / "sine.yaml"
ENVIRONMENTAL = REPO / "samples" / "environmental" / "environmental.yaml"
SAMPLES = [ANOMALY, GESTURE, SINE, ENVIRONMENTAL]
# Outside authors' models and recordings; never copied into the repository.
REFERENCE = REPO.parent / "shared" / "reference"


@pytest.fixture
def reference() -> Path:
    if not REFERENCE.is_dir():
        pytest.skip(f"no reference material at {REFERENCE}")
    return REFERENCE


@pytest.fixture
def sample_copy(tmp_path) -> Path:
    """A writable copy of the anomaly sample; returns its manifest."""
    dst = tmp_path / "sample"
    shutil.copytree(ANOMALY.parent, dst, ignore=shutil.ignore_patterns("train.csv", "val.csv", "__pycache__"))
    return dst / "anomaly.yaml"


@pytest.fixture(scope="module")
def zephyr() -> Path:
    """ZEPHYR_BASE of the workspace found the way Zephyr's tools find it."""
    from zgen.workspace import find_workspace

    ws = find_workspace()
    if ws is None:
        pytest.skip("no Zephyr workspace (ZEPHYR_BASE, a west workspace around the cwd, or ~/zephyrproject)")
    return ws.zephyr_base
