"""`postprocess` and `outputs`: each step described once (its place in the order, what it
sets in the Decision, its checks), so adding a step touches one entry here and one case in
app_template/lib/zgen/src/zgen_decide.c. The README gives each step's formula.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from zgen.manifest import Decision, Output

SCORES = {"anomaly_score": None, "classify": "class", "output": "output"}
# The order steps are written in (labels may stand anywhere).
ORDER = ("anomaly_score", "classify", "output", "gate", "average", "top_k", "confidence", "threshold",
         "hysteresis", "debounce", "suppress", "rate_limit")
ORDER_FIX = ("write the score (anomaly_score, classify or output), then gate, average, top_k, confidence, "
             "threshold or hysteresis, debounce, suppress, rate_limit")


@dataclass
class _Draft:
    """What the steps set, before it becomes a Decision."""
    score: str = ""
    labels: tuple[str, ...] = ()
    score_index: int = 0
    on: float | None = None
    off: float | None = None  # hysteresis
    above: bool = True
    class_on: dict = field(default_factory=dict)  # label -> threshold
    class_off: dict = field(default_factory=dict)
    confidence: float | None = None
    top_k: int = 0
    gate: tuple | None = None
    average: int = 1
    debounce: int = 1
    suppress_ms: float = 0.0
    rate_limit_ms: float = 0.0
    names: dict = field(default_factory=dict)


def score_range(score: str, info) -> tuple[float, float]:
    """The values a score can take: reconstruction errors are >= 0; a model output lies in its
    quantised type's range and, after SOFTMAX or LOGISTIC, in [0, 1]."""
    if score in ("reconstruction_mse", "reconstruction_mae"):
        return 0.0, math.inf
    lo, hi = -math.inf, math.inf
    if info is None:
        return lo, hi
    t = info.outputs[0]
    if t.dtype in ("int8", "uint8"):
        qlo, qhi = (-128, 127) if t.dtype == "int8" else (0, 255)
        lo, hi = (qlo - t.zero_point) * t.scale, (qhi - t.zero_point) * t.scale
    last = [o for o in info.operators if o.subgraph == 0]
    if last and last[-1].op in ("SOFTMAX", "LOGISTIC"):
        lo, hi = max(lo, 0.0), min(hi, 1.0)
    return lo, hi


def parse(c, raw: list, info) -> Decision | None:
    """The postprocess list as a Decision, or None (problems added to the checker `c`)."""
    steps: dict[str, tuple[int, dict]] = {}
    for i, step in enumerate(raw):
        (kind, params), = step.items()
        if kind in steps:
            c.add(("postprocess", i), f"postprocess has two '{kind}' steps", "keep one")
        steps[kind] = (i, params or {})
    scores = [k for k in SCORES if k in steps]
    if len(scores) != 1:
        c.add(("postprocess",), key=True, message="postprocess needs exactly one score step",
              fix="start it with `- anomaly_score: {kind: reconstruction_mse}`, `- classify: {labels: [...]}` "
                  "or `- output: {}`")
        return None
    if "threshold" in steps and "hysteresis" in steps:
        c.add(("postprocess", steps["hysteresis"][0]), "postprocess has both threshold and hysteresis",
              "keep one: hysteresis is a threshold with a separate off level")
        return None
    if "threshold" not in steps and "hysteresis" not in steps:
        c.add(("postprocess",), key=True, message="postprocess has no threshold",
              fix="add `- threshold: {above: 0.5}` (or `- hysteresis: {on: 0.6, off: 0.4}`)")
        return None
    order = [steps[k][0] for k in ORDER if k in steps]
    if order != sorted(order):
        c.add(("postprocess",), key=True, message="postprocess steps are out of order", fix=ORDER_FIX)
    d = _Draft()
    for kind in ORDER + ("labels",):
        if kind in steps:
            i, params = steps[kind]
            STEPS[kind](c, d, params, ("postprocess", i, kind), info)
    return _finish(c, d, steps, info)


