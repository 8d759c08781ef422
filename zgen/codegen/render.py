"""Rendering a manifest into the files of a Zephyr application (in memory)."""
from __future__ import annotations

import re
from dataclasses import dataclass

import jinja2
import numpy as np

from zgen import __version__, boards
from zgen.manifest import Manifest
from zgen.model.arena import ArenaMeasurement, measure
from zgen.model.ops import CMSIS_NN_BUILD_LACKS, RESOLVER_METHOD, cmsis_nn_accelerates, cmsis_nn_cannot_link
from zgen.pipeline import TABLE_TYPES, buffer_sizes, runtime_config, sample_queue_length
from zgen.steps import KIND, families
from zgen.sensors import MIC_BLOCKS, PARTS
from zgen.resources import app_template_dir, runtime_dir
from zgen.simulate import Simulation, plan_arena
from zgen.simulate import run as run_simulation
from zgen import renode_feed
from zgen.workspace import WEST_PROJECTS, ZEPHYR_REVISION

DTYPE_ENUM = {0: "ZGEN_DTYPE_FLOAT32", 1: "ZGEN_DTYPE_INT8", 2: "ZGEN_DTYPE_UINT8"}
SCORE_ENUM = {1: "ZGEN_SCORE_RECONSTRUCTION_MSE", 2: "ZGEN_SCORE_OUTPUT", 3: "ZGEN_SCORE_CLASS",
              4: "ZGEN_SCORE_RECONSTRUCTION_MAE"}
OUTPUT_ENUM = {1: "ZGEN_OUTPUT_LEVEL", 2: "ZGEN_OUTPUT_PULSE", 3: "ZGEN_OUTPUT_CALLBACK"}
OUTPUT_STATE = {-1: "ZGEN_OUTPUT_ANY_ON", -2: "ZGEN_OUTPUT_ANY"}
MAIN_STACK = 4096


def cfloat(x: float) -> str:
    """A C float literal that parses back to exactly this float32."""
    v = np.float32(x)
    if not np.isfinite(v):
        raise ValueError(f"no C literal for {x}")
    if v == 0 or 1e-4 <= abs(v) < 1e7:
        text = np.format_float_positional(v, unique=True, trim="0")
    else:
        text = np.format_float_scientific(v, unique=True, trim="0")
    return text + "f"


def regex_escape(text: str) -> str:
    """Escape regex metacharacters only (re.escape also escapes spaces)."""
    return re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", text)


def _c_bytes(data: bytes, per_line: int = 16) -> str:
    rows = []
    for i in range(0, len(data), per_line):
        rows.append("\t" + ", ".join(f"0x{b:02x}" for b in data[i:i + per_line]) + ",")
    return "\n".join(rows)


def _c_values(values: np.ndarray, per_line: int = 12) -> str:
    """A table's elements as C literals, exactly the values the host runtime is given."""
    flat = values.reshape(-1)
    text = [cfloat(v) for v in flat] if flat.dtype == np.float32 else [str(int(v)) for v in flat]
    return "\n".join("\t" + ", ".join(text[i:i + per_line]) + "," for i in range(0, len(text), per_line))


def _steps(m: Manifest, cfg: dict) -> list[dict]:
    names = {v: k for k, v in KIND.items()}
    out = []
    for i, st in enumerate(cfg["features"]):
        tables = []
        for k, t in enumerate(st["tables"]):
            tables.append({"index": k, "ctype": TABLE_TYPES[t.dtype.name][1], "count": max(1, t.size),
                           "body": _c_values(t) if t.size else "\t0,"})
        out.append({"index": i, "what": names[st["kind"]], "kind_enum": "ZGEN_FEATURE_" + names[st["kind"]].upper(),
                    "state": st["state"], "args": st["args"], "tables": tables})
    return out


def _c_rows(raw: np.ndarray) -> str:
    return "\n".join("\t{" + ", ".join(str(int(v)) for v in row) + "}," for row in raw)


@dataclass(frozen=True)
class Rendered:
    files: dict[str, bytes]  # path relative to the app -> content
    arena_size: int  # for the manifest's board
    once: dict[str, bytes]  # the user's files zgen only starts (written when absent)


