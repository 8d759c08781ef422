"""`zgen new`: the generated tree, its lock, and never losing a user's edits."""
from __future__ import annotations

import hashlib
import json
import re

import pytest
import yaml

from conftest import ANOMALY
from zgen import boards
from zgen.cli import main
from zgen.model.arena import measure
from zgen.model.tflite import read_model


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen") / "motor"
    assert main(["new", str(ANOMALY), "-o", str(out)]) == 0
    return out


def test_tree_has_every_part_of_a_zephyr_app(app):
    for rel in ["CMakeLists.txt", "Kconfig", "prj.conf", "sample.yaml", "README.md", "zgen.lock",
                "src/main.cpp", "src/pipeline.c", "src/pipeline.h", "src/model_data.cc", "src/replay_data.c",
                "src/replay_sensor.c", "dts/bindings/zgen,replay-sensor.yaml", "dts/bindings/vendor-prefixes.txt",
                "boards/nrf52840dk_nrf52840.overlay", "boards/native_sim.overlay", "boards/qemu_cortex_m3.overlay",
                "boards/replay.overlay", "boards/native_sim.conf", "boards/qemu_cortex_m3.conf",
                "lib/zgen/include/zgen/zgen.h", "tests/data/test.csv"]:
        assert (app / rel).is_file(), rel


def test_runtime_is_copied_verbatim(app):
    from zgen.resources import runtime_dir

    for src in runtime_dir().rglob("*"):
        if src.is_file():
            assert (app / "lib/zgen" / src.relative_to(runtime_dir())).read_bytes() == src.read_bytes()


def test_model_array_is_aligned_and_byte_exact(app):
    text = (app / "src/model_data.cc").read_text()
    assert "alignas(16) const unsigned char zgen_model_data[]" in text
    body = text.split("= {", 1)[1].split("};", 1)[0]
    data = bytes(int(b, 16) for b in re.findall(r"0x([0-9a-f]{2})", body))
    model = (ANOMALY.parent / "model" / "anomaly.tflite").read_bytes()
    assert data == model
    assert hashlib.sha256(model).hexdigest() in text


def test_op_resolver_lists_exactly_the_models_ops(app):
    text = (app / "src/main.cpp").read_text()
    calls = re.findall(r"resolver\.(Add\w+)\(\);", text)
    assert calls == ["AddFullyConnected"]  # the autoencoder uses FULLY_CONNECTED only
    assert "#define ZGEN_OP_COUNT 1" in (app / "src/pipeline.h").read_text()


def test_arena_comes_from_a_measurement(app):
    a = measure(ANOMALY.parent / "model" / "anomaly.tflite")
    m = re.search(r"config ZGEN_ARENA_SIZE\n\tint .*\n\tdefault (\d+) if TENSORFLOW_LITE_MICRO_CMSIS_NN_KERNELS\n"
                  r"\tdefault (\d+) if ARM\n\tdefault (\d+)\n", (app / "Kconfig").read_text())
    assert m, "Kconfig has no per-kernel-set and per-arch ZGEN_ARENA_SIZE default"
    cmsis, arm, other = int(m.group(1)), int(m.group(2)), int(m.group(3))
    # Arm: the Cortex-M replay, CMSIS-NN's own (larger OpData) where the core
    # builds with it; native_sim and RISC-V: the host's upper bound.
    assert a.needed_on("arm") <= arm < a.needed_on("arm") + 16 and arm % 16 == 0
    assert arm >= a.used_on("arm")
    assert a.needed_on("arm", "cmsis-nn") <= cmsis < a.needed_on("arm", "cmsis-nn") + 16 and cmsis > arm
    assert a.total <= other < a.needed_on("posix") + 16 and other % 16 == 0


def test_replay_data_is_the_recording(app):
    text = (app / "src/replay_data.c").read_text()
    rows = re.findall(r"\t\{(-?\d+), (-?\d+), (-?\d+)\},", text)
    csv_rows = (ANOMALY.parent / "data/test.csv").read_text().splitlines()[1:]
    assert len(rows) == len(csv_rows) == 6400
    for (x, y, z), line in zip(rows[:50] + rows[-50:], csv_rows[:50] + csv_rows[-50:]):
        assert [int(v) for v in (x, y, z)] == [round(float(v) * 1000) for v in line.split(",")]
    assert ".decimals = 3" in text and "int16_t" in text


