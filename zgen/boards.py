"""The board catalogue (boards/*.yaml): what zgen knows of each Zephyr board."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import yaml

from zgen.resources import boards_dir


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


@lru_cache(maxsize=1)
def catalogue() -> dict[str, Board]:
    boards = {}
    for path in sorted(boards_dir().glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        for key in ("leds", "buses", "sensors", "runners", "twister_tags"):
            data[key] = tuple(data.get(key) or ())
        board = Board(**data)
        boards[board.name] = board
    return boards


def get(name: str) -> Board | None:
    return catalogue().get(name)