# --- the steps -----------------------------------------------------------------------------------

def _anomaly_score(c, d: _Draft, params, at, info):
    d.score = params["kind"]
    if info is not None and info.inputs[0].count != info.outputs[0].count:
        c.add(at[:2], f"{d.score} compares input and output, but the model maps "
              f"{info.inputs[0].count} values to {info.outputs[0].count}",
              "use an autoencoder (output shape = input shape), or `- output: {}`")


def _classify(c, d: _Draft, params, at, info):
    d.score = "class"
    d.labels = tuple(params["labels"])
    if len(set(d.labels)) != len(d.labels):
        c.add(at + ("labels",), "class labels repeat", "give each class its own name")


def _output(c, d: _Draft, params, at, info):
    d.score = "output"
    d.score_index = int(params.get("index", 0))
    if info is not None and d.score_index >= info.outputs[0].count:
        c.add(at + ("index",), f"output {d.score_index} of a model with {info.outputs[0].count} outputs",
              f"use an index from 0 to {info.outputs[0].count - 1}")


def _gate(c, d: _Draft, params, at, info):
    index = int(params["output"])
    (direction, value), = ((k, v) for k, v in params.items() if k in ("above", "below"))
    d.gate = (index, direction == "above", float(value))
    if info is not None and index >= info.outputs[0].count:
        c.add(at + ("output",), f"gate reads output {index} of a model with {info.outputs[0].count} outputs",
              f"use an index from 0 to {info.outputs[0].count - 1}")
        return
    lo, hi = score_range("output", info)
    _within(c, at + (direction,), "gate", float(value), direction == "above", lo, hi)


def _average(c, d: _Draft, params, at, info):
    d.average = int(params["count"])


def _top_k(c, d: _Draft, params, at, info):
    d.top_k = int(params["k"])
    if d.score != "class":
        c.add(at, "top_k lists classes, but the score is not a classifier's", "remove top_k, or use classify")
    elif d.top_k > len(d.labels):
        c.add(at + ("k",), f"top_k {d.top_k} of {len(d.labels)} classes", f"use k from 1 to {len(d.labels)}")


def _confidence(c, d: _Draft, params, at, info):
    d.confidence = float(params["min"])
    if d.score != "class":
        c.add(at, "confidence is a classifier's top score, but the score is not a classifier's",
              "remove confidence (a threshold says when the score turns the state on)")
        return
    lo, hi = score_range("class", info)
    if not lo < d.confidence <= hi:
        c.add(at + ("min",), f"confidence min {d.confidence:g} is outside the scores' range [{lo:g}, {hi:g}]",
              f"use a value in ({lo:g}, {hi:g}]")


def _classes(c, d: _Draft, raw: dict, at) -> dict:
    out = {}
    for name, value in raw.items():
        if name not in d.labels:
            c.add(at + (name,), f"'{name}' is not a class" if d.labels else "per-class thresholds need classify",
                  f"use one of: {', '.join(d.labels)}" if d.labels else "remove `classes`")
            continue
        out[name] = value
    return out


def _threshold(c, d: _Draft, params, at, info):
    (direction, value), = ((k, v) for k, v in params.items() if k in ("above", "below"))
    d.above, d.on = direction == "above", float(value)
    lo, hi = score_range(d.score, info)
    _within(c, at + (direction,), "threshold", d.on, d.above, lo, hi)
    for name, v in _classes(c, d, params.get("classes", {}), at + ("classes",)).items():
        d.class_on[name] = float(v)
        _within(c, at + ("classes", name), f"threshold of '{name}'", float(v), d.above, lo, hi)


