"""`zgen test`'s comparison and workspace discovery, without a Zephyr tree."""
from __future__ import annotations

from pathlib import Path

import pytest

from zgen.cli import main
from zgen.testing.compare import arena_figures, compare
from zgen.workspace import find_workspace

HOST = [
    "zgen: start version=0.1.0 app=a model=12345678 rate_hz=200 window=128/64 arena_used=1776 arena_size=1776",
    "zgen: t=127 win=0 score=0.0099 state=normal",
    "zgen: t=191 win=1 score=4.3071 state=anomaly event=anomaly",
    "zgen: end samples=256 windows=2 read_errors=0 overruns=0",
]


def test_arena_figures_and_overruns_are_masked_and_counted():
    fw = [HOST[0].replace("arena_used=1776", "arena_used=916"), HOST[1], "zgen: t=150 overrun=2", HOST[2],
          HOST[3].replace("overruns=0", "overruns=2")]
    c = compare(HOST, fw, "qemu")
    assert c.equal and c.overruns == 2 and c.diff == ""
    assert arena_figures(fw[0]) == (916, 1776)


def test_a_different_decision_fails_with_a_unified_diff():
    fw = [HOST[0], HOST[1], HOST[2].replace("4.3071", "4.3072"), HOST[3]]
    c = compare(HOST, fw, "qemu (qemu_cortex_m3)")
    assert not c.equal
    assert "--- zgen simulate\n+++ qemu (qemu_cortex_m3)\n" in c.diff
    assert "-zgen: t=191 win=1 score=4.3071" in c.diff and "+zgen: t=191 win=1 score=4.3072" in c.diff


def test_read_errors_are_not_masked():
    fw = [HOST[0], "zgen: t=3 read_error=-5", *HOST[1:3], HOST[3].replace("read_errors=0", "read_errors=1")]
    assert not compare(HOST, fw, "x").equal


def test_missing_end_line_is_a_difference():
    assert not compare(HOST, HOST[:-1], "x").equal


def _fake_zephyr(root: Path) -> Path:
    (root / "cmake" / "modules").mkdir(parents=True)
    (root / "cmake" / "modules" / "zephyr_default.cmake").write_text("")
    (root / "VERSION").write_text("VERSION_MAJOR = 3\nVERSION_MINOR = 7\nPATCHLEVEL = 1\n")
    return root


def _fake_west(top: Path) -> Path:
    _fake_zephyr(top / "zephyr")
    (top / ".west").mkdir(parents=True)
    (top / ".west" / "config").write_text("[manifest]\npath = zephyr\n[zephyr]\nbase = zephyr\n")
    return top


def test_zephyr_base_comes_first(tmp_path, monkeypatch):
    base = _fake_zephyr(tmp_path / "zb")
    _fake_west(tmp_path / "ws")
    monkeypatch.setenv("ZEPHYR_BASE", str(base))
    ws = find_workspace(tmp_path / "ws" / "app")
    assert ws.zephyr_base == base and ws.found_by == "ZEPHYR_BASE" and ws.version == "3.7.1"


def test_then_the_west_workspace_around_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("ZEPHYR_BASE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    top = _fake_west(tmp_path / "ws")
    (top / "apps" / "mine").mkdir(parents=True)
    ws = find_workspace(top / "apps" / "mine")
    assert ws.topdir == top and ws.found_by.startswith("west workspace")


def test_then_home_zephyrproject(tmp_path, monkeypatch):
    monkeypatch.delenv("ZEPHYR_BASE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    top = _fake_west(tmp_path / "home" / "zephyrproject")
    ws = find_workspace(tmp_path)
    assert ws.topdir == top and ws.found_by == "~/zephyrproject"


def test_no_workspace_is_a_clear_tool_error(tmp_path, monkeypatch, capsys, sample_copy):
    monkeypatch.delenv("ZEPHYR_BASE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert find_workspace(tmp_path) is None
    assert main(["new", str(sample_copy), "-o", str(tmp_path / "app")]) == 0
    assert main(["test", str(tmp_path / "app"), "--sim", "qemu"]) == 1
    err = capsys.readouterr().err
    assert "no Zephyr workspace found" in err and "~/zephyrproject" in err


def test_test_needs_a_generated_app(tmp_path, capsys):
    assert main(["test", str(tmp_path), "--sim", "native_sim"]) == 2
    assert "is not a zgen app (no zgen.lock)" in capsys.readouterr().err


def _fake_riscv_gcc(folder, multi_dir: str, files: dict[str, str]):
    """A stand-in riscv64-unknown-elf-gcc answering -print-multi-directory / -print-file-name."""
    gcc = folder / "riscv64-unknown-elf-gcc"
    cases = "".join(f'    -print-file-name={k}) echo "{v}";;\n' for k, v in files.items())
    gcc.write_text(f'#!/bin/sh\nfor a in "$@"; do case "$a" in\n    -print-multi-directory) echo "{multi_dir}";;\n'
                   f'{cases}    -print-file-name=*) echo "${{a#-print-file-name=}}";;\nesac; done\n')
    gcc.chmod(0o755)


@pytest.mark.parametrize("multi_dir,files,expected", [
    ("rv32imac/ilp32", {"picolibc.specs": "/x/picolibc.specs", "libstdc++.a": "/x/rv32imac/ilp32/libstdc++.a"}, None),
    (".", {"picolibc.specs": "/x/picolibc.specs"}, "default (rv64) libraries"),  # Debian's GCC as packaged
    ("rv32imac/ilp32", {"picolibc.specs": "/x/picolibc.specs"}, "no libstdc++.a"),
])
def test_riscv_toolchain_without_the_sdk_says_what_is_missing(tmp_path, monkeypatch, multi_dir, files, expected):
    from zgen import boards
    from zgen.workspace import cross_toolchain_problem

    _fake_riscv_gcc(tmp_path, multi_dir, files)
    monkeypatch.setenv("PATH", str(tmp_path))
    problem = cross_toolchain_problem(boards.get("qemu_riscv32"))
    assert problem == expected if expected is None else expected in problem
