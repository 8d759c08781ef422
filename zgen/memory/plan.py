"""The memory plan (`zgen check`): flash and RAM of an app on a board, before
any build, from parts measured in real builds (boards/memory/measured.yaml,
written by bench/memory_baselines.py from linker maps).

Flash = the board's Zephyr (kernel, drivers, C libraries) + TFLM's core + the
zgen runtime + the TFLM kernels of the model's ops (CMSIS-NN's, with the
library functions they call, on cores with DSP; the reference kernels
elsewhere) + the model + the replay
data (replay builds) or the external parts' drivers (real sensors), less what
ld saves by merging strings. RAM = the board's Zephyr (main stack included) +
TFLM's core + zgen's fixed state + the buffers the manifest sizes: arena,
window ring and work buffers, model input, sample queue.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import yaml

from zgen.boards import _LOADER, Board
from zgen.manifest import Manifest
from zgen.pipeline import sample_queue_length
from zgen.resources import boards_dir

@lru_cache(maxsize=1)
def measured() -> dict:
    return yaml.load((boards_dir() / "memory" / "measured.yaml").read_text(), Loader=_LOADER)


@dataclass
class BoardPlan:
    board: Board
    replay: bool  # built with the replay source (simulated boards) instead of real sensors
    flash: dict[str, int] = field(default_factory=dict)  # part -> bytes
    ram: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # parts with no measurement: the plan is incomplete

    @property
    def flash_total(self) -> int:
        return sum(self.flash.values())

    @property
    def ram_total(self) -> int:
        return sum(self.ram.values())

    @property
    def flash_size(self) -> int:
        return (self.board.app_flash_kb or self.board.flash_kb) * 1024

    @property
    def ram_size(self) -> int:
        return self.board.ram_kb * 1024

    @property
    def fits(self) -> bool:
        return self.flash_total <= self.flash_size and self.ram_total <= self.ram_size


def _other_core(data: dict, part) -> tuple[str, dict] | None:
    """(core, sizes) of the first core (by name) where `part(core data)` was measured."""
    return next(((n, part(c)) for n, c in sorted(data["cores"].items()) if part(c) is not None), None)


def _step_families(m: Manifest, p: "BoardPlan", zgen: dict, data: dict) -> list[tuple[str, dict]]:
    """(part name, measured sizes) of each feature step family the manifest's chain uses: a
    generated app links only those (lib/zgen/src/zgen_<family>.c). A runtime measured before the
    families were linked apart (no `steps_apart`) has them all in its figure."""
    from zgen.steps import families

    if not zgen.get("steps_apart"):  # measured with every family linked: in its figure already
        return []
    out = []
    for family in families(m.chain):
        name = f"zgen steps: {family}"
        sizes = data["cores"][p.board.core].get("steps", {}).get(family)
        if sizes is None:  # as for the GPIO emulator: another core's size stands in, said in the name
            other = _other_core(data, lambda c: c.get("steps", {}).get(family))
            if other is None:
                p.missing.append(f"the zgen {family} steps on {p.board.core}: not measured")
                continue
            name, sizes = f"{name} ({other[0]}'s size)", other[1]
        out.append((name, sizes))
    return out


def replay_data_bytes(m: Manifest) -> int:
    """The replay source's sample tables (int16 per value, int32 where a sensor's values need it;
    a microphone's PCM as int16)."""
    if m.microphone is not None:
        return m.recording.samples * 2
    total, col = 0, 0
    for s in m.sensors:
        n = len(s.columns)
        _, _, wide = m.recording.replay_table(col, n)
        total += m.recording.samples * n * (4 if wide else 2)
        col += n
    return total


DTYPE_BYTES = {"float32": 4, "int8": 1, "uint8": 1, "int16": 2, "int32": 4}


from zgen.sensors import MIC_BLOCKS  # noqa: E402 (DMIC blocks the app's slab holds)


def feature_tables_bytes(m: Manifest) -> int:
    """The feature steps' constant tables (windows, twiddles, filter banks, ...) in flash."""
    return sum(max(1, t.size) * t.itemsize for r in m.chain for t in r.tables)


def buffers(m: Manifest, arena: int) -> dict[str, int]:
    """RAM the manifest sizes (app_template/templates/main.cpp.j2): every buffer is static."""
    from zgen.pipeline import buffer_sizes

    model_in = m.model.inputs[0]
    sizes = buffer_sizes(m)
    out = {
        "arena": arena,
        "window ring + work": 2 * m.window_length * m.channels * 4,
        "model input": model_in.count * DTYPE_BYTES[model_in.dtype],
    }
    # Each at least one element (main.cpp.j2 declares no zero-length array).
    out["feature scratch + state"] = 4 * (max(1, sizes["scratch"]) + max(1, sizes["state"]))
    out["frame stack + score history"] = 4 * (max(1, sizes["stack"]) + max(1, sizes["history"]))
    if m.microphone is not None:
        out["microphone blocks"] = MIC_BLOCKS * m.window_stride * 2
    else:
        out["sample queue"] = sample_queue_length(m) * (4 * m.channels + 4)
    return out


