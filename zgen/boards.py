"""The board catalogue (boards/*.yaml): what zgen knows of each Zephyr board."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import yaml

from zgen.resources import boards_dir

# libyaml's safe loader where PyYAML has it (5x faster on the catalogue), else the pure-Python one.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Board:
    name: str  # Zephyr 3.7 board/soc name, as passed to west build -b
    description: str
    arch: str
    core: str
    fpu: bool
    dsp: bool
    flash_kb: int
    ram_kb: int
    console: str
    leds: tuple[str, ...] = ()
    # Other devicetree aliases of GPIO pins an output may drive (e.g. a buzzer), and the GPIO
    # ports (node label -> pins) an output may name by port and pin.
    aliases: tuple[str, ...] = ()
    gpio_ports: dict = field(default_factory=dict)
    buses: tuple[str, ...] = ()
    sensors: tuple[dict, ...] = ()  # {kind, node, compatible}; node: a label, or {/path}: what follows &
    simulators: dict = field(default_factory=dict)
    runners: tuple[str, ...] = ()
    pyocd_target: str | None = None
    # The zephyr,code-partition's size where it is smaller than the flash (a bootloader or storage
    # takes the rest): what an app may use. None: the whole flash.
    app_flash_kb: int | None = None
    # twister's platform name (the board YAML's identifier) where it is not `name`: Zephyr 3.7 names
    # the Nano 33 BLE Sense arduino_nano_33_ble//sense there.
    twister_id: str | None = None
    # Tags a twister scenario needs to run here: one of the board YAML's testing.only_tags.
    twister_tags: tuple[str, ...] = ()
    # The kernel's clock: ticks per second by default (CONFIG_SYS_CLOCK_TICKS_PER_SEC as the
    # board's Kconfig sets it) and the system timer's counting rate (SYS_CLOCK_HW_CYCLES_PER_SEC),
    # the finest tick the board can have.
    tick_hz: int = 0
    timer_hz: int = 0
    # The core's clock (the time plan's cycles per second); 0 where the catalogue does not know it
    # (qemu_riscv32's virtual core).
    cpu_hz: int = 0
    # A PDM peripheral an external PDM microphone can be wired to where the board has none of its
    # own: {node: its label, overlay: the devicetree that enables it with the wiring's pins}.
    pdm_microphone: dict | None = None

    def microphone_node(self) -> str | None:
        """The DMIC node the app reads: the board's own microphone, or its PDM peripheral."""
        own = [x for x in self.sensors if x.get("kind") == "microphone"]
        if own:
            return own[0]["node"]
        return self.pdm_microphone["node"] if self.pdm_microphone else None

    @property
    def twister_name(self) -> str:
        return self.twister_id or self.name

    @property
    def file_stem(self) -> str:
        """Zephyr's name for per-board files: boards/<stem>.overlay / .conf."""
        return self.name.replace("/", "_")

    @property
    def tflm_kernels(self) -> str:
        """The TFLM kernel set an app builds with here: CMSIS-NN where the core has the DSP
        extension (the generated Kconfig's default), the reference kernels elsewhere."""
        return "cmsis-nn" if self.arch == "arm" and self.dsp else "reference"

    @property
    def simulated(self) -> bool:
        """Only ever simulated (native_sim, the QEMU boards): nothing flashes it, so its sensors are
        the replay source. A real board that a simulator also models (nrf52840dk in Renode,
        hifive1 in Renode and QEMU) has runners and keeps its real sensors by default."""
        return bool(self.simulators) and not self.runners

    def tick_choices(self) -> list[int]:
        """The kernel tick rates zgen may give an app here, in order of preference: the board's
        own (10 000 on the simulated boards: their 100 ticks/s default is too coarse, a finer
        tick costs nothing there), then doublings that divide the timer's rate evenly, up to
        it (a tick of one timer cycle, 25 MHz on mps2, hung the app in QEMU)."""
        first = SIMULATED_TICK_HZ if self.simulated else self.tick_hz
        out, tick = [first], first * 2
        while tick <= self.timer_hz:
            if self.timer_hz % tick == 0:
                out.append(tick)
            tick *= 2
        return out

    def app_tick_hz(self, rate_hz: float) -> int | None:
        """The kernel tick rate an app sampling at rate_hz builds with here: the first choice
        that paces the sampler within PACE_TOLERANCE_PERCENT. None: none does."""
        return next((t for t in self.tick_choices() if paces(t, rate_hz)), None)


SIMULATED_TICK_HZ = 10000
# How much longer than the manifest's the sampling period may be, in percent, before zgen changes
# the tick rate (a 1 s window then spans at most 10 ms more signal). The app's main.cpp asserts
# the same at build time, whatever tick rate a user configures.
PACE_TOLERANCE_PERCENT = 1


def sample_period_us(rate_hz: float) -> int:
    """The sampling timer's period, as the app's pipeline.h defines it."""
    return int(round(1e6 / rate_hz))


def period_ticks(tick_hz: int, rate_hz: float) -> int:
    """The ticks of a periodic k_timer of K_USEC(period): Zephyr rounds a timeout up to whole
    ticks (k_us_to_ticks_ceil64)."""
    return max(1, -(-sample_period_us(rate_hz) * tick_hz // 1_000_000))


def paced_rate(tick_hz: int, rate_hz: float) -> float:
    """The rate the sampler really runs at."""
    return tick_hz / period_ticks(tick_hz, rate_hz)


def paces(tick_hz: int, rate_hz: float) -> bool:
    """Whether the timer's period stays within PACE_TOLERANCE_PERCENT of the manifest's (integer
    arithmetic, exactly as the app's BUILD_ASSERT)."""
    if tick_hz <= 0:
        return False
    return (period_ticks(tick_hz, rate_hz) * 1_000_000 * 100
            <= sample_period_us(rate_hz) * tick_hz * (100 + PACE_TOLERANCE_PERCENT))


def paced_below(tick_hz: int, rate_hz: float) -> int:
    """The highest whole rate up to rate_hz that tick_hz paces (1 Hz at worst)."""
    return next((r for r in range(int(rate_hz), 0, -1) if paces(tick_hz, r)), 1)


@lru_cache(maxsize=1)
def catalogue() -> dict[str, Board]:
    boards = {}
    for path in sorted(boards_dir().glob("*.yaml")):
        data = yaml.load(path.read_text(), Loader=_LOADER)
        for key in ("leds", "aliases", "buses", "sensors", "runners", "twister_tags"):
            data[key] = tuple(data.get(key) or ())
        board = Board(**data)
        boards[board.name] = board
    return boards


def get(name: str) -> Board | None:
    return catalogue().get(name)
