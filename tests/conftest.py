"""Shared fixtures: paths, the reference material in ../shared, and the Zephyr
workspace for firmware tests (skipped, with the reason, when there is none)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ANOMALY = REPO / "samples" / "anomaly" / "anomaly.yaml"
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
