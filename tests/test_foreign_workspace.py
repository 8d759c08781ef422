"""A workspace at other Zephyr / TFLM revisions than zgen's: doctor, `zgen new` and `zgen test` say so,
naming both, and generated arenas fall back to the host's total plus a stated margin (the replay of
TFLM's allocations holds for the pinned TFLM only) unless the manifest sets one. The workspace is a
fake: a west topdir with a Zephyr VERSION file and a tflite-micro module at another commit."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from conftest import ANOMALY
from zgen.cli import main

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]


@pytest.fixture
def foreign(tmp_path, monkeypatch):
    top = tmp_path / "ws"
    (top / ".west").mkdir(parents=True)
    (top / ".west/config").write_text("[manifest]\npath = zephyr\n[zephyr]\nbase = zephyr\n")
    zephyr = top / "zephyr"
    (zephyr / "cmake/modules").mkdir(parents=True)
    (zephyr / "cmake/modules/zephyr_default.cmake").write_text("")
    (zephyr / "VERSION").write_text("VERSION_MAJOR = 3\nVERSION_MINOR = 6\nPATCHLEVEL = 0\n")
    tflm = top / "optional/modules/lib/tflite-micro"
    (tflm / "tensorflow/lite/micro").mkdir(parents=True)
    subprocess.run([*GIT, "init", "-q", str(tflm)], check=True)
    subprocess.run([*GIT, "-C", str(tflm), "commit", "-q", "--allow-empty", "-m", "another TFLM"], check=True)
    rev = subprocess.run(["git", "-C", str(tflm), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    monkeypatch.setenv("ZEPHYR_BASE", str(zephyr))
    return rev


def _host_total(model) -> int:
    """TFLM's host interpreter's arena total for the model, read here from its own report."""
    code = ("import sys, numpy as np\nfrom tflite_micro.python.tflite_micro import runtime\n"
            "i = runtime.Interpreter.from_bytes(open(sys.argv[1], 'rb').read(), arena_size=1 << 22)\n"
            "d = i.get_input_details(0)\ni.set_input(np.zeros(d['shape'], dtype=d['dtype']), 0)\n"
            "i.invoke()\nsys.stdout.flush()\ni.print_allocations()\n")
    out = subprocess.run([sys.executable, "-c", code, str(model)], capture_output=True, text=True, check=True)
    return int(re.search(r"Arena allocation total (\d+) bytes", out.stdout + out.stderr).group(1))


def test_doctor_names_both_revisions(foreign, capsys):
    assert main(["doctor", "--json"]) == 0
    check = {c["what"]: c for c in json.loads(capsys.readouterr().out)}["Zephyr and TFLM revisions"]
    assert not check["ok"]
    assert check["found"] == f"Zephyr 3.6.0 (zgen's: 3.7.1) and TFLM {foreign[:8]} (zgen's: 48613f7b)"


def test_new_warns_and_falls_back_to_a_safe_arena(foreign, sample_copy, tmp_path, capsys):
    out = tmp_path / "app"
    assert main(["new", str(sample_copy), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"Zephyr 3.6.0 (zgen's: 3.7.1) and TFLM {foreign[:8]} (zgen's: 48613f7b)" in err
    assert "falls back to the host's total plus a margin" in err
    total = _host_total(sample_copy.parent / "model/anomaly.tflite")
    need = -(-total * 125 // 100)          # the host's total + 25 %, rounded up ...
    want = -(-need // 16) * 16             # ... to TFLM's 16-byte alignment
    kconfig = (out / "Kconfig").read_text()
    block = kconfig[kconfig.index("config ZGEN_ARENA_SIZE"):kconfig.index("config ZGEN_ARENA_NEEDED")]
    defaults = [int(d) for d in re.findall(r"^\tdefault (\d+)", block, re.M)]
    assert defaults == [want], (defaults, total)
    assert "+ 25 %" in kconfig and "3.6.0" in kconfig


def test_a_manual_arena_is_kept(foreign, sample_copy, tmp_path, capsys):
    sample_copy.write_text(sample_copy.read_text().replace("arena: auto", "arena: 4096"))
    out = tmp_path / "app"
    assert main(["new", str(sample_copy), "-o", str(out)]) == 0
    assert "the arena is the manifest's 4096 B" in capsys.readouterr().err
    kconfig = (out / "Kconfig").read_text()
    block = kconfig[kconfig.index("config ZGEN_ARENA_SIZE"):kconfig.index("config ZGEN_ARENA_NEEDED")]
    assert re.findall(r"^\tdefault (\d+)", block, re.M) == ["4096"]
