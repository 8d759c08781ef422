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
KEYWORD = REPO / "samples" / "keyword" / "keyword.yaml"
VIBRATION = REPO / "samples" / "vibration" / "vibration.yaml"
SAMPLES = [ANOMALY, GESTURE, SINE, ENVIRONMENTAL, KEYWORD, VIBRATION]
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


@pytest.fixture(scope="module")
def firmware_workspace():
    """The Zephyr workspace with what a firmware build needs (the tflite-micro module, west)."""
    from zgen.workspace import find_workspace

    ws = find_workspace()
    if ws is None:
        pytest.skip("no Zephyr workspace (ZEPHYR_BASE, a west workspace around the cwd, or ~/zephyrproject)")
    if not (ws.topdir / "optional/modules/lib/tflite-micro").is_dir() and not any(
            ws.topdir.glob("**/tflite-micro/tensorflow/lite/micro")):
        pytest.skip(f"the workspace at {ws.topdir} has no tflite-micro module")
    if shutil.which("west") is None:
        pytest.skip("west is not installed")
    return ws


def pytest_collection_modifyitems(config, items):
    # The sample x board matrix builds every sample for every catalogue board: hours on a
    # 2-core machine. It runs only when asked for by name (-m matrix), never with -m firmware.
    if "matrix" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="the sample x board build matrix takes hours: select it with -m matrix")
    for item in items:
        if "matrix" in item.keywords:
            item.add_marker(skip)
