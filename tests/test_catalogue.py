"""The board catalogue against the Zephyr tree it claims to describe, against
pyOCD's target list and, where Renode is installed, against Renode's platform
files (each skipped, with the reason, without them)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from zgen.boards import catalogue
from zgen.sensors import KINDS

BOARDS = sorted(catalogue())


@pytest.mark.parametrize("name", BOARDS)
def test_catalogue_entry_matches_the_tree(zephyr, name):
    from tree_facts import facts

    b = catalogue()[name]
    f = facts(zephyr, name)
    assert (b.flash_kb, b.ram_kb) == (f["flash_kb"], f["ram_kb"])
    assert b.app_flash_kb == f["app_flash_kb"]
    assert b.twister_name == f["identifier"]
    # twister runs only scenarios with one of a board's only_tags there; the apps carry one.
    assert bool(b.twister_tags) == bool(f["only_tags"]) and set(b.twister_tags) <= set(f["only_tags"])
    assert b.core == f["core"]
    assert b.tick_hz == f["tick_hz"]  # (timer_hz: each matrix build's .config checks it)
    if f["fpu"] is not None:  # native_sim: the host's
        assert (b.fpu, b.dsp) == (f["fpu"], f["dsp"])
    assert list(b.leds) == f["leds"]
    assert b.console == f["console"]
    assert set(b.buses) <= set(f["buses"]), set(b.buses) - set(f["buses"])
    assert list(b.sensors) == f["sensors"]
    qemu = b.simulators.get("qemu", {})
    assert qemu.get("machine") == f["qemu_machine"]
    if qemu:
        assert qemu.get("cpu") == f["qemu_cpu"]
        assert list(qemu.get("extra_args", [])) == f["qemu_extra"]
        assert list(qemu.get("loaders", [])) == f["qemu_loaders"]
    if "renode" in f["emulators"]:  # Renode also models boards whose board.cmake does not say so
        renode = b.simulators.get("renode", {})
        assert renode.get("uart") == f["renode_uart"]
        assert renode.get("resc") == f["renode_resc"]
    assert b.pyocd_target == f["pyocd_target"]
    assert set(b.runners) == set(f["runners"]) | ({"pyocd"} if f["pyocd_target"] else set())


def test_tree_sensor_table_matches_the_drivers(zephyr):
    """Each kind tree_facts gives a compatible is a channel its Zephyr driver reads."""
    from tree_facts import SENSOR_KINDS, driver_channels, sensor_bindings, sensor_driver

    for compat, kinds in SENSOR_KINDS.items():
        assert compat in sensor_bindings(zephyr), f"{compat}: no binding under dts/bindings/sensor"
        driver = sensor_driver(zephyr, compat)
        assert driver, f"{compat}: no driver under drivers/sensor"
        channels = driver_channels(zephyr, driver)
        for kind in kinds:
            assert KINDS[kind].channel in channels, f"{compat}: {driver} has no {KINDS[kind].channel}"


def test_every_entry_is_complete():
    for b in catalogue().values():
        assert b.flash_kb > 0 and b.ram_kb > 0 and b.core and b.console, b.name
        assert "/" not in b.file_stem
        assert b.arch in ("arm", "riscv", "posix"), b.name
        for s in b.sensors:
            assert set(s) == {"kind", "node", "compatible"} and s["kind"] in KINDS, (b.name, s)
        for sim, conf in b.simulators.items():
            assert sim in ("native_sim", "qemu", "renode"), (b.name, sim)
            if sim == "renode":
                assert conf["platform"].startswith("platforms/") and conf["platform"].endswith(".repl")


def test_simulation_only_boards():
    """Replay is the sensor source only on boards nothing flashes; real boards that a simulator
    also models keep their real sensors and LEDs."""
    simulated = {b.name for b in catalogue().values() if b.simulated}
    assert {"native_sim", "qemu_cortex_m3", "mps2/an385", "mps2/an521/cpu0", "qemu_riscv32"} <= simulated
    assert not simulated & {"nrf52840dk/nrf52840", "hifive1", "arduino_nano_33_ble", "disco_l475_iot1"}


def test_pyocd_targets_are_built_into_pyocd():
    pytest.importorskip("pyocd")
    from pyocd.target import TARGET  # pyOCD's built-in targets (no CMSIS packs needed)

    targets = {b.name: b.pyocd_target for b in catalogue().values() if b.pyocd_target}
    assert targets, "no catalogue board names a pyOCD target"
    for name, target in targets.items():
        assert target in TARGET, f"{name}: pyOCD has no built-in target {target}"
        assert "pyocd" in catalogue()[name].runners, name


def _renode_platforms() -> Path | None:
    """The platforms/ folder of an installed Renode (RENODE, RENODE_PATH or renode on PATH)."""
    from zgen.testing.renode import find_renode

    exe = find_renode()
    if exe:
        for base in (exe.resolve().parent, exe.resolve().parent.parent / "share/renode"):
            if (base / "platforms").is_dir():
                return base / "platforms"
    return None


@pytest.mark.parametrize("name", [n for n in BOARDS if "renode" in catalogue()[n].simulators])
def test_renode_platform_exists(name):
    platforms = _renode_platforms()
    if platforms is None:
        pytest.skip("Renode is not installed (RENODE, RENODE_PATH, PATH)")
    rel = catalogue()[name].simulators["renode"]["platform"]
    assert (platforms.parent / rel).is_file(), f"{name}: no {rel} in {platforms.parent}"


def _repl_text(root: Path, rel: str) -> str:
    """A Renode platform file with the files it `using`-includes (paths relative to Renode's root)."""
    text = (root / rel).read_text()
    included = re.findall(r'^using\s+"([^"]+)"', text, re.M)
    return text + "".join(_repl_text(root, inc) for inc in included)


@pytest.mark.parametrize("name", [n for n in BOARDS if catalogue()[n].simulators.get("renode", {}).get("buses")])
def test_renode_bus_peripherals_exist(name):
    """External parts attach to the Renode peripheral the catalogue maps each Zephyr bus to."""
    platforms = _renode_platforms()
    if platforms is None:
        pytest.skip("Renode is not installed (RENODE, RENODE_PATH, PATH)")
    renode = catalogue()[name].simulators["renode"]
    text = _repl_text(platforms.parent, renode["platform"])
    for bus, peripheral in renode["buses"].items():
        assert bus in catalogue()[name].buses, (name, bus)
        assert re.search(rf"^{peripheral}:\s*I2C\.", text, re.M), f"{name}: no I2C peripheral {peripheral} in Renode"


@pytest.mark.parametrize("name", [n for n in BOARDS
                                  if catalogue()[n].simulators.get("renode", {}).get("platform_overrides")])
def test_renode_platform_overrides_change_existing_peripherals(name):
    """An override sets a property of a peripheral Renode's platform has (a new name would add
    a peripheral without a type, and Renode would refuse the platform)."""
    platforms = _renode_platforms()
    if platforms is None:
        pytest.skip("Renode is not installed (RENODE, RENODE_PATH, PATH)")
    renode = catalogue()[name].simulators["renode"]
    text = _repl_text(platforms.parent, renode["platform"])
    for peripheral in re.findall(r"^(\w+):\s*$", renode["platform_overrides"], re.M):
        assert re.search(rf"^{peripheral}:\s*\S", text, re.M), f"{name}: Renode's platform has no {peripheral}"