def test_sample_yaml_is_a_twister_scenario_with_the_simulated_events(app):
    doc = yaml.safe_load((app / "sample.yaml").read_text())
    scenario = doc["tests"]["zgen.motor_anomaly.replay"]
    assert {"native_sim", "qemu_cortex_m3"} <= set(scenario["platform_allow"])
    regex = scenario["harness_config"]["regex"]
    assert any(r.startswith("^zgen: t=2559 win=38 ") and r.endswith("event=anomaly$") for r in regex)
    assert regex[-1].startswith("^zgen: end samples=6400 windows=99 read_errors=0")
    assert doc["tests"]["zgen.motor_anomaly.build"]["platform_allow"] == ["nrf52840dk/nrf52840"]
    # Every other real board of the catalogue builds too, with the replay source as its sensors.
    others = doc["tests"]["zgen.motor_anomaly.build.replay"]
    assert others["build_only"] and others["extra_args"] == "EXTRA_DTC_OVERLAY_FILE=boards/replay.overlay"
    assert {"arduino_nano_33_ble", "disco_l475_iot1", "nucleo_f446re"} <= set(others["platform_allow"])
    assert "arduino_nano_33_ble//sense" in others["platform_allow"]  # twister's name for the Sense
    assert "nrf52840dk/nrf52840" not in others["platform_allow"] and "qemu_cortex_m3" not in others["platform_allow"]
    # 32 s of recording: twister's 60 s default would do, the limit says 32 x 1.5 + 60.
    assert scenario["timeout"] == 108


def test_long_recordings_get_the_time_they_need(tmp_path):
    """The environmental sample replays 40 minutes at 1 Hz; mps2/an521/cpu1 runs in real time (QEMU
    without -icount), so twister's and zgen test's limits cover the recording and half again."""
    from conftest import ENVIRONMENTAL
    from zgen.manifest import load_manifest
    from zgen.testing.session import run_limit

    assert main(["new", str(ENVIRONMENTAL), "-o", str(tmp_path / "app")]) == 0
    doc = yaml.safe_load((tmp_path / "app/sample.yaml").read_text())
    assert doc["tests"]["zgen.room_climate.replay"]["timeout"] == 2400 * 3 // 2 + 60
    m = load_manifest(ENVIRONMENTAL)
    assert run_limit(m, "qemu", boards.get("mps2/an521/cpu1")) == 2400 * 1.5 + 60
    assert run_limit(m, "qemu", boards.get("qemu_cortex_m3")) == 300  # -icount: virtual time


def test_real_board_overlay_declares_the_external_part(app):
    text = (app / "boards/nrf52840dk_nrf52840.overlay").read_text()
    # LIS2DW12: high-performance mode (14 bits) and the lowest output data rate >= rate_hz (200 Hz),
    # not the binding's defaults (12-bit low power, 12.5 Hz).
    assert re.search(r'&i2c0 \{.*lis2dw12@19 \{\s*compatible = "st,lis2dw12";\s*reg = <0x19>;'
                     r'\s*power-mode = <4>;\s*odr = <200>;', text, re.S)
    assert "zgen-accel = &zgen_accel_lis2dw12;" in text
    assert "zgen,replay-sensor" in (app / "boards/qemu_cortex_m3.overlay").read_text()


def test_lock_records_inputs_and_every_file(app):
    lock = json.loads((app / "zgen.lock").read_text())
    assert lock["inputs"]["model"] == hashlib.sha256((ANOMALY.parent / "model/anomaly.tflite").read_bytes()).hexdigest()
    files = {p.relative_to(app).as_posix() for p in app.rglob("*") if p.is_file()} - {"zgen.lock"}
    generated = {f for f in files if not f.startswith(".zgen/")}
    assert set(lock["files"]) == generated
    # ... and keeps zgen's version of each, the base of a later three-way merge.
    assert {f for f in files if f.startswith(".zgen/")} == {f".zgen/base/{f}.base" for f in generated}
    for rel, digest in lock["files"].items():
        assert hashlib.sha256((app / rel).read_bytes()).hexdigest() == digest


