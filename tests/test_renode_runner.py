"""The Renode runner on its time limit: renode-test starts Renode as a child of its own, and
both must be gone when zgen gives up (a fake renode-test stands in for Renode's)."""
from __future__ import annotations

import os
import time

from conftest import ANOMALY
from zgen import boards
from zgen.cli import main
from zgen.testing.renode import RenodeRunner

FAKE = """#!/bin/sh
# Like renode-test: start the simulator as a child, then wait for it.
sleep 300 &
echo $! > "{pidfile}"
wait
"""


def test_time_limit_stops_renode_test_and_the_renode_it_started(tmp_path, monkeypatch):
    app = tmp_path / "app"
    assert main(["new", str(ANOMALY), "-o", str(app)]) == 0
    fake = tmp_path / "renode-test"
    pidfile = tmp_path / "child.pid"
    fake.write_text(FAKE.format(pidfile=pidfile))
    fake.chmod(0o755)
    monkeypatch.setattr(RenodeRunner, "command", lambda self: [str(fake)])
    runner = RenodeRunner(app, boards.get("nrf52840dk/nrf52840"), ws=None)
    start = time.monotonic()
    result = runner.run(timeout=2)
    assert time.monotonic() - start < 30
    assert "did not finish within 2 s" in result.failure
    child = int(pidfile.read_text())
    for _ in range(50):  # the kill is asynchronous: give the kernel a moment to reap it
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(child, 9)
        raise AssertionError("the simulator renode-test started is still running")
