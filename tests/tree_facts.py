"""Board facts read straight from a Zephyr tree, independently of zgen's
catalogue: sizes from the chosen flash / SRAM nodes (the memory the linker
places the image in; the board YAML for native_sim), core, LED aliases,
console, buses and built-in sensors from the preprocessed devicetree (Zephyr's
own dtlib), FPU / DSP / RISC-V ISA from the SoC's Kconfig selects, QEMU
machine, pyOCD target and runners from board.cmake (its if/elseif branches
evaluated for the board, at its default revision)."""
from __future__ import annotations

import re
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import yaml

CORES = {"arm,cortex-m3": "cortex-m3", "arm,cortex-m4f": "cortex-m4f", "arm,cortex-m4": "cortex-m4",
         "arm,cortex-m33f": "cortex-m33f", "arm,cortex-m33": "cortex-m33", "zephyr,native-posix-cpu": "host"}

# Devicetree compatibles of sensors (bindings under dts/bindings/sensor) and the
# zgen sensor kinds (zgen/sensors.py) their Zephyr 3.7 driver serves; () for
# sensors that are none of them (die temperature, internal voltages, distance).
# A board sensor whose compatible is missing here fails the comparison, so a
# new board cannot silently drop one.
SENSOR_KINDS = {
    "st,lsm6dsl": ("accelerometer", "gyroscope"),  # temperature / magnetometer only through its sensor hub
    "st,lis3mdl-magn": ("magnetometer",),
    "st,hts221": ("temperature", "humidity"),
    "st,lps22hb-press": ("pressure", "temperature"),
    "avago,apds9960": ("light",),
    "st,vl53l0x": (),  # distance / proximity
    "nordic,nrf-temp": (),  # SENSOR_CHAN_DIE_TEMP
    "st,stm32-temp-cal": (),  # SENSOR_CHAN_DIE_TEMP
    "st,stm32-temp": (),
    "st,stm32-vref": (),  # the SoC's internal reference voltage
    "st,stm32-vbat": (),  # the backup battery voltage
}

# Simulators, not flash/debug runners: the catalogue lists them under simulators.
SIM_RUNNERS = {"qemu", "renode", "renode_robot", "native", "bsim"}


def board_files(zephyr: Path, name: str) -> tuple[Path, Path]:
    """(board yaml, board dts) for a board/soc name such as nrf52840dk/nrf52840."""
    stem = name.replace("/", "_")
    for yml in zephyr.glob(f"boards/*/*/{stem}.yaml"):
        return yml, yml.with_suffix(".dts")
    raise FileNotFoundError(f"{name}: no boards/*/*/{stem}.yaml in {zephyr}")


def dts_roots(zephyr: Path) -> list[Path]:
    """Zephyr's own dts folder and those of the workspace's modules (hal_stm32's pinctrl files)."""
    roots = [zephyr]
    top = zephyr.parent
    found = [m for depth in range(1, 5) for m in top.glob("*/" * depth + "zephyr/module.yml")]
    for module_yml in sorted(found):
        if module_yml.parent.parent == zephyr:
            continue
        meta = yaml.safe_load(module_yml.read_text()) or {}
        root = (meta.get("build") or {}).get("settings", {}).get("dts_root")
        if root:
            roots.append((module_yml.parent.parent / root).resolve())
    return roots


def devicetree(zephyr: Path, dts: Path):
    sys.path.insert(0, str(zephyr / "scripts/dts/python-devicetree/src"))
    from devicetree import dtlib

    inc = [zephyr / "include"]
    for root in dts_roots(zephyr):
        inc += [root / "dts/common", root / "dts/arm", root / "dts/riscv", root / "dts/posix", root / "dts"]
    inc.append(dts.parent)
    pp = subprocess.run(["cpp", "-nostdinc", "-undef", "-D__DTS__", "-x", "assembler-with-cpp", "-P",
                         *[f"-I{p}" for p in inc if p.is_dir()], str(dts)],
                        capture_output=True, text=True, check=True).stdout
    tmp = Path(subprocess.run(["mktemp", "--suffix=.dts"], capture_output=True, text=True, check=True).stdout.strip())
    tmp.write_text(pp)
    try:
        return dtlib.DT(str(tmp))
    finally:
        tmp.unlink()


# ---------------------------------------------------------------- Kconfig

