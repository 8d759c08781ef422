"""Sensor kinds of the manifest and how each reaches the pipeline through the
Zephyr sensor API: which channel is read and how many values it yields."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SensorKind:
    name: str
    channel: str  # enum sensor_channel member read with sensor_channel_get()
    axes: tuple[str, ...]  # one value per axis; ("",) for a scalar
    unit: str  # the unit Zephyr reports the channel in


KINDS: dict[str, SensorKind] = {
    k.name: k
    for k in (
        SensorKind("accelerometer", "SENSOR_CHAN_ACCEL_XYZ", ("x", "y", "z"), "m/s^2"),
        SensorKind("gyroscope", "SENSOR_CHAN_GYRO_XYZ", ("x", "y", "z"), "rad/s"),
        SensorKind("magnetometer", "SENSOR_CHAN_MAGN_XYZ", ("x", "y", "z"), "gauss"),
        SensorKind("temperature", "SENSOR_CHAN_AMBIENT_TEMP", ("",), "degC"),
        SensorKind("humidity", "SENSOR_CHAN_HUMIDITY", ("",), "%RH"),
        SensorKind("pressure", "SENSOR_CHAN_PRESS", ("",), "kPa"),
        SensorKind("light", "SENSOR_CHAN_LIGHT", ("",), "lux"),
        SensorKind("adc", "SENSOR_CHAN_VOLTAGE", ("",), "V"),
    )
}


def default_columns(sensor_name: str, kind: SensorKind) -> list[str]:
    """CSV columns a sensor reads when the manifest names none: accel_x, accel_y, ..."""
    return [f"{sensor_name}_{a}" if a else sensor_name for a in kind.axes]
