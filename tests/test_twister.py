"""`zgen test --twister`: which boards, the twister command line, reading its report."""
from __future__ import annotations

import json

from zgen.cli import main
from zgen.testing import twister


def test_default_boards_are_the_simulated_ones():
    names = {b.name for b in twister.default_boards()}
    assert {"native_sim", "qemu_cortex_m3", "mps2/an385", "mps2/an521/cpu0"} <= names
    assert not names & {"nrf52840dk/nrf52840", "arduino_nano_33_ble"}  # real boards: build-only, on request


def test_command_runs_the_app_as_testsuite_root(tmp_path):
    cmd = twister.command(tmp_path / "app", ["qemu_cortex_m3", "mps2/an385"], tmp_path / "out", "2/4")
    assert cmd[:3] == ["west", "twister", "-T"] and cmd[3] == str(tmp_path / "app")
    assert cmd[cmd.index("-p") + 1] == "qemu_cortex_m3" and "mps2/an385" in cmd
    assert cmd[cmd.index("--subset") + 1] == "2/4"
    assert cmd[cmd.index("--outdir") + 1] == str(tmp_path / "out")
    assert "--force-toolchain" not in cmd


def test_a_cross_compile_toolchain_is_forced(tmp_path):
    # qemu_riscv32's board YAML names only the zephyr and xtools toolchains: twister would filter
    # the scenario out for Debian's GCC (ZEPHYR_TOOLCHAIN_VARIANT=cross-compile) unless forced.
    cmd = twister.command(tmp_path / "app", ["qemu_riscv32"], tmp_path / "out", None, "cross-compile")
    assert "--force-toolchain" in cmd
    assert "--force-toolchain" not in twister.command(tmp_path / "app", ["qemu_cortex_m3"], tmp_path / "out",
                                                      None, "gnuarmemb")


def test_report_statuses(tmp_path):
    # The shape of twister.json as Zephyr 3.7's twister writes it (abridged).
    report = tmp_path / "twister.json"
    report.write_text(json.dumps({"environment": {"zephyr_version": "v3.7.1"}, "testsuites": [
        {"name": "motor/zgen.motor_anomaly.replay", "platform": "qemu_cortex_m3", "status": "passed"},
        {"name": "motor/zgen.motor_anomaly.replay", "platform": "mps2/an385", "status": "failed",
         "reason": "Testsuite failed"},
        {"name": "motor/zgen.motor_anomaly.build", "platform": "qemu_cortex_m3", "status": "filtered",
         "reason": "not in testsuite platform allow list"}]}))
    results = twister.read_report(report)
    outcome = twister.TwisterOutcome(results)
    assert [r.status for r in outcome.ran] == ["passed", "failed"] and not outcome.passed
    assert twister.TwisterOutcome(results[:1] + results[2:]).passed
    assert not twister.TwisterOutcome(results[2:]).passed  # nothing ran: not a pass


def test_twister_options_need_twister(tmp_path, capsys):
    assert main(["test", str(tmp_path), "--sim", "qemu", "--subset", "1/2"]) == 2
    assert "--boards and --subset go with --twister" in capsys.readouterr().err


def test_subset_must_be_n_of_m(tmp_path, capsys):
    assert main(["test", str(tmp_path), "--twister", "--subset", "half"]) == 2
    assert "'half' is not N/M" in capsys.readouterr().err
