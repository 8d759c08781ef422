"""Long work shows progress: a line updated in place on a terminal, plain lines at each tenth in a
log; and `zgen test`'s build reports ninja's steps as west prints them."""
from __future__ import annotations

import io
import sys
import textwrap

from zgen.progress import Progress


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_plain_lines_in_a_log():
    out = io.StringIO()
    p = Progress("build", out, quiet_s=0)
    for i in range(1, 1204):
        p.update(i, 1203)
    p.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 11 and lines[0].startswith("build: 1/1203 (0 %)") and lines[-1].startswith(
        "build: 1203/1203 (100 %)")


def test_quick_work_prints_nothing_in_a_log():
    out = io.StringIO()
    p = Progress("run", out)
    for i in range(1, 101):
        p.update(i, 100)
    p.close()
    assert out.getvalue() == ""


def test_one_line_updated_on_a_terminal():
    out = _Tty()
    p = Progress("build", out)
    p.update(50, 100)
    p.update(100, 100)
    p.close()
    text = out.getvalue()
    assert "\n" not in text and text.count("\r") == 3 and "[############------------] 50/100" in text


def test_the_build_streams_ninjas_steps(tmp_path, monkeypatch):
    """A stand-in for west that prints what west build prints: the runner sees each step."""
    from zgen import boards
    from zgen.testing.base import SimRunner
    from zgen.workspace import Workspace

    west = tmp_path / "bin" / "west"
    west.parent.mkdir()
    west.write_text("#!/bin/sh\n" + textwrap.dedent("""\
        echo '-- west build: building application'
        for i in 1 2 3 4; do echo "[$i/4] Building C object x$i.obj"; done
        echo 'Memory region         Used Size  Region Size  %age Used'
        echo '           FLASH:       10 KB       256 KB      3.91%'
        echo '             RAM:        2 KB        64 KB      3.12%'
        """))
    west.chmod(0o755)
    monkeypatch.setenv("PATH", f"{west.parent}:{__import__('os').environ['PATH']}")
    app = tmp_path / "app"
    app.mkdir()
    (app / "zgen.lock").write_text("{}")
    ws = Workspace(topdir=tmp_path, zephyr_base=tmp_path, found_by="test")
    steps = []
    runner = SimRunner(app, boards.get("qemu_cortex_m3"), ws)
    result = runner.build(progress=lambda d, t: steps.append((d, t)))
    assert steps == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert result.memory["FLASH"] == (10 * 1024, 256 * 1024)


def test_a_nested_ninja_adds_to_the_build_instead_of_ending_it():
    """mps2/an521/cpu1 builds cpu0's image with its own ninja inside the app's: seen here, a bar
    that followed every `[n/N]` line jumped from 120/300 to 530/1060 and said 100 % with 180 of
    the app's steps to go."""
    from zgen.testing.base import NinjaSteps

    steps = NinjaSteps()
    seen = [steps(i, 300) for i in range(1, 121)]
    seen += [steps(i, 1060) for i in range(1, 1061)]
    seen += [steps(i, 300) for i in range(121, 301)]
    assert seen[119] == (120, 300) and seen[120] == (121, 1360)
    assert all(d < t for d, t in seen[:-1]) and seen[-1] == (1360, 1360)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