def _hysteresis(c, d: _Draft, params, at, info):
    d.on, d.off = float(params["on"]), float(params["off"])
    lo, hi = score_range(d.score, info)
    if d.on == d.off:
        c.add(at + ("off",), "hysteresis on and off are equal", "use `threshold` for one level, or move off "
              "below on (a score that rises to turn on) or above it (a score that falls)")
        return
    d.above = d.on > d.off
    _within(c, at + ("on",), "hysteresis on", d.on, d.above, lo, hi)
    _within(c, at + ("off",), "hysteresis off", d.off, d.above, lo, hi, hold=True)
    for name, v in _classes(c, d, params.get("classes", {}), at + ("classes",)).items():
        if (v["on"] > v["off"]) != d.above or v["on"] == v["off"]:
            c.add(at + ("classes", name), f"'{name}': on {v['on']:g} and off {v['off']:g} go the other way "
                  f"to the default on {d.on:g}, off {d.off:g}", "keep off on the same side of on for every class")
            continue
        _within(c, at + ("classes", name, "on"), f"hysteresis on of '{name}'", float(v["on"]), d.above, lo, hi)
        _within(c, at + ("classes", name, "off"), f"hysteresis off of '{name}'", float(v["off"]), d.above, lo, hi,
                hold=True)
        d.class_on[name], d.class_off[name] = float(v["on"]), float(v["off"])


def _debounce(c, d: _Draft, params, at, info):
    d.debounce = int(params["count"])


def _suppress(c, d: _Draft, params, at, info):
    d.suppress_ms = float(params["ms"])


def _rate_limit(c, d: _Draft, params, at, info):
    d.rate_limit_ms = float(params["ms"])


def _labels(c, d: _Draft, params, at, info):
    d.names = dict(params)
    if d.score == "class" and "on" in params:
        c.add(at + ("on",), "a classifier's states are its classes: labels.on names none of them",
              "remove `on` (labels.off and labels.unknown name the other states)")


STEPS = {"anomaly_score": _anomaly_score, "classify": _classify, "output": _output, "gate": _gate,
         "average": _average, "top_k": _top_k, "confidence": _confidence, "threshold": _threshold,
         "hysteresis": _hysteresis, "debounce": _debounce, "suppress": _suppress, "rate_limit": _rate_limit,
         "labels": _labels}


def _within(c, at, what: str, value: float, above: bool, lo: float, hi: float, hold: bool = False) -> None:
    """A threshold the score can pass: `above x` needs x below the highest score, `below x` x above
    the lowest."""
    never = (value >= hi) if above else (value <= lo)
    always = (value < lo) if above else (value > hi)
    rng = f"[{lo:g}, {hi:g}]"
    if never:
        c.add(at, f"{what} {'above' if above else 'below'} {value:g}: the score can never pass it (it lies in "
              f"{rng})", f"use a value inside {rng}")
    elif always and not hold:
        c.add(at, f"{what} {'above' if above else 'below'} {value:g}: every score passes it (it lies in {rng})",
              f"use a value inside {rng}")


def _finish(c, d: _Draft, steps, info) -> Decision | None:
    if d.score == "class" and info is not None:
        count = info.outputs[0].count
        gated = d.gate is not None and d.gate[0] >= len(d.labels)
        if len(d.labels) + gated != count:
            extra = " and the gate's output" if gated else ""
            c.add(("postprocess", steps["classify"][0], "classify", "labels"),
                  f"{len(d.labels)} labels{extra} for a model with {count} outputs",
                  "name one class per model output, in output order"
                  + ("" if d.gate else " (an extra output can be a gate: `- gate: {output: N, below: X}`)"))
    is_class = d.score == "class"
    names = {"off": "none" if is_class else "normal", "on": "anomaly", "unknown": "unknown", **d.names}
    states = [names["off"], *(d.labels or (names["on"],))]
    if d.confidence is not None or d.gate is not None:  # the unknown state can be reached
        states.append(names["unknown"])
    if len(set(states)) != len(states):
        at = ("postprocess", steps["labels"][0], "labels") if "labels" in steps else ("postprocess",)
        c.add(at, f"state names repeat: {', '.join(states)}",
              "give off, unknown and every class its own name (e.g. `- labels: {unknown: unsure}`)")
    if d.on is None:
        return None
    return Decision(
        d.score, d.on, d.above, d.debounce, names["off"], names["on"], d.labels, average=d.average,
        suppress_ms=d.suppress_ms, score_index=d.score_index, threshold_off=d.off,
        class_on=tuple(d.class_on.get(k, d.on) for k in d.labels) if d.class_on else None,
        class_off=tuple(d.class_off.get(k, d.off) for k in d.labels) if d.class_off else None,
        confidence=d.confidence, top_k=d.top_k, gate=d.gate, rate_limit_ms=d.rate_limit_ms,
        state_unknown=names["unknown"])