@lru_cache(maxsize=4)
def _kconfig_selects(zephyr: Path) -> dict[str, list[tuple[str, str | None]]]:
    """symbol -> [(selected symbol, condition or None)] from every Kconfig file under soc/ and arch/."""
    selects: dict[str, list[tuple[str, str | None]]] = {}
    for base in ("soc", "arch"):
        for path in (zephyr / base).rglob("Kconfig*"):
            current = None
            for line in path.read_text(errors="replace").splitlines():
                m = re.match(r"(?:menu)?config\s+(\w+)", line)
                if m:
                    current = selects.setdefault(m.group(1), [])
                    continue
                if line and not line[0].isspace():
                    current = None
                    continue
                m = re.match(r"\s+select\s+(\w+)(?:\s+if\s+(.+))?$", line)
                if m and current is not None:
                    current.append((m.group(1), m.group(2).strip() if m.group(2) else None))
    return selects


def _closure(zephyr: Path, start: set[str]) -> set[str]:
    """Symbols enabled by selects from `start` (a condition counts when it is one enabled symbol)."""
    selects = _kconfig_selects(zephyr)
    on = set(start)
    changed = True
    while changed:
        changed = False
        for sym in list(on):
            for target, cond in selects.get(sym, ()):
                if target not in on and (cond is None or cond in on):
                    on.add(target)
                    changed = True
    return on


def _board_symbols(name: str, board_name: str) -> set[str]:
    return {"BOARD_" + name.replace("/", "_").upper(), "BOARD_" + board_name.upper()}


def kconfig_facts(zephyr: Path, yml_path: Path, name: str, board_name: str, arch: str) -> dict:
    syms = _board_symbols(name, board_name)
    socs = set()
    for path in yml_path.parent.glob("Kconfig.*"):
        for line in path.read_text().splitlines():
            m = re.match(r"\s+select\s+(SOC_\w+)(?:\s+if\s+(\w+))?\s*$", line)
            if m and (m.group(2) is None or m.group(2) in syms):
                socs.add(m.group(1))
    on = _closure(zephyr, socs)
    tick = {"tick_hz": default_tick_hz(zephyr, yml_path.parent, on, arch)}
    if arch == "arm":
        return {"fpu": "CPU_HAS_FPU" in on,
                # ARMv7E-M (M4, M7) always has the DSP extension; ARMv8-M says so with ARMV8_M_DSP.
                "dsp": bool(on & {"ARMV8_M_DSP", "CPU_CORTEX_M4", "CPU_CORTEX_M7"}),
                "isa": None, **tick}
    if arch == "riscv":
        bits = "32" if "RISCV_ISA_RV32I" in on or "RISCV_ISA_RV32E" in on else "64"
        base = "e" if "RISCV_ISA_RV32E" in on else "i"
        ext = "".join(x.lower() for x in "MAFDC" if f"RISCV_ISA_EXT_{x}" in on)
        return {"fpu": "RISCV_ISA_EXT_F" in on, "dsp": False, "isa": f"rv{bits}{base}{ext}", **tick}
    return {"fpu": None, "dsp": None, "isa": None, **tick}


def _holds(cond: str | None, on: set[str]) -> bool:
    """A Kconfig condition of symbols, !, && and || (no parentheses); anything else (macros,
    comparisons) counts as false."""
    if cond is None:
        return True
    if re.search(r"[^\w!&| ]", cond):
        return False
    return any(all((t.strip()[1:] not in on) if t.strip().startswith("!") else (t.strip() in on)
                   for t in alt.split("&&")) for alt in cond.split("||"))


def default_tick_hz(zephyr: Path, board_dir: Path, on: set[str], arch: str) -> int | None:
    """CONFIG_SYS_CLOCK_TICKS_PER_SEC as Kconfig picks it with the tickless kernel: the first
    default that holds, from the board's Kconfig.defconfig, its SoC family's, then kernel/Kconfig."""
    on = on | {"TICKLESS_KERNEL"} | ({"SOC_POSIX"} if arch == "posix" else set())
    if any(re.search(r"^\s+select QEMU_TARGET", p.read_text(), re.M) for p in board_dir.glob("Kconfig*")):
        on.add("QEMU_TARGET")
    files = [board_dir / "Kconfig.defconfig"]
    for path in sorted((zephyr / "soc").rglob("Kconfig.defconfig*")):
        guard = re.search(r"^if (\w+)\s*$", path.read_text(errors="replace"), re.M)
        if guard and guard.group(1) in on:
            files.append(path)
    files.append(zephyr / "kernel" / "Kconfig")
    for path in files:
        if not path.is_file():
            continue
        for block in re.findall(r"^config SYS_CLOCK_TICKS_PER_SEC\n((?:[ \t]+.*\n|\n)*)", path.read_text(), re.M):
            depends = re.search(r"^\s+depends on (.+)$", block, re.M)
            if depends and not _holds(depends.group(1), on):
                continue
            for value, cond in re.findall(r"^\s+default\s+(\d+)(?:\s+if\s+(.+))?$", block, re.M):
                if _holds(cond or None, on):
                    return int(value)
    return None


