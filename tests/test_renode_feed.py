"""Feeding the recording into Renode's LIS2DW12: the values the firmware will read.

The references here are independent of zgen's code: the Zephyr 3.7 driver's
conversion compiled as C (float32 arithmetic, as on the Cortex-M4F), Renode's
conversion redone with Python's Decimal (Renode computes in C# decimal), and
`zgen simulate` run from the CLI on a CSV built from those values.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from decimal import Decimal

import numpy as np
import pytest

from conftest import ANOMALY
from zgen import boards
from zgen.cli import main
from zgen.data import load_csv
from zgen.manifest import load_manifest
from zgen import renode_feed

# lis2dw12_convert() of Zephyr 3.7 (drivers/sensor/st/lis2dw12/lis2dw12.c), with the gain the driver
# sets in high-performance mode, given in argv[1]: LIS2DW12_FS_TO_GAIN(fs, 0) = 244 << fs ug/LSB.
LIS2DW12_CONVERT_C = r"""
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#define SENSOR_G 9806650LL
int main(int argc, char **argv)
{
	float gain = argc > 1 ? (float)atoi(argv[1]) : 244;
	for (int raw = -8192; raw <= 8191; raw++) {
		int64_t dval = ((int64_t)raw * gain * SENSOR_G) / 1000000LL;
		printf("%lld\n", (long long)dval);
	}
	return 0;
}
"""


@pytest.fixture(scope="module")
def driver_convert(tmp_path_factory):
    """The driver's conversion compiled for the host."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no host C compiler")
    d = tmp_path_factory.mktemp("lis2dw12")
    (d / "convert.c").write_text(LIS2DW12_CONVERT_C)
    subprocess.run([cc, "-O2", "-ffp-contract=off", "-o", str(d / "convert"), str(d / "convert.c")], check=True)

    def table(gain: int) -> np.ndarray:
        """micro m/s^2 the Zephyr driver reports for every 14-bit count, index count + 8192."""
        out = subprocess.run([str(d / "convert"), str(gain)], check=True, capture_output=True, text=True).stdout
        return np.array([int(x) for x in out.split()], dtype=np.int64)
    return table


@pytest.fixture(scope="module")
def driver_table(driver_convert):
    return driver_convert(244)


def renode_counts(feed_value: str, sensitivity: str = "0.244") -> int:
    """Sensors.LIS2DW12.Convert in high performance: (int)(value * 1000 / sensitivity), where the
    sensitivity is 0.244m * (scaleDivider / 4) with scaleDivider 4, 8, 16, 32 for 2 .. 16 g."""
    return int(Decimal(feed_value) * 1000 / Decimal(sensitivity))


@pytest.mark.parametrize("range_g,gain", [(2, 244), (4, 488), (8, 976), (16, 1952)])
def test_driver_arithmetic_matches_zephyrs_c(driver_convert, range_g, gain):
    counts = np.arange(-8192, 8192)
    assert (renode_feed.Lis2dw12(range_g=range_g).driver_micro(counts) == driver_convert(gain)).all()


def test_a_wider_range_reaches_the_overlay_and_the_feed(tmp_path):
    """`range: 4` sets the part's 4 g range in the overlay, and the feed holds multiples of its
    0.488 mg LSB, so a 3.8 g punch is fed as it was recorded instead of clamped at 2 g."""
    text = ANOMALY.read_text().replace("    address: 0x19\n", "    address: 0x19\n    range: 4\n")
    assert "range: 4" in text
    for part in ("model", "data"):
        shutil.copytree(ANOMALY.parent / part, tmp_path / part)
    manifest = tmp_path / "range4.yaml"
    manifest.write_text(text)
    m = load_manifest(manifest)
    assert main(["new", str(manifest), "-o", str(tmp_path / "app")]) == 0
    for overlay in ("boards/nrf52840dk_nrf52840.overlay", "tests/renode/nrf52840dk_nrf52840.overlay"):
        assert "range = <4>;" in (tmp_path / "app" / overlay).read_text()
    assert "range = <" not in (tmp_path / "app/boards/replay.overlay").read_text()
    fed = renode_feed.plan(m, boards.get("nrf52840dk/nrf52840"))
    assert fed[0].model.lsb_ug == 488
    micro = np.array([[3.8, -3.9, 0.000488 * 3]]) * 9.80665e6
    counts = fed[0].model.counts(micro)
    line = fed[0].model.feed_lines(counts)[0]
    assert [renode_counts(v, "0.488") for v in line.split()] == list(counts[0]) == [7787, -7992, 3]