# --- outputs -------------------------------------------------------------------------------------

ANY_ON, ANY = -1, -2


def outputs(c, raw: list, board, decision: Decision | None) -> tuple[bool, tuple[Output, ...]]:
    """(log, the other outputs). LED and GPIO aliases are checked against the board's tree (the
    catalogue); on simulated boards zgen's GPIO emulator provides them."""
    log, out, names = False, [], set()
    for i, entry in enumerate(raw):
        at = ("outputs", i)
        if entry == "log":
            log = True
            continue
        if entry == "callback":
            if any(o.kind == "callback" for o in out):
                c.add(at, "two callback outputs", "keep one: zgen_on_event() is called once per event")
            out.append(Output("callback", "callback", ANY))
            continue
        (kind, spec), = entry.items()
        spec = {"alias": spec} if isinstance(spec, str) else dict(spec)
        at = at + (kind,)
        state = _state(c, at + ("state",), spec.get("state"), decision)
        port, pin = spec.get("port"), spec.get("pin")
        if kind == "gpio" and (port is None) != (pin is None):
            c.add(at, "a gpio output by pin needs both port and pin", "add `port: gpio0` and `pin: 13`")
            continue
        if port is not None:
            if "alias" in spec:
                c.add(at + ("alias",), "a gpio output names an alias or a port and pin, not both",
                      "remove one")
                continue
            name = spec.get("name") or f"{port}-{pin}"
            name = "zgen-out-" + name.replace("_", "-")
            _port(c, at, board, port, int(pin))
        else:
            if "alias" not in spec:
                c.add(at, f"a {kind} output needs an alias (or a port and pin)", f"e.g. `{kind}: led0`")
                continue
            name = spec["alias"]
            if board is not None and not board.simulated and name not in board.leds + board.aliases:
                known = board.leds + board.aliases
                c.add(at + (() if isinstance(entry[kind], str) else ("alias",)),
                      f"board {board.name} has no {'LED ' if kind == 'led' else ''}alias '{name}'",
                      f"use one of: {', '.join(known) or '(none)'}"
                      + (", or a pin: `gpio: {port: ..., pin: N}`" if kind == "gpio" else ""))
        if name in names:
            c.add(at, f"two outputs drive '{name}'", "give each output its own pin")
        names.add(name)
        out.append(Output(kind, name, state, int(spec.get("pulse_ms", 0)), port,
                          None if pin is None else int(pin)))
    return log, tuple(out)


def _state(c, at, name, decision) -> int:
    if name is None:
        return ANY_ON
    if decision is None:
        return ANY_ON
    states = decision.states
    if name not in states:
        c.add(at, f"'{name}' is not a state of this decision", f"use one of: {', '.join(states)}")
        return ANY_ON
    return states.index(name)


def _port(c, at, board, port: str, pin: int) -> None:
    if board is None or board.simulated:
        return
    ports = board.gpio_ports
    if port not in ports:
        c.add(at + ("port",), f"board {board.name} has no GPIO port '{port}'",
              f"use one of: {', '.join(ports) or '(none)'}")
    elif pin >= ports[port]:
        c.add(at + ("pin",), f"{port} of {board.name} has pins 0 to {ports[port] - 1}", "use a pin it has")