# ---------------------------------------------------------------- board.cmake

def active_cmake(cmake: str, syms: set[str], revision: str | None) -> str:
    """board.cmake with only the lines of the if/elseif/else branches taken for this board."""
    def cond_true(cond: str) -> bool:
        boards = re.findall(r"CONFIG_(BOARD_\w+)", cond)
        if boards:
            return any(b in syms for b in boards)
        rev = re.search(r'BOARD_REVISION\}"\s+STREQUAL\s+"(\w+)"', cond)
        if rev:
            return rev.group(1) == revision
        return False  # CONFIG_BUILD_WITH_TFM, CONFIG_OPENAMP, ...: off by default

    out = []
    stack: list[tuple[bool, bool]] = []  # per open if: (enclosing branch active, a branch taken)
    active = True
    for line in cmake.splitlines():
        s = line.strip()
        m = re.match(r"(if|elseif)\s*\((.*)\)\s*$", s)
        if m and m.group(1) == "if":
            taken = active and cond_true(m.group(2))
            stack.append((active, taken))
            active = taken
        elif m:  # elseif
            parent, taken = stack[-1]
            active = parent and not taken and cond_true(m.group(2))
            stack[-1] = (parent, taken or active)
        elif re.match(r"else\s*\(", s):
            parent, taken = stack[-1]
            active = parent and not taken
            stack[-1] = (parent, True)
        elif re.match(r"endif\s*\(", s):
            active = stack.pop()[0]
        elif active:
            out.append(line)
    return "\n".join(out)


def qemu_flags(cmake: str) -> dict:
    """QEMU_FLAGS_${ARCH} of an (active) board.cmake: its -cpu, and what else it passes beyond
    -machine, -nographic and -vga none (which every QEMU run gets)."""
    m = re.search(r"set\(QEMU_FLAGS_\$\{ARCH\}(.*?)\)", cmake, re.DOTALL)
    if not m:
        return {"cpu": None, "extra": []}
    cpu_type = re.search(r"set\(QEMU_CPU_TYPE_\$\{ARCH\}\s+([\w-]+)\)", cmake)
    tokens = m.group(1).replace("${QEMU_CPU_TYPE_${ARCH}}", cpu_type.group(1) if cpu_type else "").split()
    cpu, extra = None, []
    i = 0
    while i < len(tokens):
        if tokens[i] in ("-cpu", "-machine", "-vga"):
            if tokens[i] == "-cpu":
                cpu = tokens[i + 1]
            i += 2
            continue
        if tokens[i] != "-nographic":
            extra.append(tokens[i])
        i += 1
    return {"cpu": cpu, "extra": extra}


def qemu_loaders(cmake: str) -> list[str]:
    """Images an (active) board.cmake has QEMU load besides the app (`-device loader,file=` with a
    ${CPU0_BINARY_DIR} set from ${CMAKE_CURRENT_BINARY_DIR}), relative to the build folder."""
    dirs = dict(re.findall(r"set\((\w+_BINARY_DIR)\s+\$\{CMAKE_CURRENT_BINARY_DIR\}/([\w./-]+)\)", cmake))
    return [f"{dirs[var]}/{name}"
            for var, name in re.findall(r"QEMU_KERNEL_OPTION\s+\"-device;loader,file=\$\{(\w+)\}/([\w.]+)\"", cmake)
            if var in dirs]


# ---------------------------------------------------------------- sensors

@lru_cache(maxsize=4)
def sensor_bindings(zephyr: Path) -> frozenset[str]:
    """Compatibles of the bindings under dts/bindings/sensor."""
    found = set()
    for path in (zephyr / "dts/bindings/sensor").rglob("*.yaml"):
        m = re.search(r'^compatible:\s*"([^"]+)"', path.read_text(errors="replace"), re.MULTILINE)
        if m:
            found.add(m.group(1))
    return frozenset(found)


