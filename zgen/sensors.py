"""Sensor kinds of the manifest and how each reaches the pipeline through the
Zephyr sensor API: which channel is read and how many values it yields; and the
external I2C parts (devicetree compatibles) known to work with the generated
overlay, with the kinds each one reads."""
from __future__ import annotations

from dataclasses import dataclass


STANDARD_GRAVITY = 9.80665  # m/s^2 per g; Zephyr's SENSOR_G is this in micro units
# A part's range unit in the unit Zephyr reports its channel in.
RANGE_UNITS = {"g": STANDARD_GRAVITY}


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
        # Read in blocks through Zephyr's DMIC API (audio/dmic.h), not the sensor API.
        SensorKind("microphone", "", ("",), "PCM"),
    )
}


def default_columns(sensor_name: str, kind: SensorKind) -> list[str]:
    """CSV columns a sensor reads when the manifest names none: accel_x, accel_y, ..."""
    return [f"{sensor_name}_{a}" if a else sensor_name for a in kind.axes]


@dataclass(frozen=True)
class Part:
    """An external sensor zgen can declare on a board's I2C bus: the generated overlay gives its
    node only `compatible` and `reg` (the I2C address), so every part here is one whose Zephyr 3.7
    I2C binding requires nothing else."""
    compatible: str  # devicetree compatible, the manifest's `part:`
    kinds: tuple[str, ...]  # the KINDS its Zephyr driver reads
    # The west module its Zephyr driver depends on, beyond Zephyr itself (ST's stmemsc-based
    # drivers need hal_st): without it Kconfig leaves the driver out and the app fails to link.
    module: str | None = None
    # Kconfig symbols beyond CONFIG_SENSOR=y. Empty for all of these: each Zephyr driver is
    # `default y` once a node with its compatible is okay.
    kconfig: tuple[str, ...] = ()
    # Properties the overlay writes besides compatible and reg, where the binding's default does
    # not suit a sampled signal (the LIS2DW12 powers up in 12-bit low-power mode at 12.5 Hz).
    properties: tuple[str, ...] = ()
    # The output data rates the binding's `odr` takes, in Hz: the overlay picks the lowest one at
    # or above the manifest's rate_hz. Empty: the part has no `odr` property.
    odr_hz: tuple[int, ...] = ()
    # The full-scale ranges the binding's `range` takes (in range_unit) and its default: a signal
    # beyond the range saturates in the part, so the manifest can pick a wider one with `range:`.
    ranges: tuple[int, ...] = ()
    default_range: int | None = None
    range_unit: str = ""

    def odr_for(self, rate_hz: float) -> int | None:
        """The `odr` to program for a sample rate, or None when the part cannot keep up."""
        return next((o for o in self.odr_hz if o >= rate_hz), None)

    def full_scale(self, manifest_range: int | None) -> float | None:
        """The largest magnitude the part reports, in the Zephyr channel's unit, or None."""
        r = manifest_range or self.default_range
        return None if r is None else r * RANGE_UNITS[self.range_unit]

    def overlay_properties(self, rate_hz: float, full_scale: int | None = None) -> list[str]:
        props = list(self.properties)
        odr = self.odr_for(rate_hz)
        if odr is not None:
            props.append(f"odr = <{odr}>;")
        if full_scale is not None and full_scale != self.default_range:
            props.append(f"range = <{full_scale}>;")
        return props


PARTS: dict[str, Part] = {
    p.compatible: p
    for p in (
        Part("st,lis2dh", ("accelerometer",)),  # also LIS3DH, LSM303AGR's accelerometer
        # High-performance mode: 14 bits (0.244 mg/LSB at the default 2 g range), not the binding's
        # default low-power mode 1 (12 bits).
        Part("st,lis2dw12", ("accelerometer",), module="hal_st", properties=("power-mode = <4>;",),
             odr_hz=(1, 12, 25, 50, 100, 200, 400, 800, 1600), ranges=(2, 4, 8, 16), default_range=2,
             range_unit="g"),
        Part("adi,adxl345", ("accelerometer",)),
        Part("st,lsm6dso", ("accelerometer", "gyroscope"), module="hal_st"),
        Part("st,lsm6dsl", ("accelerometer", "gyroscope")),
        Part("invensense,mpu6050", ("accelerometer", "gyroscope")),
        Part("bosch,bmi270", ("accelerometer", "gyroscope")),
        Part("nxp,fxos8700", ("accelerometer", "magnetometer")),
        Part("st,lis3mdl-magn", ("magnetometer",)),
        Part("st,lis2mdl", ("magnetometer",), module="hal_st"),
        Part("ti,tmp116", ("temperature",)),
        Part("adi,adt7420", ("temperature",)),
        Part("st,stts751", ("temperature",), module="hal_st"),
        Part("st,hts221", ("temperature", "humidity"), module="hal_st"),
        Part("ti,hdc2080", ("temperature", "humidity")),
        Part("st,lps22hb-press", ("pressure", "temperature")),
        Part("st,lps22hh", ("pressure", "temperature"), module="hal_st"),
        Part("bosch,bmp388", ("pressure", "temperature")),
        Part("bosch,bme280", ("temperature", "humidity", "pressure")),
        Part("bosch,bme680", ("temperature", "humidity", "pressure")),
        Part("ti,opt3001", ("light",)),
        Part("rohm,bh1750", ("light",)),
        Part("vishay,veml7700", ("light",)),
    )
}


def parts_for(kind: str) -> list[str]:
    """Compatibles of the known parts that read a kind (for suggestions in error messages)."""
    return [p.compatible for p in PARTS.values() if kind in p.kinds]


# DMIC blocks (one hop each) a microphone app's memory slab holds: how far processing may fall
# behind before a real driver drops audio (main.cpp.j2's ZGEN_BLOCK_COUNT, the memory plan, the
# replay microphone's faults).
MIC_BLOCKS = 8
