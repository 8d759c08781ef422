"""`zgen doctor` says what it found and, for each missing piece, how to get it."""
from __future__ import annotations

import json

from zgen.cli import main


def test_an_empty_machine_gets_a_fix_for_everything(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in ("ZEPHYR_BASE", "RENODE", "RENODE_PATH", "ZEPHYR_SDK_INSTALL_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["doctor", "--json"]) == 0
    items = {c["what"]: c for c in json.loads(capsys.readouterr().out)}
    for what in ("Zephyr workspace", "Arm GCC (gnuarmemb)", "QEMU (Arm)", "west", "Renode", "host GCC"):
        assert not items[what]["ok"] and items[what]["fix"], what
    assert "apt-get install qemu-system-arm" in items["QEMU (Arm)"]["fix"]
    assert "west init" in items["Zephyr workspace"]["fix"]
    # Each toolchain's line names its own packages, not the other architecture's.
    riscv = items["RISC-V GCC with libstdc++"]
    assert not riscv["ok"] and "riscv64-unknown-elf" in riscv["found"] and "arm-none-eabi" not in riscv["found"]


def test_text_report_marks_found_and_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("ZEPHYR_BASE", raising=False)
    monkeypatch.chdir(tmp_path)
    renode = tmp_path / "renode"
    renode.write_text("#!/bin/sh\n")
    monkeypatch.setenv("RENODE", str(renode))
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "ok  Renode" in out and str(renode) in out
    assert "--  QEMU (Arm)" in out and "needed for zgen test --sim qemu: apt-get install qemu-system-arm" in out
