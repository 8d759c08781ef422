"""Outputs as generated: what each one makes the app do and print, the callback file the user owns,
and the devicetree each board gets. (The firmware runs them in tests/test_firmware_outputs.py.)"""
from __future__ import annotations

import re

from zgen.cli import main
from zgen.codegen.lock import Lock
from zgen.manifest import load_manifest
from zgen.simulate import run

OUTPUTS = """outputs:
  - log
  - led: led0
  - led: {alias: led1, state: normal}
  - gpio: {port: gpio0, pin: 3, name: alarm, pulse_ms: 250}  # P0.03 (Arduino A0); P0.13 is the DK's LED1 = led0
  - callback
"""


def _manifest(sample_copy):
    text = sample_copy.read_text()
    text = re.sub(r"outputs:\n(  - .*\n)+", OUTPUTS, text)
    sample_copy.write_text(text)
    return sample_copy


def test_each_action_follows_the_decisions(sample_copy):
    m = load_manifest(_manifest(sample_copy))
    sim = run(m)
    state = "normal"
    led0, led1 = 0, 1  # led1 follows the off state: high from the start
    for i, line in enumerate(sim.lines):
        if " win=" not in line:
            continue
        t = line.split(" ")[1]
        new = line.split(" state=")[1].split()[0]
        acts = []
        k = i + 1
        while k < len(sim.lines) and " out=" in sim.lines[k]:
            acts.append(sim.lines[k])
            k += 1
        want = []
        if new != state:
            led0, led1 = int(new == "anomaly"), int(new == "normal")
            want += [f"zgen: {t} out=led0 level={led0}", f"zgen: {t} out=led1 level={led1}"]
        if " event=" in line:
            if new == "anomaly":
                want.append(f"zgen: {t} out=zgen-out-alarm pulse_ms=250 level=1")
            want.append(f"zgen: {t} out=callback state={new}")
        assert acts == want, line
        state = new
    assert sum(" event=" in line for line in sim.lines) >= 4


def test_the_callback_file_is_the_users(sample_copy, tmp_path, capsys):
    manifest = _manifest(sample_copy)
    app = tmp_path / "app"
    assert main(["new", str(manifest), "-o", str(app)]) == 0
    cb = app / "src" / "zgen_callback.c"
    assert "void zgen_on_event(const char *state, float score, uint32_t t)" in cb.read_text()
    assert "void zgen_on_event(const char *state, float score, uint32_t t);" in \
        (app / "src" / "zgen_callback.h").read_text()
    assert "src/zgen_callback.c" in (app / "CMakeLists.txt").read_text()
    assert "src/zgen_callback.c" not in Lock.read(app).files  # not zgen's to merge or remove
    mine = cb.read_text().replace("printk(", "my_product_radio_wake(); printk(")
    cb.write_text(mine)
    manifest.write_text(manifest.read_text().replace("pulse_ms: 250", "pulse_ms: 300"))
    assert main(["new", str(manifest), "-o", str(app)]) == 0
    assert main(["new", str(manifest), "-o", str(app), "--force"]) == 0
    assert cb.read_text() == mine
    assert not (app / "src" / "zgen_callback.c.zgen-new").exists()
    cb.unlink()
    assert main(["new", str(manifest), "-o", str(app)]) == 0
    assert "my_product_radio_wake" not in cb.read_text()  # gone: zgen starts it again


def test_each_board_gets_its_pins(sample_copy, tmp_path):
    app = tmp_path / "app"
    assert main(["new", str(_manifest(sample_copy)), "-o", str(app)]) == 0
    real = (app / "boards" / "nrf52840dk_nrf52840.overlay").read_text()
    # the port/pin output gets a node and an alias; the board's own LEDs stay the board's
    assert re.search(r"zgen_out_0: out-0 \{\s*gpios = <&gpio0 3 0>;", real)
    assert "zgen-out-alarm = &zgen_out_0;" in real and "led0 =" not in real
    assert "gpio-emul" not in real
    for stem in ("native_sim", "qemu_cortex_m3"):
        sim = (app / "boards" / f"{stem}.overlay").read_text()
        assert 'compatible = "zephyr,gpio-emul";' in sim
        for i, alias in enumerate(["led0", "led1", "zgen-out-alarm"]):
            assert f"gpios = <&zgen_gpio {i} 0>;" in sim and f"{alias} = &zgen_out_{i};" in sim
    main_cpp = (app / "src" / "main.cpp").read_text()
    assert "gpio_emul_output_get" in main_cpp and "zgen_on_event(" in main_cpp
    assert "CONFIG_GPIO=y" in (app / "prj.conf").read_text()
