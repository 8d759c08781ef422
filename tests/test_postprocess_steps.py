"""Every post-processing step and output of the C runtime (zgen_decide.c, zgen_outputs.c, through
zgen._runtime) against an independent Python implementation of the README's formulas, decision
for decision: the line, the changed flag and each output action.

The oracle below is written from the README's "Post-processing" table, not from the C: float32
arithmetic as numpy gives it, debounce as "the last N wanted states agree", the event rules as
time differences. hypothesis draws the configuration (score kind, output type, every optional
step, outputs) and the score sequence: random, constant, alternating across a threshold, sitting
exactly on it, and NaN-free extremes. Derandomised: the same examples on every run.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from reference_pipeline import fixed as _fixed
from zgen import _runtime
from zgen.pipeline import SCORE_DECIMALS

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

F = np.float32
SCORES = {"mse": 1, "output": 2, "class": 3, "mae": 4}
KINDS = {"level": 1, "pulse": 2, "callback": 3}
LABELS = ["idle", "walk", "run", "fall", "sit", "jump"]


@dataclass
class Case:
    score: str
    n_out: int  # model outputs
    classes: int  # class scores (the first outputs)
    dtype: str  # float32 | int8
    scale: float
    zero: int
    above: bool
    on: float
    off: float | None  # hysteresis
    class_on: list | None
    class_off: list | None
    confidence: float | None
    top_k: int
    gate: tuple | None  # (index, above, threshold)
    index: int  # output score
    average: int
    debounce: int
    suppress: int  # samples
    rate_limit: int
    outputs: list = field(default_factory=list)  # (kind, state, pulse_ms, name)

    @property
    def labels(self) -> list[str]:
        return LABELS[:self.classes] if self.score == "class" else []

    @property
    def unknown(self) -> int:
        return (self.classes if self.score == "class" else 1) + 1

    def name(self, state: int) -> str:
        if state == 0:
            return "off_state"
        if state == self.unknown:
            return "unsure"
        return self.labels[state - 1] if self.score == "class" else "on_state"

    def config(self) -> dict:
        n_in = self.n_out if self.score in ("mse", "mae") else 1
        cfg = {
            "rate_hz": 100, "channels": 1, "window_length": n_in, "window_stride": 1, "features": [],
            "score_decimals": SCORE_DECIMALS,
            "input": {"dtype": 0, "scale": 0.0, "zero_point": 0, "count": n_in},
            "output": {"dtype": 0 if self.dtype == "float32" else 1, "scale": self.scale,
                       "zero_point": self.zero, "count": self.n_out},
            "score": SCORES[self.score], "score_index": self.index, "threshold_above": int(self.above),
            "threshold": self.on, "debounce": self.debounce, "average": self.average, "suppress": self.suppress,
            "rate_limit": self.rate_limit, "state_off": "off_state", "state_on": "on_state",
            "state_unknown": "unsure", "labels": self.labels, "top_k": self.top_k,
            "class_on": self.class_on, "class_off": self.class_off, "confidence": self.confidence,
            "gate_index": self.gate[0] if self.gate else -1, "gate_above": int(self.gate[1]) if self.gate else 1,
            "gate_threshold": self.gate[2] if self.gate else 0.0,
            "outputs": [{"kind": KINDS[k], "state": s, "pulse_ms": p, "name": n} for k, s, p, n in self.outputs],
        }
        if self.off is not None:
            cfg["threshold_off"] = self.off
        return cfg


# --- the oracle (README: Post-processing) --------------------------------------------------------

def fixed(v, decimals: int) -> str:
    """Event lines print scores as fixed point; beyond +-2e9 units of the last digit they print the
    bound (README: event lines)."""
    limit = F(2e9) / F(10 ** decimals)
    return _fixed(float(np.clip(F(v), -limit, limit)), decimals)


def passes(above: bool, x, thr) -> bool:
    return bool(F(x) > F(thr)) if above else bool(F(x) < F(thr))


class Oracle:
    def __init__(self, c: Case):
        self.c = c
        self.history: list[np.ndarray] = []
        self.wants: list[int] = []
        self.state = 0
        self.last: dict[int, int] = {}
        self.last_any: int | None = None
        self.win = 0
        self.levels = [int(k == "level" and s == 0) for k, s, _, _ in c.outputs]

    def dequantize(self, raw: np.ndarray) -> np.ndarray:
        if self.c.dtype == "float32":
            return raw.astype(F)
        return (raw.astype(np.int32) - self.c.zero).astype(F) * F(self.c.scale)

    def scores(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        c = self.c
        if c.score == "class":
            return y[:c.classes].astype(F)
        if c.score == "output":
            return np.array([y[c.index]], F)
        acc = F(0)
        for a, b in zip(x.astype(F), y):
            d = F(b - a)
            acc = F(acc + (F(d * d) if c.score == "mse" else F(abs(d))))
        return np.array([F(acc / F(len(y)))], F)

    def decide(self, t: int, x: np.ndarray, raw: np.ndarray) -> tuple[str, bool, list[str]]:
        c = self.c
        y = self.dequantize(raw)
        v = self.scores(x, y)
        self.history.append(v)
        if c.average > 1:
            rows = self.history[-c.average:]
            acc = np.zeros_like(rows[0])
            for r in rows:
                acc = (acc + r).astype(F)
            v = (acc / F(len(rows))).astype(F)
        cls = int(np.argmax(v))
        top = v[cls]
        on_thr = c.class_on[cls] if c.class_on else c.on
        if c.gate and not passes(c.gate[1], y[c.gate[0]], c.gate[2]):
            want = c.unknown
        elif c.score == "class" and c.confidence is not None and F(top) < F(c.confidence):
            want = c.unknown
        elif passes(c.above, top, on_thr):
            want = cls + 1 if c.score == "class" else 1
        elif c.off is not None and self.state not in (0, c.unknown):
            held = self.state - 1 if c.score == "class" else 0
            off_thr = c.class_off[held] if c.class_off else c.off
            want = self.state if passes(c.above, v[held], off_thr) else 0
        else:
            want = 0
        self.wants.append(want)
        changed = event = False
        if want != self.state and len(self.wants) >= c.debounce and \
                all(w == want for w in self.wants[-c.debounce:]):
            self.state, changed = want, True
            last = self.last.get(want)
            event = want == 0 or c.suppress == 0 or last is None or t - last >= c.suppress
            if event and c.rate_limit and self.last_any is not None and t - self.last_any < c.rate_limit:
                event = False
            if event:
                self.last[want] = self.last_any = t
        line = f"zgen: t={t} win={self.win}"
        if c.score == "class":
            line += f" class={c.labels[cls]}"
        line += f" score={fixed(top, SCORE_DECIMALS)}"
        if c.top_k:
            best = sorted(range(c.classes), key=lambda i: (-float(v[i]), i))[:c.top_k]
            line += " top=" + ",".join(f"{c.labels[i]}:{fixed(v[i], SCORE_DECIMALS)}" for i in best)
        if c.gate:
            line += f" gate={fixed(y[c.gate[0]], SCORE_DECIMALS)}"
        line += f" state={c.name(self.state)}"
        if event:
            line += f" event={c.name(self.state)}"
        self.win += 1
        return line, changed, self.actions(t, event)

    def actions(self, t: int, event: bool) -> list[str]:
        out = []
        for i, (kind, state, pulse, name) in enumerate(self.c.outputs):
            follows = (state == -2 or (state == -1 and self.state not in (0, self.c.unknown))
                       or state == self.state)
            if kind == "level":
                if self.levels[i] != int(follows):
                    self.levels[i] = int(follows)
                    out.append(f"zgen: t={t} out={name} level={int(follows)}")
            elif event and follows:
                out.append(f"zgen: t={t} out={name} pulse_ms={pulse} level=1" if kind == "pulse"
                           else f"zgen: t={t} out={name} state={self.c.name(self.state)}")
        return out


# --- drawing cases and sequences -----------------------------------------------------------------

@st.composite
def cases(draw):
    score = draw(st.sampled_from(["class", "class", "output", "mse", "mae"]))
    classes = draw(st.integers(2, 6)) if score == "class" else 0
    gate = draw(st.booleans())
    n_out = classes + gate if score == "class" else draw(st.integers(1, 5)) + (score == "output" and gate)
    dtype = draw(st.sampled_from(["float32", "int8"]))
    scale = float(F(draw(st.sampled_from([1 / 256, 0.05, 0.5])))) if dtype == "int8" else 0.0
    zero = draw(st.integers(-128, 127)) if dtype == "int8" else 0
    above = draw(st.booleans()) if score != "class" else draw(st.sampled_from([True, True, False]))
    level = st.floats(-2, 2, width=32) if score in ("class", "output") else st.floats(0, 3, width=32)
    on = float(F(draw(level)))
    hysteresis = draw(st.booleans())
    off = None
    if hysteresis:
        gap = float(F(draw(st.floats(0.015625, 1, width=32))))
        off = float(F(on - gap if above else on + gap))
    per_class = score == "class" and draw(st.booleans())
    class_on = [float(F(draw(level))) for _ in range(classes)] if per_class else None
    class_off = None
    if per_class and hysteresis:
        class_off = [float(F(v - 0.2 if above else v + 0.2)) for v in class_on]
    confidence = float(F(draw(level))) if score == "class" and draw(st.booleans()) else None
    top_k = draw(st.integers(0, min(classes, 5))) if score == "class" else 0
    index = draw(st.integers(0, n_out - 1 - gate)) if score == "output" else 0
    gate_t = (n_out - 1, draw(st.booleans()), float(F(draw(st.floats(-1, 1, width=32))))) if gate else None
    outputs = []
    n_states = (classes if score == "class" else 1) + 2
    for i in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["level", "pulse", "callback"]))
        state = draw(st.sampled_from([-1, -2] + list(range(n_states))))
        outputs.append((kind, state, draw(st.integers(1, 500)) if kind == "pulse" else 0,
                        "callback" if kind == "callback" else f"pin{i}"))
    return Case(score, n_out, classes, dtype, scale, zero, above, on, off, class_on, class_off, confidence,
                top_k, gate_t, index, draw(st.integers(1, 4)), draw(st.integers(1, 3)),
                draw(st.sampled_from([0, 0, 3, 10])), draw(st.sampled_from([0, 0, 4, 12])), outputs)


def levels(c: Case) -> list[float]:
    return [c.on, *([c.off] if c.off is not None else []), *(c.class_on or []), *(c.class_off or []),
            *([c.confidence] if c.confidence is not None else []), *([c.gate[2]] if c.gate else [])]


@st.composite
def sequences(draw, c: Case):
    """(samples to push before the decision, model output as raw values) per decision."""
    n = draw(st.integers(1, 60))
    mode = draw(st.sampled_from(["random", "constant", "alternating", "on_threshold", "extremes", "levels",
                                 "levels"]))
    if c.dtype == "int8":
        q = st.integers(-128, 127)
        # the raw value nearest the threshold, and one either side
        at = int(np.clip(round(c.on / c.scale) + c.zero, -128, 127))
        near = st.sampled_from([max(-128, at - 1), at, min(127, at + 1)])
        pick = {"random": q, "constant": st.just(draw(q)), "alternating": near, "on_threshold": st.just(at),
                "extremes": st.sampled_from([-128, 127]), "levels": st.integers(at - 3, at + 3)
                .map(lambda v: int(np.clip(v, -128, 127)))}[mode]
    else:
        thr = F(c.on)
        near = st.sampled_from([float(np.nextafter(thr, F(-np.inf))), float(thr),
                                float(np.nextafter(thr, F(np.inf)))])
        pick = {"random": st.floats(-3, 3, width=32), "constant": st.just(float(draw(st.floats(-3, 3, width=32)))),
                "alternating": near, "on_threshold": st.just(float(thr)),
                "extremes": st.sampled_from([-1e5, 1e5, 0.0, 1e-30, -1e-30]),
                # every level the configuration names, and just either side: where the steps decide
                "levels": st.sampled_from(sorted({float(F(x + d)) for x in levels(c) for d in (-0.01, 0, 0.01)}))}[mode]
    out = []
    for _ in range(n):
        raw = [draw(pick) for _ in range(c.n_out)]
        out.append((draw(st.integers(1, 3)), raw))
    return out


def run_both(c: Case, seq) -> int:
    pipe = _runtime.Pipeline(c.config())
    oracle = Oracle(c)
    n_in = c.n_out if c.score in ("mse", "mae") else 1
    dt = F if c.dtype == "float32" else np.int8
    t = -1
    samples = []
    for k, (gap, raw) in enumerate(seq):
        # push `gap` samples (at least a full window before the first decision); small integers,
        # exact as float32
        for _ in range(gap if t + 1 >= n_in else n_in + gap - 1):
            t += 1
            samples.append(F((t * 7) % 5 - 2))
            _, ready = pipe.push(np.array([[int(samples[-1]), 0]], np.int32).tobytes(), 0)
        assert ready
        model_in, _ = pipe.features()
        x = np.array(samples[-n_in:], F)
        assert np.frombuffer(model_in, F).tobytes() == x.tobytes()
        out = np.array(raw, dt).tobytes()
        line, changed, _ = pipe.decide(model_in, out)
        w_line, w_changed, w_actions = oracle.decide(t, x, np.frombuffer(out, dt))
        assert line == w_line, f"decision {k}: {c}\n  C      {line}\n  oracle {w_line}"
        assert changed == w_changed, k
        assert pipe.actions() == w_actions, f"decision {k}: {c}"
    return oracle.win


@settings(max_examples=400, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_every_step_matches_the_oracle(data):
    c = data.draw(cases())
    run_both(c, data.draw(sequences(c)))


# --- named cases: each step's behaviour a user relies on -------------------------------------------

def base(**kw) -> Case:
    c = Case("output", 1, 0, "float32", 0.0, 0, True, 0.5, None, None, None, None, 0, None, 0, 1, 1, 0, 0)
    for k, v in kw.items():
        setattr(c, k, v)
    return c


def lines(c: Case, values, gap: int = 1) -> list[str]:
    pipe = _runtime.Pipeline(c.config())
    got = []
    for i, v in enumerate(values):
        for _ in range(gap):
            pipe.push(np.array([[0, 0]], np.int32).tobytes(), 0)
        model_in, _ = pipe.features()
        raw = v if isinstance(v, list) else [v]
        line, _, _ = pipe.decide(model_in, np.array(raw, F).tobytes())
        got.append(line)
        got.extend(pipe.actions())
    run_both(c, [(gap, v if isinstance(v, list) else [v]) for v in values])  # and the oracle agrees
    return got


def states(got: list[str]) -> list[str]:
    return [g.split(" state=")[1].split()[0] for g in got if " win=" in g]


def test_hysteresis_holds_between_the_levels():
    c = base(on=0.7, off=0.3)
    assert states(lines(c, [0.5, 0.8, 0.5, 0.31, 0.29, 0.5, 0.71])) == \
        ["off_state", "on_state", "on_state", "on_state", "off_state", "off_state", "on_state"]
    plain = base(on=0.7)
    assert states(lines(plain, [0.8, 0.5])) == ["on_state", "off_state"]


def test_falling_hysteresis():
    c = base(on=0.2, off=0.4, above=False)
    assert states(lines(c, [0.3, 0.1, 0.3, 0.39, 0.41])) == \
        ["off_state", "on_state", "on_state", "on_state", "off_state"]


def test_per_class_thresholds_and_confidence_unknown():
    c = base(score="class", n_out=3, classes=3, on=0.5, class_on=[0.9, 0.5, 0.5], confidence=0.4)
    got = states(lines(c, [[0.8, 0.1, 0.1], [0.95, 0.0, 0.05], [0.3, 0.35, 0.35], [0.1, 0.6, 0.3]]))
    # idle needs 0.9; a top score under 0.4 is unsure; walk passes its 0.5
    assert got == ["off_state", "idle", "unsure", "walk"]


def test_top_k_lists_the_best_classes_in_order():
    c = base(score="class", n_out=4, classes=4, on=0.5, top_k=3)
    got = lines(c, [[0.1, 0.6, 0.25, 0.05]])
    assert " top=walk:0.6000,run:0.2500,idle:0.1000 " in got[0]


def test_gate_makes_the_state_unknown():
    c = base(score="class", n_out=3, classes=2, on=0.5, gate=(2, False, 0.3))
    got = lines(c, [[0.9, 0.1, 0.1], [0.9, 0.1, 0.8], [0.1, 0.9, 0.0]])
    assert states(got) == ["idle", "unsure", "walk"]
    assert " gate=0.8000 " in got[1]


def test_rate_limit_spaces_events_of_any_state():
    c = base(rate_limit=10, outputs=[("callback", -2, 0, "callback")])
    got = lines(c, [0.9, 0.1, 0.9, 0.1, 0.9, 0.1, 0.9], gap=3)
    events = [g for g in got if " event=" in g]
    ts = [int(g.split("t=")[1].split()[0]) for g in events]
    assert all(b - a >= 10 for a, b in zip(ts, ts[1:])) and len(ts) == 2
    assert [g for g in got if "out=callback" in g] == [f"zgen: t={t} out=callback state={e.split('event=')[1]}"
                                                       for t, e in zip(ts, events)]


def test_mae_score():
    c = base(score="mae", n_out=2, on=1.0)
    pipe = _runtime.Pipeline(c.config())
    for _ in range(2):
        pipe.push(np.array([[1, 0]], np.int32).tobytes(), 0)  # input [1, 1]
    model_in, _ = pipe.features()
    line, _, _ = pipe.decide(model_in, np.array([3.0, 0.0], F).tobytes())  # |2| and |-1|: mean 1.5
    assert " score=1.5000 state=on_state event=on_state" in line


def test_outputs_follow_their_state():
    c = base(score="class", n_out=3, classes=3, on=0.5,
             outputs=[("level", -1, 0, "led0"), ("level", 2, 0, "led1"), ("pulse", 3, 200, "alarm"),
                      ("level", 0, 0, "idle-led")])
    got = lines(c, [[0.9, 0.0, 0.1], [0.0, 0.9, 0.1], [0.0, 0.1, 0.9], [0.3, 0.3, 0.4]])
    acts = [g.split(" ", 2)[2] for g in got if " out=" in g]
    assert acts == ["out=led0 level=1", "out=idle-led level=0",   # idle: any state on
                    "out=led1 level=1",                            # walk
                    "out=led1 level=0", "out=alarm pulse_ms=200 level=1",  # run: a pulse per event
                    "out=led0 level=0", "out=idle-led level=1"]    # off
    pipe = _runtime.Pipeline(c.config())
    assert pipe.levels() == [0, 0, 0, 1]  # before any decision: the off state's output is high


def test_the_schema_shows_every_step_and_output_with_an_example():
    import json

    import jsonschema

    from zgen.manifest import postprocess
    from zgen.resources import schema_path

    schema = json.loads(schema_path().read_text())
    steps = schema["properties"]["postprocess"]["items"]
    assert set(steps["properties"]) == set(postprocess.STEPS)  # one description each, both sides
    for name, sub in steps["properties"].items():
        assert sub.get("examples") and sub.get("description"), name
        for example in sub["examples"]:
            jsonschema.validate({name: example}, steps)
    for section in ("outputs", "postprocess"):
        for example in schema["properties"][section]["examples"]:
            jsonschema.validate(example, schema["properties"][section])
