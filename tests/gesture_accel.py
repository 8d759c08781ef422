"""An accelerometer-only punch / upper-cut classifier for a real accelerometer part, made at
test time from the Arduino recordings in ../shared/reference (never stored in the repository).

The Nano 33 BLE's IMU has no Zephyr 3.7 driver and no Renode model that a Zephyr driver reads,
so this manifest puts an ST LIS2DW12 on the nRF52840 DK's I2C bus instead: Renode models that
part, the recording is fed into it, and the firmware reads it through Zephyr's driver. Zephyr
reports acceleration in m/s^2, so the recordings (in g) are converted; punches reach 3.8 g, so
the part runs at its 4 g range. The model is trained with `zgen train` (the 1-D CNN template).
Needs TensorFlow (the [tf] extra)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from conftest import REFERENCE
from zgen.cli import main
from zgen.sensors import STANDARD_GRAVITY

RECORDINGS = REFERENCE / "data" / "arduino_gesture_punch_uppercut"

MANIFEST = """\
zgen: 1
name: gesture_accel
board: nrf52840dk/nrf52840
sensors:
  accel:
    kind: accelerometer
    part: st,lis2dw12
    bus: i2c0
    address: 0x19
    range: 4
    rate_hz: 119
window: {length: 119, stride: 119}     # one gesture per window, as recorded
features:
  - normalize: {mean: [0, 0, 0], std: [39.2266, 39.2266, 39.2266]}   # +-4 g to +-1
  - mean: {frames: 17}
model:
  file: gesture_accel.tflite
postprocess:
  - classify: {labels: [punch, upper_cut]}
  - threshold: {above: 0.6}
train:
  template: classifier
  data: {punch: [punch.csv], upper_cut: [upper_cut.csv]}
  validation: 0.3
  folds: 5
  epochs: 80
  seed: 1
test:
  data: punch_then_upper_cut.csv
"""


def _in_ms2(src: Path) -> str:
    data = np.genfromtxt(src, delimiter=",", names=True)
    rows = np.stack([data[c] for c in ("aX", "aY", "aZ")], axis=1) * STANDARD_GRAVITY
    return "".join(",".join(f"{v:.5f}" for v in row) + "\n" for row in rows)


def accel_manifest(workdir: Path) -> Path:
    """Write the CSVs and the manifest into workdir and train the model once."""
    workdir.mkdir(parents=True, exist_ok=True)
    header = "accel_x,accel_y,accel_z\n"
    body = {name: _in_ms2(RECORDINGS / f"{name}.csv") for name in ("punch", "upper_cut")}
    for name, rows in body.items():
        (workdir / f"{name}.csv").write_text(header + rows)
    (workdir / "punch_then_upper_cut.csv").write_text(header + body["punch"] + body["upper_cut"])
    manifest = workdir / "gesture_accel.yaml"
    manifest.write_text(MANIFEST)
    if not (workdir / "gesture_accel.tflite").is_file():
        assert main(["train", str(manifest)]) == 0
    return manifest
