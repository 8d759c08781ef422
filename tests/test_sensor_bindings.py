"""zgen's known external sensor parts (zgen.sensors.PARTS) against the Zephyr
tree: each has an I2C binding that needs nothing beyond what the generated
overlay writes (compatible, reg), a driver that reads the kinds it is listed
for and that its devicetree node enables (given the west module the part
names), and west.yml brings in every module those drivers need (skipped, with
the reason, without a workspace)."""
from __future__ import annotations

import re
import sys

import pytest
import yaml

from zgen.boards import catalogue
from zgen.sensors import KINDS, PARTS

COMPATIBLES = sorted(PARTS)


@pytest.fixture(scope="module")
def i2c_bindings(zephyr):
    """compatible -> [edtlib Binding] for every binding under dts/bindings that sits on an I2C bus."""
    sys.path.insert(0, str(zephyr / "scripts/dts/python-devicetree/src"))
    from devicetree import edtlib

    paths = {p.name: str(p) for p in (zephyr / "dts/bindings").rglob("*.yaml")}
    found: dict[str, list] = {}
    for path in (zephyr / "dts/bindings").rglob("*.yaml"):
        m = re.search(r'^compatible:\s*"([^"]+)"', path.read_text(errors="replace"), re.MULTILINE)
        if m and m.group(1) in PARTS:
            binding = edtlib.Binding(str(path), paths, require_compatible=False, require_description=False)
            if binding.on_bus == "i2c":
                found.setdefault(m.group(1), []).append(binding)
    return found


def test_parts_table_is_well_formed():
    for compat, part in PARTS.items():
        assert compat == part.compatible and re.fullmatch(r"[a-z0-9-]+,[a-z0-9-]+", compat), compat
        assert part.kinds and set(part.kinds) <= set(KINDS), compat


@pytest.mark.parametrize("compat", COMPATIBLES)
def test_part_has_an_i2c_binding_the_overlay_satisfies(zephyr, i2c_bindings, compat):
    bindings = i2c_bindings.get(compat)
    assert bindings, f"{compat}: no I2C binding in {zephyr / 'dts/bindings'}"
    for binding in bindings:
        required = sorted(name for name, spec in binding.prop2specs.items()
                          if spec.required and name not in ("compatible", "reg"))
        assert not required, f"{compat} ({binding.path}) requires {required}, which the overlay does not write"


@pytest.mark.parametrize("compat", sorted(c for c, p in PARTS.items() if p.ranges or p.odr_hz))
def test_part_properties_the_overlay_writes_are_the_bindings(i2c_bindings, compat):
    """`range` and `odr` values zgen offers are the binding's enum, and the range zgen assumes
    when the manifest names none is the binding's default."""
    part = PARTS[compat]
    for binding in i2c_bindings[compat]:
        specs = binding.prop2specs
        if part.ranges:
            assert sorted(specs["range"].enum) == sorted(part.ranges), binding.path
            assert specs["range"].default == part.default_range, binding.path
        if part.odr_hz:
            assert set(part.odr_hz) <= set(specs["odr"].enum or part.odr_hz), binding.path


@pytest.mark.parametrize("compat", COMPATIBLES)
def test_part_has_a_driver_for_its_kinds(zephyr, compat):
    from tree_facts import driver_channels, sensor_driver

    driver = sensor_driver(zephyr, compat)
    assert driver, f"{compat}: no driver under {zephyr / 'drivers/sensor'}"
    channels = driver_channels(zephyr, driver)
    for kind in PARTS[compat].kinds:
        assert KINDS[kind].channel in channels, f"{compat}: {driver} never reads {KINDS[kind].channel}"


@pytest.mark.parametrize("compat", COMPATIBLES)
def test_part_driver_is_enabled_by_its_node(zephyr, compat):
    """Its driver is default y once the node is okay, given the module the part names."""
    from tree_facts import driver_kconfig, driver_modules

    symbols = driver_kconfig(zephyr, compat)
    assert symbols, f"{compat}: no Kconfig symbol of its driver depends on its devicetree node"
    for symbol, body in symbols.items():
        assert re.search(r"^\s+default y\s*$", body, re.MULTILINE) or symbol in PARTS[compat].kconfig, \
            f"{compat}: CONFIG_{symbol} is not default y; list it in the part's kconfig"
    assert driver_modules(zephyr, compat) == ({PARTS[compat].module} if PARTS[compat].module else set())


def test_west_yml_has_the_modules_sensor_drivers_need(zephyr):
    from conftest import REPO
    from tree_facts import driver_modules

    manifest = yaml.safe_load((REPO / "west.yml").read_text())["manifest"]
    allowed = {name for p in manifest["projects"] for name in (p.get("import") or {}).get("name-allowlist", [])}
    compats = set(PARTS) | {s["compatible"] for b in catalogue().values() for s in b.sensors}
    missing: dict[str, list[str]] = {}
    for c in sorted(compats):
        for m in driver_modules(zephyr, c) - allowed:
            missing.setdefault(m, []).append(c)
    assert not missing, f"west.yml's name-allowlist lacks the modules (and the drivers needing them) {missing}"
