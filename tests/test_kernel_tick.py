"""The sampler's pace: a k_timer counts whole kernel ticks and Zephyr rounds its period up, so
a board's tick rate decides how fast the app really samples. zgen keeps each board's tick
where it paces the manifest's rate within 1 %, raises it to the timer's rate where it does not
(hifive1: 128 ticks/s), rejects a rate no tick paces, and the app asserts the same at build
time. Expected figures are worked out by hand in the comments."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from conftest import SINE
from zgen import boards
from zgen.cli import main


def test_the_boards_own_tick_where_it_paces():
    nrf = boards.get("nrf52840dk/nrf52840")
    # 100 Hz: 10 000 us x 32768 / 1e6 = 327.68 -> 328 ticks -> 99.90 Hz (0.1 % slow): kept
    assert boards.period_ticks(32768, 100) == 328 and round(boards.paced_rate(32768, 100), 2) == 99.9
    assert nrf.app_tick_hz(100) == 32768
    # 1 Hz on hifive1: 1e6 us x 128 / 1e6 = 128 ticks exactly
    assert boards.get("hifive1").app_tick_hz(1) == 128


def test_a_coarse_tick_is_raised_to_the_timers_rate():
    hifive1 = boards.get("hifive1")
    # 1 kHz at 128 ticks/s: 1000 us x 128 / 1e6 = 0.128 -> 1 tick -> 128 Hz
    assert boards.paced_rate(128, 1000) == 128
    # doublings of 128 up to the 32768 Hz timer; 16384: 16.384 -> 17 ticks (3.8 % long);
    # 32768: 32.768 -> 33 ticks -> 992.97 Hz, 0.7 % slow: within 1 %
    assert not boards.paces(16384, 1000)
    assert hifive1.app_tick_hz(1000) == 32768 and round(boards.paced_rate(32768, 1000), 2) == 992.97


def test_simulated_boards_tick_at_10000_or_a_doubling_of_it():
    qemu = boards.get("qemu_cortex_m3")
    assert qemu.app_tick_hz(1000) == 10000  # 10 ticks exactly
    # 119 Hz (the Arduino IMU): 8403 us -> 84.03 -> 85 ticks at 10000 (8500 us, 1.15 % long);
    # 168.06 -> 169 ticks at 20000 (8450 us, 0.56 %)
    assert qemu.app_tick_hz(119) == 20000
    # Never the timer's own rate (12 MHz): only doublings dividing it, 160000 at most; 3 kHz
    # (333 us) needs 53.28 -> 54 ticks there (337.5 us, 1.35 %): none paces it
    assert qemu.tick_choices() == [10000, 20000, 40000, 80000, 160000]
    assert qemu.app_tick_hz(3000) is None


def test_no_tick_paces_it():
    # 16 kHz on the nRF's 32768 Hz RTC: 62 us -> 2.03 -> 3 ticks -> 10923 Hz
    assert boards.get("nrf52840dk/nrf52840").app_tick_hz(16000) is None
    assert boards.paces(32768, boards.paced_below(32768, 16000))
    assert not boards.paces(32768, boards.paced_below(32768, 16000) + 1)


def test_generated_app_sets_the_tick_only_where_needed(tmp_path):
    app = tmp_path / "app"
    assert main(["new", str(SINE), "-o", str(app)]) == 0  # 1 kHz
    conf = (app / "boards/hifive1.conf").read_text()
    assert "CONFIG_SYS_CLOCK_TICKS_PER_SEC=32768" in conf and "992.97 Hz" in conf
    assert "CONFIG_SYS_CLOCK_TICKS_PER_SEC=10000" in (app / "boards/qemu_cortex_m3.conf").read_text()
    # 32768 ticks pace 1 kHz on the nRF boards: nothing written for them
    assert not (app / "boards/nrf52840dk_nrf52840.conf").exists()


@pytest.mark.skipif(shutil.which("g++") is None, reason="no host g++")
@pytest.mark.parametrize("rate,tick_hz", [(1000, 128), (1000, 32768), (100, 32768), (1000, 10000), (5000, 32768),
                                          (4728, 32768), (4729, 32768), (16000, 32768), (1, 128)])
def test_the_apps_build_assert_agrees(tmp_path, rate, tick_hz):
    """The generated main.cpp's BUILD_ASSERT, compiled, fails exactly where zgen would not build."""
    app = tmp_path / "app"
    assert main(["new", str(SINE), "-o", str(app)]) == 0
    main_cpp = (app / "src/main.cpp").read_text()
    block = re.search(r"#define ZGEN_PERIOD_TICKS.*?\);\n", main_cpp, re.S).group(0)
    src = tmp_path / "pace.cpp"
    src.write_text("#include <stdint.h>\n#define BUILD_ASSERT(c, m) static_assert(c, m)\n"
                   f"#define ZGEN_SAMPLE_PERIOD_US {boards.sample_period_us(rate)}\n"
                   f"#define CONFIG_SYS_CLOCK_TICKS_PER_SEC {tick_hz}\n" + block)
    proc = subprocess.run(["g++", "-std=c++17", "-fsyntax-only", str(src)], capture_output=True, text=True)
    assert (proc.returncode == 0) == boards.paces(tick_hz, rate), proc.stderr
    if proc.returncode:
        assert "cannot pace the sampling rate within 1 %" in proc.stderr