@lru_cache(maxsize=4)
def _sensor_sources(zephyr: Path) -> dict[str, str]:
    return {str(p.relative_to(zephyr)): p.read_text(errors="replace")
            for p in (zephyr / "drivers/sensor").rglob("*.[ch]")}


def sensor_driver(zephyr: Path, compatible: str) -> str | None:
    """The folder of the Zephyr sensor driver for a compatible, or None."""
    token = re.sub(r"[,-]", "_", compatible)
    pattern = re.compile(rf"\b{token}\b")
    for rel, text in sorted(_sensor_sources(zephyr).items()):
        if pattern.search(text):
            return str(Path(rel).parent)
    return None


def driver_kconfig(zephyr: Path, compatible: str) -> dict[str, str]:
    """Kconfig symbols of a compatible's sensor driver that its devicetree node enables
    (those naming DT_HAS_<COMPATIBLE>_ENABLED): symbol -> the symbol's property lines."""
    folder = sensor_driver(zephyr, compatible)
    dt_has = "DT_HAS_" + re.sub(r"[^A-Za-z0-9]", "_", compatible).upper() + "_ENABLED"
    found = {}
    for kconfig in (zephyr / folder).glob("Kconfig*") if folder else ():
        for m in re.finditer(r"^(?:menu)?config (\w+)\n((?:[ \t]+.*\n|[ \t]*\n)*)", kconfig.read_text(),
                             re.MULTILINE):
            if dt_has in m.group(2):
                found[m.group(1)] = m.group(2)
    return found


def driver_modules(zephyr: Path, compatible: str) -> set[str]:
    """West modules a compatible's driver depends on (ZEPHYR_HAL_ST_MODULE -> hal_st)."""
    return {mod.lower() for body in driver_kconfig(zephyr, compatible).values()
            for mod in re.findall(r"depends on ZEPHYR_(\w+)_MODULE", body)}


def driver_channels(zephyr: Path, folder: str) -> set[str]:
    return {ch for rel, text in _sensor_sources(zephyr).items() if rel.startswith(folder + "/")
            for ch in re.findall(r"SENSOR_CHAN_\w+", text)}


def _okay(node) -> bool:
    while node is not None:
        status = node.props.get("status")
        if status is not None and status.to_string() not in ("okay", "ok"):
            return False
        node = node.parent
    return True


# Microphones: compatibles of Zephyr 3.7's DMIC drivers (drivers/audio, the audio/dmic.h API).
DMIC_COMPATIBLES = ("nordic,nrf-pdm", "nxp,dmic", "st,mpxxdtyy")


def dt_sensors(zephyr: Path, dt) -> list[dict]:
    """Built-in sensors: okay nodes with a sensor binding and a driver, and okay DMIC nodes
    (microphones), as catalogue entries (node: the node's label, or {/path} where it has none:
    both follow `&` in devicetree)."""
    bindings = sensor_bindings(zephyr)
    out = []
    for node in dt.node_iter():
        if "compatible" not in node.props or not _okay(node):
            continue
        mic = next((c for c in node.props["compatible"].to_strings() if c in DMIC_COMPATIBLES), None)
        if mic is not None:
            out.append({"kind": "microphone", "node": node.labels[-1] if node.labels else "{" + node.path + "}",
                        "compatible": mic})
            continue
        compat = next((c for c in node.props["compatible"].to_strings() if c in bindings), None)
        if compat is None or sensor_driver(zephyr, compat) is None:
            continue
        if compat not in SENSOR_KINDS:
            raise KeyError(f"{node.path}: add {compat} to tree_facts.SENSOR_KINDS")
        ref = node.labels[0] if node.labels else "{" + node.path + "}"
        out += [{"kind": k, "node": ref, "compatible": compat} for k in SENSOR_KINDS[compat]]
    return out


# ---------------------------------------------------------------- all facts

