"""The anomaly sample: its recording holds injected faults at known times and
`zgen simulate` must report exactly those (within the pipeline's latency)."""
from __future__ import annotations

import json
import subprocess
import sys

from conftest import ANOMALY, REPO
from zgen.manifest import load_manifest
from zgen.simulate import run


def test_events_at_the_injected_fault_times():
    m = load_manifest(ANOMALY)
    faults = json.loads((ANOMALY.parent / "data/faults.json").read_text())
    rate = faults["rate_hz"]
    # A fault is seen once a window's worth of it has arrived and `debounce`
    # windows agree; it clears likewise after the fault ends.
    latency = m.window_length + m.decision.debounce * m.window_stride
    events = [w for w in run(m).windows if w.changed]
    assert [w.line.rsplit("event=", 1)[1] for w in events] == ["anomaly", "normal"] * len(faults["faults"])
    for (on, off), fault in zip(zip(events[::2], events[1::2]), faults["faults"]):
        start, end = int(fault["start_s"] * rate), int(fault["end_s"] * rate)
        assert start <= on.t <= start + latency, (fault, on.line)
        assert end <= off.t <= end + latency, (fault, off.line)


def test_data_generator_is_reproducible(tmp_path):
    subprocess.run([sys.executable, str(REPO / "samples/anomaly/make_data.py"), "--out", str(tmp_path)], check=True)
    assert (tmp_path / "test.csv").read_bytes() == (ANOMALY.parent / "data/test.csv").read_bytes()


def test_simulate_cli_prints_the_event_lines():
    out = subprocess.run([sys.executable, "-m", "zgen", "simulate", str(ANOMALY)], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert out[0].startswith("zgen: start version=0.1.0 app=motor_anomaly model=")
    assert out[-1] == "zgen: end samples=6400 windows=99 read_errors=0 overruns=0"
    # a line per window, and after each of the 4 events the LED's action (led0 follows the state)
    assert sum(" win=" in line for line in out) == 99 and len(out) == 101 + 4
    assert [line.split(" ", 2)[2] for line in out if " out=" in line] == \
        ["out=led0 level=1", "out=led0 level=0", "out=led0 level=1", "out=led0 level=0"]


def test_new_check_and_simulate_never_import_tensorflow(tmp_path):
    code = (
        "import sys\n"
        "from zgen.cli import main\n"
        f"assert main(['new', {str(ANOMALY)!r}, '-o', {str(tmp_path / 'app')!r}]) == 0\n"
        f"assert main(['simulate', {str(ANOMALY)!r}]) == 0\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'tf_keras')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_simulate_plot_draws_a_png(tmp_path):
    import pytest

    pytest.importorskip("matplotlib", reason="--plot needs the [plot] extra")
    from zgen.cli import main

    out = tmp_path / "a.png"
    assert main(["simulate", str(ANOMALY), "--plot", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 20_000
