"""The repository as a west manifest repository: `west init -l` on it gives a
workspace whose `west zgen` runs every zgen command, and whose manifest pins
Zephyr 3.7.1's tflite-micro. The network `west update` needs is replaced by a
local clone of the workspace's Zephyr (skipped when there is none)."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import ANOMALY, REPO
from zgen.workspace import WEST_PROJECTS, ZEPHYR_REVISION, find_workspace


@pytest.fixture(scope="module")
def west_ws(tmp_path_factory):
    if shutil.which("west") is None:
        pytest.skip("west is not installed")
    ws = find_workspace()
    if ws is None or not (ws.zephyr_base / ".git").exists():
        pytest.skip("no Zephyr git tree to clone in place of `west update`")
    top = tmp_path_factory.mktemp("westws")
    repo = top / "zgen"
    for rel in ("west.yml", "west-commands.yml", "zgen/west_command.py"):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / rel, repo / rel)
    subprocess.run(["west", "init", "-l", str(repo)], cwd=top, check=True, capture_output=True)
    subprocess.run(["git", "clone", "-q", "--shared", str(ws.zephyr_base), str(top / "zephyr")], check=True)
    subprocess.run(["git", "-C", str(top / "zephyr"), "update-ref", "refs/heads/manifest-rev", "HEAD"], check=True)
    return top


def _west(top, *args):
    return subprocess.run(["west", *args], cwd=top, capture_output=True, text=True)


def test_west_zgen_runs_zgen(west_ws):
    r = _west(west_ws, "zgen", "--version")
    assert r.returncode == 0 and r.stdout.strip() == "zgen 0.1.0", r.stderr
    r = _west(west_ws, "zgen", "new", str(ANOMALY), "-o", str(west_ws / "app"))
    assert r.returncode == 0, r.stderr
    assert (west_ws / "app" / "zgen.lock").is_file()


def test_west_zgen_passes_exit_status_and_errors(west_ws):
    r = _west(west_ws, "zgen", "new", str(west_ws / "missing.yaml"))
    assert r.returncode == 2 and "no such manifest file" in r.stderr


def test_manifest_pins_the_modules(west_ws):
    r = _west(west_ws, "list", "-f", "{name} {revision}")
    assert r.returncode == 0, r.stderr
    projects = dict(line.split() for line in r.stdout.splitlines())
    assert projects["zephyr"] == "v3.7.1"
    assert projects["tflite-micro"] == "48613f7ba1ffbda46ad771a77a35408f48f922e9"
    assert set(WEST_PROJECTS) <= set(projects)


def test_apps_ci_installs_what_the_manifest_imports():
    """The modules a generated app's CI workflow fetches are the ones west.yml imports."""
    import yaml

    doc = yaml.safe_load((REPO / "west.yml").read_text())
    (zephyr,) = [p for p in doc["manifest"]["projects"] if p["name"] == "zephyr"]
    assert zephyr["revision"] == ZEPHYR_REVISION
    assert sorted(zephyr["import"]["name-allowlist"]) == sorted(WEST_PROJECTS)