def _new(manifest, out, *extra):
    return main(["new", str(manifest), "-o", str(out), *extra])


def test_regenerating_an_unedited_app_changes_nothing(sample_copy, tmp_path, capsys):
    out = tmp_path / "app"
    assert _new(sample_copy, out) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert _new(sample_copy, out) == 0
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert "0 created, 0 updated" in capsys.readouterr().out


def test_unedited_files_follow_the_manifest(sample_copy, tmp_path):
    out = tmp_path / "app"
    assert _new(sample_copy, out) == 0
    sample_copy.write_text(sample_copy.read_text().replace("{above: 0.03}", "{above: 0.05}"))
    assert _new(sample_copy, out) == 0
    assert ".threshold = 0.05f" in (out / "src/pipeline.c").read_text()


def test_force_overwrites_an_edit_and_says_so(sample_copy, tmp_path, capsys):
    out = tmp_path / "app"
    assert _new(sample_copy, out) == 0
    (out / "src/pipeline.c").write_text("/* mine */\n")
    sample_copy.write_text(sample_copy.read_text().replace("{above: 0.03}", "{above: 0.05}"))
    assert _new(sample_copy, out, "--force") == 0
    assert "overwrote your edits (--force): src/pipeline.c" in capsys.readouterr().out
    assert ".threshold = 0.05f" in (out / "src/pipeline.c").read_text()


def test_edit_is_kept_when_zgen_output_did_not_change(sample_copy, tmp_path, capsys):
    out = tmp_path / "app"
    assert _new(sample_copy, out) == 0
    (out / "src/main.cpp").write_text((out / "src/main.cpp").read_text() + "// note\n")
    sample_copy.write_text(sample_copy.read_text().replace("{above: 0.03}", "{above: 0.05}"))
    assert _new(sample_copy, out) == 0
    assert "kept your edits: src/main.cpp" in capsys.readouterr().out
    assert (out / "src/main.cpp").read_text().endswith("// note\n")


def test_user_files_beside_the_app_are_untouched(sample_copy, tmp_path):
    out = tmp_path / "app"
    assert _new(sample_copy, out) == 0
    (out / "notes.txt").write_text("mine")
    (out / "build").mkdir()
    (out / "build" / "x").write_text("build output")
    assert _new(sample_copy, out, "--force") == 0
    assert (out / "notes.txt").read_text() == "mine" and (out / "build" / "x").exists()


def test_refuses_a_non_empty_folder_zgen_did_not_write(sample_copy, tmp_path, capsys):
    out = tmp_path / "app"
    out.mkdir()
    (out / "CMakeLists.txt").write_text("mine")
    assert _new(sample_copy, out) == 2
    assert "has no zgen.lock" in capsys.readouterr().err
    assert (out / "CMakeLists.txt").read_text() == "mine" and len(list(out.iterdir())) == 1


def test_failed_generation_leaves_no_partial_app(sample_copy, tmp_path, monkeypatch):
    import zgen.codegen.write as write

    out = tmp_path / "app"

    real = write._write
    calls = []

    def boom(path, data):
        calls.append(path)
        if len(calls) == 3:
            raise OSError("disk full")
        real(path, data)

    monkeypatch.setattr(write, "_write", boom)
    with pytest.raises(OSError):
        _new(sample_copy, out)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".app.")] == []


def test_generated_model_matches_reader(app):
    info = read_model(ANOMALY.parent / "model/anomaly.tflite")
    assert info.inputs[0].shape == (1, 24) and info.inputs[0].dtype == "int8"
    assert not any(t.per_channel for t in info.tensors)


