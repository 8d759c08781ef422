"""Stack use measured on QEMU with Zephyr's thread analyzer, held to the stack sizes zgen plans
(CONFIG_MAIN_STACK_SIZE, the sampler's ZGEN_SAMPLER_STACK) with a stated margin: each thread uses
at most 75 % of its stack over a whole run of the sample's test data. A sensor app and a
microphone app, on qemu_cortex_m3 (TFLM's reference kernels) and mps2/an521/cpu1 (CMSIS-NN)."""
from __future__ import annotations

import re

import pytest

from conftest import ANOMALY, KEYWORD
from test_firmware import APP, _skip_without_tools
from test_firmware_audio import _excerpt
from zgen import boards
from zgen.cli import main

pytestmark = pytest.mark.firmware

MARGIN = 0.75
_USE = re.compile(r"^\s*(\S+)\s*: (?:STACK: )?unused (\d+) usage (\d+) / (\d+)", re.M)


def _app(name: str) -> "Path":
    manifest = ANOMALY if name == "anomaly" else _excerpt("keyword", 5)
    out = APP.parent / "stacks" / name
    assert main(["new", str(manifest), "-o", str(out), "--force"]) == 0
    return out


@pytest.mark.parametrize("sample", ["anomaly", "keyword"])
@pytest.mark.parametrize("board_name", ["qemu_cortex_m3", "mps2/an521/cpu1"])
def test_stacks_stay_within_the_plan(firmware_workspace, sample, board_name):
    from zgen.testing.base import get_runner

    _skip_without_tools("qemu")
    base = get_runner("qemu")

    class Analyzed(base):
        def build_args(self):
            return [*super().build_args(), "-DCONFIG_THREAD_ANALYZER=y", "-DCONFIG_THREAD_ANALYZER_USE_PRINTK=y",
                    "-DCONFIG_THREAD_NAME=y"]

    app = _app(sample)
    board = boards.get(board_name)
    runner = Analyzed(app, board, firmware_workspace, build_dir=app / "build" / f"stacks-{board.file_stem}")
    build = runner.build(timeout=3600)
    assert not build.warnings, build.warnings
    result = runner.run(timeout=900)
    assert result.finished, result.output[-2000:]
    use = {name: (int(used), int(size)) for name, _, used, size in _USE.findall(result.output)}
    header = (app / "src/pipeline.h").read_text()
    conf = (app / "prj.conf").read_text()
    planned = {"main": int(re.search(r"CONFIG_MAIN_STACK_SIZE=(\d+)", conf).group(1))}
    sampler = re.search(r"#define ZGEN_SAMPLER_STACK (\d+)", header)
    if sample == "anomaly":
        planned["sampler"] = int(sampler.group(1))
    for thread, size in planned.items():
        used, reported = use[thread]
        assert reported >= size  # the analyzer sees the stack zgen asked for (rounded up to alignment)
        print(f"{sample} on {board_name}: {thread} uses {used} of {size} B ({used / size:.0%})")
        assert used <= MARGIN * size, (thread, used, size)
