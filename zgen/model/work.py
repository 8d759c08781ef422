"""How much arithmetic each operator of a model does: the units the time plan scales measured
instruction counts by (zgen.memory.timeplan).

Per operator, a cost family and its work:
- conv: CONV_2D and TRANSPOSE_CONV, multiply-accumulates (output elements x filter height x width
  x input channels);
- depthwise: DEPTHWISE_CONV_2D, multiply-accumulates (output elements x filter height x width);
- fc: FULLY_CONNECTED and BATCH_MATMUL, multiply-accumulates (output elements x the reduced
  dimension);
- other: every other op, the elements it touches (the larger of its first input and its output).
A float32 operator is a family of its own (`conv_f32`, ...): TFLM's float kernels cost far more
per unit on a core without an FPU, and differently on one with it.
"""
from __future__ import annotations

KINDS = ("conv", "depthwise", "fc", "other")
FAMILIES = KINDS + tuple(f"{k}_f32" for k in KINDS)


def _count(shape) -> int:
    n = 1
    for d in shape:
        n *= max(1, d)
    return n


def op_work(model, o) -> tuple[str, int]:
    """(family, work) of one operator (zgen.model.tflite.OperatorUse) of `model`."""
    t = model.tensors

    def tensor(i):
        return t[i] if 0 <= i < len(t) else None

    out = tensor(o.outputs[0]) if o.outputs else None
    first = tensor(o.inputs[0]) if o.inputs else None
    weights = tensor(o.inputs[1]) if len(o.inputs) > 1 else None
    out_n = _count(out.shape) if out is not None else 0
    if o.op in ("CONV_2D", "DEPTHWISE_CONV_2D") and weights is not None and len(weights.shape) == 4:
        _, kh, kw, cin = weights.shape
        if o.op == "DEPTHWISE_CONV_2D":
            return "depthwise", out_n * kh * kw
        return "conv", out_n * kh * kw * cin
    if o.op == "TRANSPOSE_CONV" and len(o.inputs) > 2:
        w, x = tensor(o.inputs[1]), tensor(o.inputs[2])
        if w is not None and x is not None and len(w.shape) == 4:
            return "conv", _count(x.shape) * _count(w.shape[:3])
    if o.op == "FULLY_CONNECTED" and weights is not None and len(weights.shape) == 2:
        return "fc", out_n * weights.shape[1]
    if o.op == "BATCH_MATMUL" and first is not None and first.shape:
        return "fc", out_n * first.shape[-1]
    return "other", max(out_n, _count(first.shape) if first is not None else 0)


def model_work(model) -> list[tuple[str, str, int]]:
    """(op, family, work) of each operator of the main subgraph, in order."""
    out = []
    for o in model.operators:
        if o.subgraph != 0:
            continue
        kind, work = op_work(model, o)
        first = model.tensors[o.inputs[0]] if o.inputs and 0 <= o.inputs[0] < len(model.tensors) else None
        out.append((o.op, kind + ("_f32" if first is not None and first.dtype == "float32" else ""), work))
    return out