def test_renode_suites_expect_the_simulated_lines(app):
    """Every board Renode models gets a machine script on the catalogue's
    platform and a robot suite expecting `zgen simulate`'s lines in order."""
    from zgen import boards
    from zgen.simulate import run
    from zgen.manifest import load_manifest

    lines = run(load_manifest(ANOMALY)).lines
    renode_boards = [b for b in boards.catalogue().values() if "renode" in b.simulators]
    assert any(b.name == "nrf52840dk/nrf52840" for b in renode_boards)
    for b in renode_boards:
        resc = (app / f"tests/renode/{b.file_stem}.resc").read_text()
        overrides = b.simulators["renode"].get("platform_overrides")
        if overrides:  # the platform with the catalogue's corrections (hifive1's CLINT clock)
            assert f'using "{b.simulators["renode"]["platform"]}"\n\n{overrides}\n"""\n' in resc
            assert "machine LoadPlatformDescriptionFromString $platform\n" in resc
        else:
            assert f"machine LoadPlatformDescription @{b.simulators['renode']['platform']}\n" in resc
        robot = (app / f"tests/renode/{b.file_stem}.robot").read_text()
        assert "Resource          ${RENODEKEYWORDS}" in robot
        start = re.search(r"^    Wait For Line On Uart\s+(.*?)\s{4}timeout=", robot, re.M).group(1)
        assert lines[0].startswith(start) and "arena_used" not in start
        expected = re.findall(r"^    Next Line Should Be\s+(.*)$", robot, re.M)
        if "FeedAccelerationSample" in resc:  # tests/test_renode_feed.py checks those lines
            assert b.simulators["renode"].get("buses"), b.name
            continue
        assert expected == lines[1:]  # every decision and the end line, nothing skipped
        assert "zgen,replay-sensor" in (app / f"tests/renode/{b.file_stem}.overlay").read_text()


def _validate_workflow(path):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           str(path)], capture_output=True, text=True)


def test_ci_workflow_is_a_github_workflow_running_zgen_test(app, tmp_path):
    """The app's CI workflow validates against the GitHub workflow schema (check-jsonschema's
    vendored copy) and runs `zgen test` on every simulated Arm/native_sim board and twister."""
    pytest.importorskip("check_jsonschema")
    path = app / ".github/workflows/zgen-simulation.yml"
    result = _validate_workflow(path)
    assert result.returncode == 0, result.stdout + result.stderr
    doc = yaml.safe_load(path.read_text())
    matrix = {(e["sim"], e["board"]) for e in doc["jobs"]["simulate"]["strategy"]["matrix"]["include"]}
    assert {("native_sim", "native_sim"), ("qemu", "qemu_cortex_m3"), ("qemu", "mps2/an385"),
            ("renode", "nrf52840dk/nrf52840"), ("renode", "arduino_nano_33_ble")} <= matrix
    assert not {b for _, b in matrix} & {"qemu_riscv32", "hifive1"}  # no RISC-V libstdc++ in Debian
    runs = [s.get("run", "") for s in doc["jobs"]["simulate"]["steps"]]
    assert any('zgen test ../app --sim "${{ matrix.sim }}" --board "${{ matrix.board }}"' in r for r in runs)
    assert any("--mr v3.7.1" in r and "hal_st" in r and "tflite-micro" in r for r in runs)
    assert any("zgen test ../app --twister" in s.get("run", "") for s in doc["jobs"]["twister"]["steps"])
    # The check can fail: a job without runs-on is not a workflow.
    broken = tmp_path / "broken.yml"
    broken.write_text(path.read_text().replace("    runs-on: ubuntu-24.04\n", "", 1))
    assert _validate_workflow(broken).returncode != 0


def test_boards_qemu_runs_in_real_time_turn_icount_off(app):
    # mps2/an521/cpu1: QEMU 7.2 gives the second CPU no timer under -icount, so neither zgen's
    # runner nor twister's (CONFIG_QEMU_ICOUNT) may use it there; the other QEMU boards keep it.
    assert "CONFIG_QEMU_ICOUNT=n" in (app / "boards/mps2_an521_cpu1.conf").read_text()
    assert "QEMU_ICOUNT" not in (app / "boards/qemu_cortex_m3.conf").read_text()
