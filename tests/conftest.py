"""Shared fixtures: paths, the reference material in ../shared, and the Zephyr
workspace for firmware tests (skipped, with the reason, when there is none)."""
from __future__ import annotations

import os
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
FALL = REPO / "samples" / "fall" / "fall.yaml"
SAMPLES = [ANOMALY, GESTURE, SINE, ENVIRONMENTAL, KEYWORD, VIBRATION, FALL]
# Outside authors' models and recordings; never copied into the repository. Manifests under
# tests/ name them in place: the suite allows that folder explicitly, as a user would with
# --allow-path (a manifest may not otherwise reach outside its own folder).
REFERENCE = REPO.parent / "shared" / "reference"
os.environ["ZGEN_ALLOW_PATH"] = str(REFERENCE)


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
    """Which slow tests the plain run keeps.

    Every firmware test builds Zephyr for a board: minutes each on a 2-core machine, about two
    hours for the set. The plain run (the README's test command, CI) keeps only the tests marked
    smoke (one native_sim build of a sensor sample and one of a microphone sample) so that it
    stays within its 20 minutes on a machine that has a workspace; `-m firmware` selects them all.
    The sample x board matrix (hours more) runs only when asked for by name, `-m matrix`.
    """
    markexpr = config.getoption("markexpr") or ""
    matrix = pytest.mark.skip(reason="the sample x board build matrix takes hours: select it with -m matrix")
    firmware = pytest.mark.skip(
        reason="builds Zephyr firmware, minutes per board: select every firmware test with -m firmware "
               "(the plain run keeps the smoke builds)")
    for item in items:
        if "matrix" in item.keywords and "matrix" not in markexpr:
            item.add_marker(matrix)
        elif ("firmware" in item.keywords and "smoke" not in item.keywords
              and "firmware" not in markexpr and "matrix" not in markexpr):
            item.add_marker(firmware)
