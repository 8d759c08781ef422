"""`zgen check`: the memory plan of a manifest on its board, one board, or the
whole catalogue, as a table (or JSON), with suggestions where it does not fit."""
from __future__ import annotations

from zgen import boards
from zgen.boards import Board
from zgen.manifest import Manifest
from zgen.memory.plan import BoardPlan, measured, plan_for
from zgen.memory.timeplan import describe, time_plan
from zgen.model.arena import measure
from zgen.simulate import plan_arena


def plans(m: Manifest, targets: list[Board]) -> list[tuple[Board, BoardPlan | None]]:
    arena = measure(m.model.path)
    return [(b, plan_for(m, b, plan_arena(m, arena, b.arch, m.kernels_on(b)))) for b in targets]


def all_fit(results: list[tuple[Board, BoardPlan | None]]) -> bool:
    """Every board with a plan fits (host and unmeasured boards have nothing to fit)."""
    return all(p.fits for _, p in results if p is not None and p.flash)


def suggestions(m: Manifest, p: BoardPlan, fitting: list[str]) -> list[str]:
    out = []
    if p.flash_total > p.flash_size:
        over = p.flash_total - p.flash_size
        model = p.flash.get("model", 0)
        if m.model.inputs[0].dtype == "float32":
            out.append(f"quantise the model to int8 (`zgen model convert`): about {model * 3 // 4} B less "
                       f"than its {model} B, {over} B are needed")
        if p.flash.get("replay data", 0) >= over:
            out.append(f"a shorter test recording: its replay data take {p.flash['replay data']} B")
    if p.ram_total > p.ram_size:
        over = p.ram_total - p.ram_size
        out.append(f"{over} B too much RAM: the arena takes {p.ram.get('arena', 0)} B (a smaller model), the "
                   f"window buffers {p.ram.get('window ring + work', 0)} B (a shorter window or fewer channels), "
                   f"the sample queue {p.ram.get('sample queue', 0)} B (a shorter stride)")
    if fitting:
        out.append("a board where it fits: " + ", ".join(fitting))
    return out


def _margin(used: int, size: int) -> str:
    return f"{size - used:+,d} B ({100 * (size - used) / size:.0f} %)"


def report(m: Manifest, results: list[tuple[Board, BoardPlan | None]]) -> str:
    """The table, the parts (for one board) and the suggestions."""
    data = measured()
    lines = [f"{m.name}: memory plan from parts measured in real builds (Zephyr {data['zephyr']}, "
             f"{data['toolchain'].split(' (')[0]})", ""]
    lines.append(f"{'board':<36} {'flash':>16} {'margin':>20} {'RAM':>16} {'margin':>20}  verdict")
    fitting = [b.name for b, p in results if p is not None and not p.missing and p.fits]
    notes = []
    for b, p in results:
        name = f"{b.name} ({'replay' if p is None or p.replay else 'sensors'})"
        if p is None:
            lines.append(f"{name:<36} {'host memory (native_sim)':>75}")
            continue
        if p.missing and not p.flash:
            lines.append(f"{name:<36} {'not measured':>16}  " + "; ".join(p.missing))
            continue
        verdict = "fits" if p.fits else "DOES NOT FIT"
        if p.missing:
            verdict += " (incomplete: " + "; ".join(p.missing) + ")"
        lines.append(f"{name:<36} {p.flash_total:>8,d}/{p.flash_size // 1024:>5d}K {_margin(p.flash_total, p.flash_size):>20} "
                     f"{p.ram_total:>8,d}/{p.ram_size // 1024:>5d}K {_margin(p.ram_total, p.ram_size):>20}  {verdict}")
        if not p.fits:
            notes += [f"{b.name}: {s}" for s in suggestions(m, p, [f for f in fitting if f != b.name])]
    if len(results) == 1 and results[0][1] is not None and results[0][1].flash:
        p = results[0][1]
        lines += ["", "flash:"] + [f"  {k:<48} {v:>9,d} B" for k, v in p.flash.items()]
        lines += ["RAM:"] + [f"  {k:<48} {v:>9,d} B" for k, v in p.ram.items()]
    times = [(b, time_plan(m, b)) for b, _ in results]
    times = [(b, t) for b, t in times if t is not None]
    if times:
        lines += ["", "time per decision (instructions measured in QEMU per operator, scaled by the model's work):"]
        lines += [f"  {b.name:<34} {describe(t)}" for b, t in times]
        notes += [f"{b.name}: cannot keep up with one decision every {t.period_s * 1000:g} ms"
                  for b, t in times if t.busy is not None and t.busy > 1]
    if notes:
        lines += ["", "suggestions:"] + [f"  {n}" for n in notes]
    return "\n".join(lines)


def _time_json(m: Manifest, b: Board) -> dict | None:
    t = time_plan(m, b)
    if t is None:
        return None
    return {"instructions": t.total, "model": t.model, "features": t.features, "period_ms": t.period_s * 1000,
            "cpu_hz": b.cpu_hz or None, "busy": None if t.busy is None else round(t.busy, 4),
            "not_measured": t.missing}


def as_json(m: Manifest, results: list[tuple[Board, BoardPlan | None]]) -> dict:
    data = measured()
    return {"app": m.name, "zephyr": data["zephyr"], "toolchain": data["toolchain"], "boards": [
        {"board": b.name, "host": True} if p is None else
        {"board": b.name, "replay": p.replay, "flash": p.flash_total, "flash_size": p.flash_size,
         "ram": p.ram_total, "ram_size": p.ram_size, "fits": p.fits if p.flash else None,
         "flash_parts": p.flash, "ram_parts": p.ram, "not_measured": p.missing, "time": _time_json(m, b)}
        for b, p in results]}


def targets(m: Manifest, board: str | None, all_boards: bool) -> list[Board]:
    if all_boards:
        return list(boards.catalogue().values())
    if board:
        return [boards.get(board)]
    return [m.board]