def _outputs_overlay(m: Manifest, board) -> str:
    """The devicetree of the manifest's pin outputs on `board`: on a simulated board every one on
    zgen's GPIO emulator (its level read back in each action line); on a real board the
    `gpio: {port, pin}` ones (aliases the board has are its own), where the board has that port."""
    pins = [o for o in m.outputs if o.kind != "callback"]
    if board.simulated:
        chosen = pins
    else:
        chosen = [o for o in pins if o.port is not None and o.port in board.gpio_ports
                  and o.pin < board.gpio_ports[o.port]]
    if not chosen:
        return ""
    out = ["", "/* The manifest's outputs" + (" on zgen's GPIO emulator: each action line reads the level back. */"
                                             if board.simulated else ": pins named by port. */"), "/ {"]
    if board.simulated:
        out += ["\tzgen_gpio: zgen-gpio {", '\t\tcompatible = "zephyr,gpio-emul";', "\t\tgpio-controller;",
                "\t\t#gpio-cells = <2>;", f"\t\tngpios = <{max(1, len(chosen))}>;", '\t\tstatus = "okay";', "\t};", ""]
    out += ["\tzgen-outputs {", '\t\tcompatible = "zgen,outputs";', ""]
    for i, o in enumerate(chosen):
        ref = f"&zgen_gpio {i}" if board.simulated else f"&{o.port} {o.pin}"
        out += [f"\t\tzgen_out_{i}: out-{i} {{", f"\t\t\tgpios = <{ref} 0>; /* {o.name}, active high */", "\t\t};"]
    out += ["\t};", "", "\taliases {"]
    out += [f"\t\t{o.name} = &zgen_out_{i};" for i, o in enumerate(chosen)]
    out += ["\t};", "};", ""]
    return "\n".join(out)


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(app_template_dir() / "templates")),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["cfloat"] = cfloat
    env.filters["regex_escape"] = regex_escape
    return env


def _sensor_ctx(m: Manifest) -> list[dict]:
    out = []
    for s in m.sensors:
        alias = s.alias
        if s.part:  # an external part: the overlay declares it on its bus
            node = s.part.split(",")[1]
            label = f"zgen_{s.name}_{node.replace('-', '_')}"
        else:  # the board's own sensor of this kind (catalogue), or only replay
            own = [x for x in m.board.sensors if x.get("kind") == s.kind.name]
            node, label = s.kind.name, own[0]["node"] if own else f"zgen_replay_{s.name}"
        if s.kind.name == "microphone":
            alias = "zgen-mic"
            label = m.board.microphone_node() or f"zgen_replay_{s.name}"
        out.append({
            "name": s.name, "alias_dt": alias, "alias_c": alias.replace("-", "_"),
            "channel": s.kind.channel, "count": len(s.columns), "part": s.part, "bus": s.bus,
            "address": s.address, "node": node, "label": label,
            "properties": PARTS[s.part].overlay_properties(s.rate_hz, s.full_scale) if s.part in PARTS else [],
        })
    return out


def _streams(m: Manifest) -> list[dict]:
    """Replay data per sensor, in the narrowest integer type that holds it exactly."""
    rec = m.recording
    streams = []
    col = 0
    for s in m.sensors:
        n = len(s.columns)
        raw, decimals, wide = rec.replay_table(col, n)
        streams.append({
            "name": s.name, "columns": s.columns, "samples": rec.samples, "count": n,
            "decimals": decimals, "wide": int(wide), "ctype": "int32_t" if wide else "int16_t",
            "channel": s.kind.channel, "body": _c_rows(raw),
        })
        col += n
    return streams


# What the app's CI workflow installs on Ubuntu: Debian's Arm GCC with picolibc and libstdc++ (TFLM
# is C++), QEMU, the host GCC for native_sim (32-bit), and what Zephyr's build needs.
APT_PACKAGES = ("gcc-arm-none-eabi", "libnewlib-arm-none-eabi", "libstdc++-arm-none-eabi-newlib",
                "picolibc-arm-none-eabi", "libstdc++-arm-none-eabi-picolibc", "qemu-system-arm",
                "gcc-multilib", "g++-multilib", "device-tree-compiler", "ninja-build", "ccache", "cmake")


def _ci_matrix() -> list[tuple[str, str]]:
    """(simulator, board) for every Arm and native_sim board a simulator runs: RISC-V needs the
    Zephyr SDK (Debian's RISC-V GCC has no libstdc++)."""
    out = []
    for sim in ("native_sim", "qemu", "renode"):
        out += [(sim, b.name) for b in boards.catalogue().values() if sim in b.simulators and b.arch != "riscv"]
    return out