def plan_for(m: Manifest, board: Board, arena: int, replay: bool | None = None,
             kernels: str | None = None, data: dict | None = None) -> BoardPlan | None:
    """The plan on one board, or None for native_sim (the host's memory). `kernels`: the TFLM
    kernel set, by default the one the board's core builds with. `data`: the measured parts
    (default boards/memory/measured.yaml)."""
    if board.arch == "posix":
        return None
    data = data or measured()
    replay = board.simulated if replay is None else replay
    p = BoardPlan(board, replay)
    base = data["boards"].get(board.name)
    core = data["cores"].get(board.core)
    if base is None:
        p.missing.append(f"{board.name}: no measured baseline (build an app for it and run "
                         "bench/memory_baselines.py)")
        return p
    if core is None:
        p.missing.append(f"{board.core}: no measured TFLM and zgen code sizes")
        return p
    p.flash["Zephyr (kernel, drivers, libc)"] = base["flash"]
    p.flash["TFLM core"] = core["tflm"]["flash"]
    # Microphone apps read DMIC blocks in main() (no sampling thread, no sensor API): measured apart.
    mic = m.microphone is not None
    zgen = core.get("zgen_mic" if mic else "zgen")
    if zgen is None:
        p.missing.append(f"the zgen runtime of {'microphone' if mic else 'sensor'} apps on {board.core}: not measured")
        zgen = {"flash": 0, "ram": 0}
    p.flash["zgen runtime"] = zgen["flash"]
    steps = _step_families(m, p, zgen, data)
    for name, sizes in steps:
        p.flash[name] = sizes["flash"]
    kset = kernels or m.kernels_on(board)
    stems: set[str] = set()
    used = set(m.model.ops_used)
    core_ops = core.get("ops", {}).get(kset)
    if core_ops is not None:
        # bench/all_kernels.py measured every op TFLM registers on this core: each op's members.
        for op in sorted(used):
            if op in core_ops:
                stems.update(core_ops[op])
            else:
                p.missing.append(f"{op}: no {kset} kernel of it was linked in the all-ops build on {board.core}")
    else:
        known_ops = data.get("ops", {}).get(kset, {})
        for op in sorted(used):
            # An op measured alone, or in a group of ops measured together ("CONV_2D+MEAN+...")
            # that this model uses all of.
            key = op if op in known_ops else next(
                (k for k in known_ops if op in k.split("+") and set(k.split("+")) <= used), None)
            if key is None:
                p.missing.append(f"{op}: its {kset} kernels' size is not measured")
            else:
                stems.update(known_ops[key])
    kernel_bytes = 0
    measured_stems = core["kernels"].get(kset, {})
    for stem in sorted(stems):
        if stem in measured_stems:
            kernel_bytes += measured_stems[stem]
        else:
            p.missing.append(f"{stem} ({kset}) on {board.core}: not measured")
    p.flash[f"TFLM {kset} kernels (" + ", ".join(m.model.ops_used) + ")"] = kernel_bytes
    p.flash["model"] = len(m.model.path.read_bytes())
    p.flash["feature tables"] = feature_tables_bytes(m)
    if replay:
        code = core.get("replay_dmic_code" if mic else "replay_code")
        if code is None:
            p.missing.append(f"the replay {'microphone' if mic else 'sensor'}'s code on {board.core}: not measured")
        p.flash["replay data"] = replay_data_bytes(m) + (code or 0)
    else:
        for s in m.sensors:
            if not s.part:
                continue  # the board's own sensor: its driver is in the board's baseline
            if board.buses and s.bus not in board.buses:
                p.missing.append(f"{board.name} has no {s.bus} for {s.part} (its buses: {', '.join(board.buses)})")
                continue
            driver = data.get("drivers", {}).get(board.name, {}).get(s.part)
            if driver is None:
                p.missing.append(f"{s.part} driver on {board.name}: not measured")
            else:
                p.flash[f"{s.part} driver + bus"] = driver
    extras = []  # (part name, measured sizes): what some outputs link
    pins = any(o.kind != "callback" for o in m.outputs)
    for key, name, needed in (("gpio_emul", "GPIO emulator (pin outputs)", replay and board.simulated and pins),
                              ("workq", "system work queue (pulse outputs)",
                               any(o.mode == "pulse" for o in m.outputs) and not base.get("workq"))):
        if not needed:
            continue
        sizes = core.get(key)
        if sizes is None:
            # A small driver or the kernel's work queue: where its core has no build with it yet,
            # another core's size stands in (said in the part's name), not an incomplete plan.
            other = _other_core(data, lambda c: c.get(key))
            if other is None:
                p.missing.append(f"the {name} on {board.core}: not measured")
                continue
            name, sizes = f"{name[:-1]}; {other[0]}'s size)", other[1]
        extras.append((name, sizes))
        p.flash[name] = sizes["flash"]
    p.flash["strings merged by ld"] = core["merged_strings"]
    p.ram["Zephyr (kernel, main stack, drivers)"] = base["ram"]
    p.ram["TFLM core"] = core["tflm"]["ram"]
    p.ram["zgen fixed state (sampler stack, line, pipeline)" if not mic else "zgen fixed state (line, pipeline)"] = \
        zgen["ram"]
    for name, sizes in steps + extras:
        if sizes.get("ram"):
            p.ram[name] = sizes["ram"]
    p.ram.update(buffers(m, arena))
    if base.get("ram_only"):  # CONFIG_XIP=n: the image is loaded into RAM and runs there
        p.ram["the image (runs from RAM)"] = p.flash_total
    return p
