"""The board catalogue against the Zephyr tree it claims to describe (skipped,
with the reason, without a workspace)."""
from __future__ import annotations

import pytest

from zgen.boards import catalogue
from zgen.workspace import find_workspace

BOARDS = sorted(catalogue())


@pytest.fixture(scope="module")
def zephyr():
    ws = find_workspace()
    if ws is None:
        pytest.skip("no Zephyr workspace to compare the catalogue with")
    return ws.zephyr_base


@pytest.mark.parametrize("name", BOARDS)
def test_catalogue_entry_matches_the_tree(zephyr, name):
    from tree_facts import facts

    b = catalogue()[name]
    f = facts(zephyr, name)
    assert (b.flash_kb, b.ram_kb) == (f["flash_kb"], f["ram_kb"])
    assert b.core == f["core"]
    assert list(b.leds) == f["leds"]
    assert b.console == f["console"]
    assert set(b.buses) <= set(f["buses"]), set(b.buses) - set(f["buses"])
    assert b.simulators.get("qemu", {}).get("machine") == f["qemu_machine"]
    assert b.pyocd_target == f["pyocd_target"]
    assert set(b.runners) == set(f["runners"]) | ({"pyocd"} if f["pyocd_target"] else set())


def test_every_entry_is_complete():
    for b in catalogue().values():
        assert b.flash_kb > 0 and b.ram_kb > 0 and b.core and b.console, b.name
        assert "/" not in b.file_stem