def test_feed_is_the_nearest_lsb_and_renode_reads_it_back_exactly():
    m = load_manifest(ANOMALY)
    fed = renode_feed.plan(m, boards.get("nrf52840dk/nrf52840"))
    text = renode_feed.feeds(m.recording, fed)["accel.feed"]
    rows = [line.split() for line in text.splitlines()]
    assert len(rows) == m.recording.samples and all(len(r) == 3 for r in rows)
    csv_g = m.recording.micro / 1e6 / 9.80665
    for i in range(0, len(rows), 97):
        for axis, value in enumerate(rows[i]):
            count = renode_counts(value)
            assert Decimal(value) == count * Decimal("0.000244")  # an exact multiple: nothing to truncate
            assert abs(count * 0.000244 - csv_g[i, axis]) <= 0.000122 + 1e-12


def test_fed_suite_expects_simulate_on_what_the_driver_reports(tmp_path, driver_table, capsys):
    """The robot suite's lines = `zgen simulate --data` on the values the firmware will read."""
    app = tmp_path / "motor"
    assert main(["new", str(ANOMALY), "-o", str(app)]) == 0
    feed = (app / "tests/renode/accel.feed").read_text().splitlines()
    micro = np.array([[driver_table[renode_counts(v) + 8192] for v in line.split()] for line in feed])
    csv = tmp_path / "as_read.csv"
    csv.write_text("accel_x,accel_y,accel_z\n" + "".join(
        ",".join(f"{'-' if v < 0 else ''}{abs(v) // 10**6}.{abs(v) % 10**6:06d}" for v in row) + "\n"
        for row in micro))
    capsys.readouterr()
    assert main(["simulate", str(ANOMALY), "--data", str(csv)]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("zgen: ")]
    assert lines[-1].startswith("zgen: end ")
    for stem in ("nrf52840dk_nrf52840", "arduino_nano_33_ble"):
        robot = (app / f"tests/renode/{stem}.robot").read_text()
        expected = re.findall(r"^    Next Line Should Be\s+(.*)$", robot, re.M)
        assert expected == lines[1:-1]  # every window; a fed part never runs out, so no end line
        resc = (app / f"tests/renode/{stem}.resc").read_text()
        assert 'machine LoadPlatformDescriptionFromString "accel: Sensors.LIS2DW12 @ twi0 0x19"' in resc
        assert "sysbus.twi0.accel FeedAccelerationSample $accel_feed" in resc
        overlay = (app / f"tests/renode/{stem}.overlay").read_text()
        assert 'compatible = "st,lis2dw12";' in overlay and "zgen,replay-sensor" not in overlay
    # The Nano's console, a legacy UART in its devicetree, is switched to UARTE for Renode's model.
    nano = (app / "tests/renode/arduino_nano_33_ble.overlay").read_text()
    assert 'compatible = "nordic,nrf-uarte";' in nano and '&i2c0 {\n\tcompatible = "nordic,nrf-twi";' in nano
    assert "nrf-uarte" not in (app / "tests/renode/nrf52840dk_nrf52840.overlay").read_text()


def test_parts_renode_does_not_model_use_the_replay_source():
    m = load_manifest(ANOMALY)
    assert renode_feed.plan(m, boards.get("hifive1")) is None  # no I2C bus mapped to a Renode model
    lis2dh = m.sensors[0].__class__(**{**m.sensors[0].__dict__, "part": "st,lis2dh"})
    other = m.__class__(**{**m.__dict__, "sensors": (lis2dh,)})
    assert renode_feed.plan(other, boards.get("nrf52840dk/nrf52840")) is None


def test_recording_is_within_the_parts_range():
    """The sample recording stays inside +-2 g, so nothing is clamped on the way in."""
    rec = load_csv(ANOMALY.parent / "data/test.csv", ["accel_x", "accel_y", "accel_z"])
    assert np.abs(rec.micro).max() / 1e6 / 9.80665 < 2.0


def test_data_beyond_the_parts_range_is_a_warning_with_the_range_to_set(tmp_path, capsys):
    """A 3 g peak on a part left at its 2 g power-up range saturates on hardware: zgen says so
    (file, line, column, the range to set) and still generates; with `range: 4` it is quiet."""
    for part in ("model", "data"):
        shutil.copytree(ANOMALY.parent / part, tmp_path / part)
    rows = (ANOMALY.parent / "data/test.csv").read_text().splitlines()
    rows[100] = "0.0,29.42,9.80665"  # 3.0 g on y
    (tmp_path / "data/test.csv").write_text("\n".join(rows) + "\n")
    manifest = tmp_path / "loud.yaml"
    manifest.write_text(ANOMALY.read_text())
    capsys.readouterr()
    assert main(["new", str(manifest), "-o", str(tmp_path / "app")]) == 0
    err = capsys.readouterr().err
    assert f"zgen: warning: {manifest}:7:3: the test data reaches 29.4 m/s^2 on 'accel', beyond st,lis2dw12's 2 g " \
           "range (the part saturates there); set `range: 4` (g)" in err, err
    manifest.write_text(ANOMALY.read_text().replace("    address: 0x19\n", "    address: 0x19\n    range: 4\n"))
    assert main(["simulate", str(manifest)]) == 0
    assert "warning" not in capsys.readouterr().err