def sim_boards() -> list[str]:
    """Boards the app gets replay overlays for: every simulated catalogue board."""
    # The manifest's board comes from the catalogue, so a simulated one is among these.
    return sorted(b.name for b in boards.catalogue().values() if b.simulated)


def render(m: Manifest, sim: Simulation, arena: ArenaMeasurement | None = None) -> Rendered:
    cfg = runtime_config(m)
    arena = arena or measure(m.model.path)
    arena_size = plan_arena(m, arena, m.board.arch, m.kernels_on(m.board))
    # Arm boards get the arena replayed for Cortex-M, for the kernel set their
    # core builds with; native_sim (i386) and RISC-V lay TFLM's structs out
    # differently and get the host's upper bound.
    arena_arm, arena_other = plan_arena(m, arena, "arm"), plan_arena(m, arena, "posix")
    arena_cmsis = plan_arena(m, arena, "arm", "cmsis-nn")
    if isinstance(m.arena, int):
        arena_note = (f"set in the manifest; Cortex-M needs {arena.used_on('arm')} B ({arena.note_for('arm')}), "
                      f"{arena.used_on('arm', 'cmsis-nn')} B with CMSIS-NN")
    else:
        arena_note = (f"Arm: {arena.note_for('arm')}; Arm with CMSIS-NN: {arena.note_for('arm', 'cmsis-nn')}; "
                      f"other targets: {arena.note_for('posix')}")
    model_bytes = m.model.path.read_bytes()
    dsize = {0: 4, 1: 1, 2: 1}
    sensors = _sensor_ctx(m)
    manifest_name = m.path.name
    ops = [RESOLVER_METHOD[o] for o in m.model.ops_used]
    events = [line for line in sim.lines if " event=" in line]
    end_line = sim.lines[-1].split(" overruns=")[0]
    ctx = {
        "app": m.name, "version": __version__, "manifest_name": manifest_name, "board": m.board.name,
        "board_simulated": m.board.simulated, "sensors": sensors,
        "external": [s for s in sensors if s["part"]],
        "outputs": [{"name": o.name, "c_name": o.c_name, "mode": o.mode, "pin": o.kind != "callback"}
                    for o in m.outputs],
        "pin_outputs": any(o.kind != "callback" for o in m.outputs), "callback": m.callback,
        # The kernel set on DSP cores (zgen.manifest.Manifest.kernels_on): the ops CMSIS-NN would run.
        "cmsis_nn_ops": [] if m.kernels == "reference" or cmsis_nn_cannot_link(m.model) else (
            cmsis_nn_accelerates(m.model) or (["every op"] if m.kernels == "cmsis-nn" else [])),
        "cmsis_nn_reason": "the manifest sets `model: kernels: reference`" if m.kernels == "reference" else
        "; ".join(f"{m.model.path.name} uses {op}: {CMSIS_NN_BUILD_LACKS[op]}" for op in cmsis_nn_cannot_link(m.model))
        or f"{m.model.path.name} has no int8/int16 op CMSIS-NN accelerates (it is "
        f"{m.model.inputs[0].dtype}; CMSIS-NN has no float kernels)",
        "rate_hz": cfg["rate_hz"], "period_us": boards.sample_period_us(m.rate_hz),
        "pace_tolerance": boards.PACE_TOLERANCE_PERCENT,
        "cfg": cfg, "steps": _steps(m, cfg), "step_families": families(m.chain), "sizes": buffer_sizes(m), "dtype_enum": DTYPE_ENUM,
        "score_enum": SCORE_ENUM, "output_enum": OUTPUT_ENUM, "output_state": OUTPUT_STATE,
        "input_bytes": cfg["input"]["count"] * dsize[cfg["input"]["dtype"]],
        "output_bytes": cfg["output"]["count"] * dsize[cfg["output"]["dtype"]],
        "ops": ops, "op_names": list(m.model.ops_used), "model_hash": m.model.short_hash,
        "model_name": m.model.path.name, "model_size": len(model_bytes), "model_sha256": m.model.sha256,
        "model_bytes": _c_bytes(model_bytes), "arena_size": arena_size, "arena_arm": arena_arm, "arena_other": arena_other,
        "arena_cmsis": arena_cmsis,
        # What TFLM needs by zgen's plan, whatever the arena is set to: the firmware's error line.
        "need_arm": arena.planned_for("arm"), "need_other": arena.planned_for("posix"),
        "need_cmsis": arena.planned_for("arm", "cmsis-nn"),
        "arena_note": arena_note,
        "main_stack": MAIN_STACK, "sample_queue": sample_queue_length(m), "streams": _streams(m),
        "microphone": m.microphone is not None,
        # The board's PDM peripheral, wired for an external microphone (the board has none of its own).
        "pdm_overlay": (m.board.pdm_microphone or {}).get("overlay", "") if m.microphone is not None
        and not any(x.get("kind") == "microphone" for x in m.board.sensors) else "",
        # Microphones: one DMIC block per hop; the slab holds enough blocks for a decision's
        # inference to fall 7 hops behind before a real driver drops audio.
        "block_samples": m.window_stride, "block_count": MIC_BLOCKS, "read_timeout_ms": 1000,
        "pcm_body": _c_values(m.recording.micro[:, 0] // 1_000_000, 16) if m.microphone else "",
        "data_name": m.recording.path.name, "replay_samples": m.recording.samples,
        "faults": [{"sample": f.sample, "amount": f.amount, "kind": f.kind} for f in m.faults],
        # twister's limit per scenario (default 60 s): some boards replay in real time
        "replay_timeout": max(60, int(1.5 * m.recording.samples / m.rate_hz) + 60),
        "sim_boards": sim_boards(), "board_stem": m.board.file_stem,
        "replay_build_boards": sorted(b.twister_name for b in boards.catalogue().values()
                                      if not b.simulated and b.name != m.board.name),
        "board_twister": m.board.twister_name,
        "twister_tags": sorted({t for b in boards.catalogue().values() for t in b.twister_tags}),
        "end_line": end_line, "events": events,
        "min_ram_kb": 16,
        "gh": lambda expr: "${{ " + expr + " }}", "ci_matrix": _ci_matrix(), "apt_packages": APT_PACKAGES,
        "zephyr_version": ZEPHYR_REVISION, "west_projects": WEST_PROJECTS,
        "example_lines": [sim.lines[0], *(sim.lines[1:3]), *(events[:2]), sim.lines[-1]],
    }
    env = _env()
    files: dict[str, str | bytes] = {}

    def put(path: str, template: str) -> None:
        files[path] = env.get_template(template).render(ctx)

    put("CMakeLists.txt", "CMakeLists.txt.j2")
    put("Kconfig", "Kconfig.j2")
    put("prj.conf", "prj.conf.j2")
    put("sample.yaml", "sample.yaml.j2")
    put("README.md", "README.md.j2")
    put("src/main.cpp", "main.cpp.j2")
    put("src/pipeline.h", "pipeline.h.j2")
    put("src/pipeline.c", "pipeline.c.j2")
    put("src/model_data.h", "model_data.h.j2")
    put("src/model_data.cc", "model_data.cc.j2")
    put("src/replay_data.c", "replay_data.c.j2")
    put("boards/replay.overlay", "boards/replay.overlay.j2")
    put(".github/workflows/zgen-simulation.yml", "github/simulation.yml.j2")
    if m.callback:
        put("src/zgen_callback.h", "zgen_callback.h.j2")
    for name in ctx["sim_boards"]:
        board = boards.get(name)
        files[f"boards/{board.file_stem}.overlay"] = files["boards/replay.overlay"] + _outputs_overlay(m, board)
    if not m.board.simulated:
        put(f"boards/{m.board.file_stem}.overlay", "boards/sensors.overlay.j2")
        files[f"boards/{m.board.file_stem}.overlay"] += _outputs_overlay(m, m.board)
    # The simulated boards, the manifest's, and any other whose kernel tick zgen must change
    # (twister builds the app there too: its build.replay scenario).
    for b in boards.catalogue().values():
        if b.name in ctx["sim_boards"] or b == m.board or _tick_override(b, m.rate_hz):
            conf = _board_conf(b, m.rate_hz)
            if conf:
                files[f"boards/{b.file_stem}.conf"] = conf
    for src in sorted((app_template_dir() / "static").rglob("*")):
        if src.is_file():
            files[src.relative_to(app_template_dir() / "static").as_posix()] = src.read_bytes()
    for src in sorted(runtime_dir().rglob("*")):
        if src.is_file():
            files["lib/zgen/" + src.relative_to(runtime_dir()).as_posix()] = src.read_bytes()
    files["tests/data/" + m.recording.path.name] = m.recording.path.read_bytes()
    files.update(_renode_suites(m, sim, ctx, env, files["boards/replay.overlay"]))
    out = {k: (v.encode() if isinstance(v, str) else v) for k, v in files.items()}
    once = {"src/zgen_callback.c": env.get_template("zgen_callback.c.j2").render(ctx).encode()} if m.callback else {}
    return Rendered(out, arena_size, once)


def _renode_suites(m: Manifest, sim: Simulation, ctx: dict, env: jinja2.Environment,
                   replay_overlay: str) -> dict[str, str]:
    """tests/renode/: per board Renode models, its devicetree, machine script and robot suite.
    Where Renode models each of the manifest's parts on that board, the recording is fed into
    those models and read through the real drivers; elsewhere the app runs the replay source.
    Either way the suite expects zgen simulate's lines."""
    files: dict[str, str] = {}
    renode = {**ctx, "start_prefix": sim.lines[0].split(" rate_hz=")[0],
              "line_timeout": max(10, int(4 * m.window_stride / m.rate_hz) + 5)}
    through_drivers = None
    for board in boards.catalogue().values():
        if "renode" not in board.simulators:
            continue
        stem = board.file_stem
        fed = renode_feed.plan(m, board)
        if fed:
            if through_drivers is None:
                through_drivers = run_simulation(m, renode_feed.driver_view(m.recording, fed))
                for name, text in renode_feed.feeds(m.recording, fed).items():
                    files[f"tests/renode/{name}"] = text
            # The part keeps sampling after the recording: no end line, only the windows.
            expected = through_drivers.lines[1:-1]
            overlay = env.get_template("boards/sensors.overlay.j2").render({**ctx, "board": board.name})
        else:
            expected = sim.lines[1:]
            overlay = replay_overlay
        overlay += _outputs_overlay(m, board)
        extra = board.simulators["renode"].get("overlay")
        if extra:
            overlay += "\n/* Renode's model of this board needs: */\n" + extra
        source = "the manifest's parts, fed by Renode's models" if fed else "the replay source"
        files[f"tests/renode/{stem}.overlay"] = (
            f"/* The devicetree of the Renode build (zgen test --sim renode --board {board.name}), used as\n"
            f" * DTC_OVERLAY_FILE in place of boards/{stem}.overlay: {source}. */\n" + overlay)
        suite = {**renode, "board": board, "fed": fed or [], "expected": expected}
        files[f"tests/renode/{stem}.resc"] = env.get_template("tests/renode/board.resc.j2").render(suite)
        files[f"tests/renode/{stem}.robot"] = env.get_template("tests/renode/board.robot.j2").render(suite)
    return files


def _tick_override(board, rate_hz: float) -> int | None:
    """The tick rate zgen sets for this board, if it changes the board's own."""
    tick_hz = board.app_tick_hz(rate_hz)
    return tick_hz if tick_hz is not None and tick_hz != board.tick_hz else None


def _board_conf(board, rate_hz: float) -> str:
    lines = []
    if board.arch == "posix":
        lines.append("# Replay as fast as the host runs; timestamps come from the sample index.")
        lines.append("CONFIG_NATIVE_SIM_SLOWDOWN_TO_REAL_TIME=n")
    if board.fpu and board.arch == "arm":
        lines.append("CONFIG_FPU=y")
    tick_hz = _tick_override(board, rate_hz)
    if tick_hz and board.simulated:
        lines.append("# Simulated boards default to 100 ticks/s, too coarse to pace samples; in")
        lines.append("# simulation (QEMU -icount, native_sim) a finer tick costs nothing.")
        lines.append(f"CONFIG_SYS_CLOCK_TICKS_PER_SEC={tick_hz}")
    elif tick_hz:
        lines.append(f"# {board.tick_hz} ticks/s (the board's default) would sample at "
                     f"{boards.paced_rate(board.tick_hz, rate_hz):.6g} Hz, not {rate_hz:g} Hz; {tick_hz} (a")
        lines.append(f"# doubling of it that divides the {board.timer_hz} Hz timer) paces the sampler at "
                     f"{boards.paced_rate(tick_hz, rate_hz):.6g} Hz.")
        lines.append(f"CONFIG_SYS_CLOCK_TICKS_PER_SEC={tick_hz}")
    if board.simulators.get("qemu", {}).get("icount", True) is False:
        lines.append("# QEMU runs this board in real time (see its catalogue entry), twister's runs too.")
        lines.append("CONFIG_QEMU_ICOUNT=n")
    return "".join(line + "\n" for line in lines)
