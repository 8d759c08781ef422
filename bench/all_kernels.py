#!/usr/bin/env python3
"""Measure every TFLM kernel, so that the memory plan knows any model the pinned TFLM can run.

Per core and kernel set, one real build of a zgen app (the anomaly sample) whose op resolver
registers every op TFLM 48613f7b has (micro_mutable_op_resolver.h, as zgen.model.ops lists them),
with the kernel set forced (-DCONFIG_TENSORFLOW_LITE_MICRO_CMSIS_NN_KERNELS=y|n). From its linker
map and `nm` over the linked archives (zgen.memory.linkgraph), per op, the members it brings in
(TFLM kernel sources, CMSIS-NN functions, TFLM helpers and C library members nothing else uses)
and each member's bytes; TFLM's core is what the app reaches without any op. These replace the
core's `tflm`, `kernels[SET]` and `ops[SET]` in boards/memory/measured.yaml (--write).

The same builds give the op-resolver trimming figure bench/run.py prints: the all-ops build's
flash beside the same app built with its generated resolver (also built here).

Run: python bench/all_kernels.py [--only CORE ...] [--write]   (needs a Zephyr workspace; about
25 minutes the first time on 2 cores, a minute a build with ccache warm)
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from zgen import boards  # noqa: E402
from zgen.cli import main as zgen_main  # noqa: E402
from zgen.errors import ToolError  # noqa: E402
from zgen.memory import linkgraph, mapfile  # noqa: E402
from zgen.model.ops import CMSIS_NN_BUILD_LACKS, RESOLVER_METHOD, ZEPHYR_MODULE_LACKS  # noqa: E402
from zgen.resources import boards_dir  # noqa: E402
from zgen.testing.base import SimRunner  # noqa: E402
from common import FIRMWARE_CACHE, toolchain_problem, workspace  # noqa: E402

OUT = boards_dir() / "memory" / "measured.yaml"
SAMPLE = REPO / "samples" / "anomaly" / "anomaly.yaml"
# (core, board whose build measures it, kernel sets): a simulated board per core where there is one.
TARGETS = [("cortex-m3", "mps2/an385", ("reference",)),  # qemu_cortex_m3's 256 KB cannot hold every kernel
           ("cortex-m33", "mps2/an521/cpu1", ("reference", "cmsis-nn")),
           ("cortex-m4f", "nrf52840dk/nrf52840", ("reference", "cmsis-nn")),
           ("rv32imac", "qemu_riscv32", ("reference",))]
RESULTS = REPO / "bench" / "results" / "all_kernels.json"


def registrations(tflite_micro: Path) -> dict[str, tuple[str, ...]]:
    """op -> (the Register_ function micro_mutable_op_resolver.h registers it with, its parser
    where it names one) (CUSTOM aside)."""
    text = (tflite_micro / "tensorflow/lite/micro/micro_mutable_op_resolver.h").read_text()
    out = {}
    for method_body in re.split(r"\n\s*TfLiteStatus (?=Add\w+\()", text)[1:]:
        op = re.search(r"BuiltinOperator_(\w+)", method_body)
        reg = re.search(r"(Register_\w+)\(\)", method_body)
        parser = re.search(r"\b(Parse\w+)\b", method_body)
        if op and reg and op.group(1) in RESOLVER_METHOD:
            out[op.group(1)] = (reg.group(1),) + ((parser.group(1),) if parser else ())
    return out


class _Build(SimRunner):
    def __init__(self, app, board, ws, kernels: str, tag: str):
        super().__init__(app, board, ws, build_dir=app / "build" / f"{board.file_stem}-{kernels}-{tag}")
        self.kernels = kernels

    def build_args(self) -> list[str]:
        return [f"-DCONFIG_TENSORFLOW_LITE_MICRO_CMSIS_NN_KERNELS={'y' if self.kernels == 'cmsis-nn' else 'n'}"]


_UNDEF_REGISTER = re.compile(r"undefined reference to `tflite::Register_(\w+)\(\)'")
_UNDEF_IN = re.compile(r"/tensorflow/lite/micro/kernels/(?:[\w/]*/)?(\w+)\.cc:\d+: undefined reference")


def unlinkable(log: str, regs: dict[str, str]) -> set[str]:
    """Ops the link of an all-ops build failed on: a Register_ function no source defines, or a
    kernel source whose helpers Zephyr's tflite-micro module does not compile (strided_slice.cc
    without strided_slice_common.cc)."""
    by_function = {f[0]: op for op, f in regs.items()}
    out = {by_function[f"Register_{m}"] for m in _UNDEF_REGISTER.findall(log) if f"Register_{m}" in by_function}
    for stem in _UNDEF_IN.findall(log):
        out |= {op for op, f in regs.items() if f[0].lower() == f"register_{stem}"}
    return out


def app_dir(ws_cache: Path, tag: str, drop: set[str] = frozenset()) -> Path:
    """The anomaly app (tag "generated") or the same with every op registered (tag "all-ops"), at the
    firmware tests' folder depth so ccache shares TFLM's objects with them."""
    out = ws_cache / tag / "anomaly"
    assert zgen_main(["new", str(SAMPLE), "-o", str(out), "--force"]) == 0
    if tag == "all-ops":
        main_cpp = out / "src" / "main.cpp"
        text = main_cpp.read_text()
        ops = [op for op in sorted(RESOLVER_METHOD) if op != "CUSTOM" and op not in drop]
        calls = "".join(f"\tresolver.{RESOLVER_METHOD[op]}();\n" for op in ops)
        text, n = re.subn(r"(\tresolver\.Add\w+\(\);\n)+", lambda _m: calls, text, count=1)
        assert n == 1, "no resolver calls found in main.cpp"
        main_cpp.write_text(text)
        header = out / "src" / "pipeline.h"
        header.write_text(re.sub(r"#define ZGEN_OP_COUNT \d+", f"#define ZGEN_OP_COUNT {len(ops)}", header.read_text()))
    return out


def objdump_of(build: Path) -> str:
    cache = {k: v for k, v in (line.split("=", 1) for line in (build / "CMakeCache.txt").read_text().splitlines()
                               if "=" in line and not line.startswith(("#", "//")))}
    tool = next((v for k, v in cache.items() if k.startswith("CMAKE_OBJDUMP:")), "")
    return tool or "arm-none-eabi-objdump"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=[], help="cores to measure (default: all)")
    ap.add_argument("--write", action="store_true", help=f"write {OUT}")
    args = ap.parse_args(argv)
    ws = workspace("bench/all_kernels.py")
    if ws is None:
        return 2
    regs = registrations(ws.tflite_micro)
    tflm_kernels = mapfile.kernel_stems(ws.tflite_micro)
    cache = FIRMWARE_CACHE
    # Ops Zephyr's tflite-micro module cannot link (zgen.model.ops.ZEPHYR_MODULE_LACKS; with CMSIS-NN
    # also CMSIS_NN_BUILD_LACKS), and any more a failed link names (then said in the results).
    drop: set[str] = set(ZEPHYR_MODULE_LACKS)
    apps = {tag: app_dir(cache, tag, drop) for tag in ("generated", "all-ops")}
    data = yaml.safe_load(OUT.read_text())
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    for core, board_name, ksets in TARGETS:
        if args.only and core not in args.only:
            continue
        board = boards.get(board_name)
        if problem := toolchain_problem(board, ws):
            print(f"{core}: skipped: {problem}")
            continue
        for kset in ksets:
            row = {}
            want = set(ZEPHYR_MODULE_LACKS) | (set(CMSIS_NN_BUILD_LACKS) if kset == "cmsis-nn" else set())
            if want != drop:
                drop = want
                apps["all-ops"] = app_dir(cache, "all-ops", drop)
            for tag in ("generated", "all-ops"):
                for _ in range(4):  # ops the module cannot link come out, a build at a time
                    try:
                        b = _Build(apps[tag], board, ws, kset, tag).build(timeout=3600)
                        break
                    except ToolError:
                        log = (_Build(apps[tag], board, ws, kset, tag).build_dir / "zgen-build.log").read_text()
                        more = unlinkable(log, regs) - drop
                        if tag != "all-ops" or not more:
                            raise
                        drop |= more
                        print(f"{core} {kset}: Zephyr's tflite-micro module cannot link {', '.join(sorted(more))}")
                        apps[tag] = app_dir(cache, tag, drop)
                sizes = mapfile.read(b.build_dir / "zephyr" / "zephyr.map")
                row[tag] = {"flash": sizes.flash_used, "ram": sizes.ram_used, "build_s": round(b.seconds, 1)}
                print(f"{core} {kset} {tag}: flash {sizes.flash_used} B, RAM {sizes.ram_used} B ({b.seconds:.0f} s)")
            built = _Build(apps["all-ops"], board, ws, kset, "all-ops").build_dir
            got = linkgraph.measure(built, objdump_of(built), tflm_kernels,
                                    {op: f for op, f in regs.items() if op not in drop})
            c = data["cores"].setdefault(core, {})
            c["tflm"] = got["tflm"]
            c.setdefault("kernels", {})[kset] = got["kernels"]
            c.setdefault("ops", {})[kset] = got["ops"]
            row["ops_measured"] = len(got["ops"])
            row["absent"] = got["absent"]
            row["unlinkable"] = sorted(drop)
            print(f"{core} {kset}: {len(got['ops'])} ops measured, TFLM core {got['tflm']['flash']} B flash; "
                  f"not linked: {', '.join(got['absent']) or 'none'}")
            results[f"{core} {kset}"] = {"board": board_name, **row}
    if all("ops" in c for c in data["cores"].values()):
        data.pop("ops", None)  # per core now (the calibration's op groups are not needed)
    data["kernels_from"] = "bench/all_kernels.py: every op TFLM 48613f7b registers, one build per core and kernel set"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    text = ("# Measured by bench/memory_baselines.py and bench/all_kernels.py from the linker maps of real "
            "builds; do not edit.\n" + yaml.safe_dump(data, sort_keys=False))
    if args.write:
        OUT.write_text(text)
        print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
