"""bench/memory_baselines.py --add: a few builds measured again join the measured data."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import memory_baselines  # noqa: E402


def test_a_driver_measured_again_joins_its_boards_others():
    """Seen: --add of an ADXL345 build on nrf52840dk dropped that board's measured LIS2DW12."""
    old = {"calibrated_from": ["a"], "boards": {"nrf52840dk/nrf52840": {"flash": 1}}, "cores": {},
           "drivers": {"nrf52840dk/nrf52840": {"st,lis2dw12": 2557}, "arduino_nano_33_ble": {"st,lis2dw12": 4579}}}
    new = {"calibrated_from": ["b"], "boards": {}, "cores": {},
           "drivers": {"nrf52840dk/nrf52840": {"adi,adxl345": 2000, "st,lis2dw12": 2600}}}
    out = memory_baselines.merge(old, new)
    assert out["drivers"] == {"nrf52840dk/nrf52840": {"st,lis2dw12": 2600, "adi,adxl345": 2000},
                              "arduino_nano_33_ble": {"st,lis2dw12": 4579}}
    assert out["calibrated_from"] == ["a", "b"] and out["boards"] == old["boards"]
