"""`zgen model inspect`: what a .tflite holds and what it costs on the target."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from zgen.model.arena import measure
from zgen.model.ops import RESOLVER_METHOD, target_limits
from zgen.model.tflite import ModelInfo, TensorInfo, read_model


def _tensor_text(t: TensorInfo) -> str:
    q = ""
    if t.scales:
        if t.per_channel:
            q = f" per-channel x{len(t.scales)} (axis {t.quantized_dimension}), scale {min(t.scales):.6g}..{max(t.scales):.6g}"
        else:
            q = f" scale={t.scale:.6g} zero_point={t.zero_point}"
    return f"{t.name or '?'} {t.dtype}{list(t.shape)}{q}"


def report(path: Path, with_arena: bool = True) -> dict:
    info: ModelInfo = read_model(path)
    arena = measure(path) if with_arena else None
    return {
        "file": str(path), "size": info.size, "sha256": info.sha256, "subgraphs": info.subgraphs,
        "inputs": [asdict(t) for t in info.inputs], "outputs": [asdict(t) for t in info.outputs],
        "ops_used": list(info.ops_used), "operators": len(info.operators),
        "declared_unused_ops": sorted(set(info.declared_ops) - set(info.ops_used)),
        "resolver": [RESOLVER_METHOD.get(op, None) for op in info.ops_used],
        "target_limits": [{"operator": i, "problem": what, "fix": fix} for i, what, fix in target_limits(info)],
        "tensors": [asdict(t) for t in info.tensors],
        "arena": None if arena is None else {
            "host_total": arena.total, "head": arena.head, "tail": arena.tail,
            "cortex_m_tail": arena.target_tail, "cortex_m_used": arena.used_on("arm"),
            "cortex_m_needed": arena.needed_on("arm"),
            "planned_arm": arena.planned_for("arm"),
            "cortex_m_cmsis_nn_used": arena.used_on("arm", "cmsis-nn"),
            "planned_arm_cmsis_nn": arena.planned_for("arm", "cmsis-nn"), "planned_other": arena.planned_for("posix"),
            "note": arena.note_for("arm")},
    }


def text(r: dict) -> str:
    def tensor(d):
        return _tensor_text(TensorInfo(**{**d, "shape": tuple(d["shape"]), "scales": tuple(d["scales"]),
                                          "zero_points": tuple(d["zero_points"])}))

    lines = [f"{r['file']}: {r['size']} bytes, sha256 {r['sha256'][:16]}…, {r['subgraphs']} subgraph(s)"]
    lines += [f"  input  {tensor(t)}" for t in r["inputs"]]
    lines += [f"  output {tensor(t)}" for t in r["outputs"]]
    lines.append(f"  ops ({r['operators']} operators): {', '.join(r['ops_used'])}")
    if r["declared_unused_ops"]:
        lines.append(f"  declared but unused: {', '.join(r['declared_unused_ops'])}")
    for p in r["target_limits"]:
        lines.append(f"  NOT RUNNABLE on Zephyr 3.7's TFLM: operator {p['operator']} {p['problem']}; {p['fix']}")
    if r["arena"]:
        a = r["arena"]
        lines.append(f"  arena: {a['host_total']} bytes measured on the host (head {a['head']}, tail {a['tail']})")
        lines.append(f"  arena on Cortex-M: {a['cortex_m_used']} bytes in use, {a['cortex_m_needed']} needed; generated apps get {a['planned_arm']} on Arm "
                     f"boards ({a['note']}) and {a['planned_other']} elsewhere")
    lines.append(f"  tensors: {len(r['tensors'])}")
    return "\n".join(lines)