def facts(zephyr: Path, name: str) -> dict:
    yml_path, dts = board_files(zephyr, name)
    meta = yaml.safe_load(yml_path.read_text())
    doc = yaml.safe_load((yml_path.parent / "board.yml").read_text())
    board_name = name.split("/")[0]
    board_yml = next(b for b in doc.get("boards", [doc.get("board")]) if b["name"] == board_name)
    revision = (board_yml.get("revision") or {}).get("default")
    dt = devicetree(zephyr, dts)
    chosen = dt.get_node("/chosen").props
    aliases = dt.get_node("/aliases").props if dt.has_node("/aliases") else {}

    def size_kb(prop: str):
        if prop not in chosen:
            return None
        node = chosen[prop].to_path()
        if "compatible" in node.props and "jedec,spi-nor" in node.props["compatible"].to_strings():
            # The linker's ROM is the SPI controller's memory-mapped window (its second reg).
            return node.parent.props["reg"].to_nums()[3] // 1024
        return node.props["reg"].to_nums()[-1] // 1024

    arch = meta["arch"]
    if arch == "posix":  # the devicetree does not describe the host process's memory
        flash_kb, ram_kb = meta.get("flash"), meta.get("ram")
    else:
        flash_kb, ram_kb = size_kb("zephyr,flash"), size_kb("zephyr,sram")
        if flash_kb is None:  # no flash (CONFIG_XIP=n): the image is loaded into, and runs from, RAM
            flash_kb = ram_kb
    cpus = [c.props["compatible"].to_strings()[0] for c in dt.get_node("/cpus").nodes.values()
            if "compatible" in c.props]
    labels = {label for node in dt.node_iter() for label in node.labels}
    kc = kconfig_facts(zephyr, yml_path, name, board_name, arch)
    raw_cmake = (dts.parent / "board.cmake").read_text() if (dts.parent / "board.cmake").exists() else ""
    cmake = active_cmake(raw_cmake, _board_symbols(name, board_name), revision)
    machine = re.search(r"-machine\s+([\w-]+)", cmake)
    qemu = qemu_flags(cmake)
    pyocd = re.search(r'board_runner_args\(pyocd\s+"--target=([\w-]+)"', cmake)
    runners = {r.split("-")[0] for r in re.findall(r"boards/common/([\w-]+)\.board\.cmake", cmake)}
    emu = re.search(r"SUPPORTED_EMU_PLATFORMS\s+([\w ]+)\)", cmake)
    renode_uart = re.search(r"RENODE_UART\s+([\w.]+)\)", cmake)
    renode_resc = re.search(r"RENODE_SCRIPT\s+\$\{CMAKE_CURRENT_LIST_DIR\}/([\w./-]+)\)", cmake)
    # The app is linked into zephyr,code-partition only with USE_DT_CODE_PARTITION, which the board's
    # defconfig sets, or selects through a bootloader (BOSSA; MCUboot is not on by default).
    defconfig = dts.parent / f"{dts.stem}_defconfig"
    dconf = defconfig.read_text() if defconfig.is_file() else ""
    in_partition = re.search(r"^CONFIG_(USE_DT_CODE_PARTITION|BOOTLOADER_BOSSA)=y", dconf, re.M)
    code_kb = size_kb("zephyr,code-partition") if arch != "posix" and in_partition else None
    return {
        "identifier": meta["identifier"],
        "only_tags": (meta.get("testing") or {}).get("only_tags", []),
        "flash_kb": flash_kb,
        # Where a bootloader or storage takes part of the flash, the app gets the code partition.
        "app_flash_kb": code_kb if code_kb is not None and code_kb != flash_kb else None,
        "ram_kb": ram_kb,
        "core": kc["isa"] or (CORES.get(cpus[0], cpus[0]) if cpus else None),
        "fpu": kc["fpu"],
        "tick_hz": kc["tick_hz"],
        "dsp": kc["dsp"],
        "leds": sorted(k for k in aliases if re.fullmatch(r"led\d+", k)),
        "console": chosen["zephyr,console"].to_path().labels[0] if "zephyr,console" in chosen else None,
        "buses": sorted(label for label in labels if re.fullmatch(r"(i2c|spi)\d+", label)),
        "sensors": dt_sensors(zephyr, dt),
        "qemu_machine": machine.group(1) if machine else None,
        "qemu_cpu": qemu["cpu"],
        "qemu_extra": qemu["extra"],
        "qemu_loaders": qemu_loaders(cmake),
        "emulators": emu.group(1).split() if emu else [],
        "renode_uart": renode_uart.group(1) if renode_uart else None,
        "renode_resc": (str((dts.parent / renode_resc.group(1)).relative_to(zephyr))
                        if renode_resc else None),
        "pyocd_target": pyocd.group(1) if pyocd else None,
        "runners": sorted(runners - SIM_RUNNERS),
    }
