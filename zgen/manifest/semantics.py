"""Semantic checks: what the schema cannot say. Each problem points at the
manifest value it concerns, so the user can go straight there."""
from __future__ import annotations

import math
from pathlib import Path

from zgen import boards
from zgen.data import load_recording
from zgen.errors import Problem, ZgenError
from zgen.manifest import postprocess
from zgen.manifest import OUTSIDE_FIX, Fault, Feature, Manifest, Sensor, allowed_roots, outside
from zgen.manifest.yamlpos import Located
from zgen.model.ops import target_limits
from zgen.model.tflite import ModelFormatError, read_model
from zgen.sensors import KINDS, MIC_BLOCKS, PARTS, default_columns, parts_for


def _close(word, choices, n=1):
    """difflib's close matches (imported only when a name is wrong)."""
    import difflib

    return difflib.get_close_matches(word, choices, n=n)


MODEL_DTYPES = ("int8", "uint8", "float32")


class _Checker:
    def __init__(self, path: Path, doc: Located, roots: list[Path]):
        self.path = path
        self.file = str(path)
        self.doc = doc
        self.roots = roots
        self.problems: list[Problem] = []

    def add(self, at: tuple, message: str, fix: str, key: bool = False) -> None:
        line, col = self.doc.where(at, key=key)
        self.problems.append(Problem(self.file, line, col, message, fix))

    def file_ref(self, at: tuple, what: str) -> Path | None:
        rel = self.doc.data
        for p in at:
            rel = rel[p]
        full = (self.path.parent / rel).resolve()
        if outside(full, self.roots):
            self.add(at, f"{what} '{rel}' is outside the manifest's folder ({full})", OUTSIDE_FIX)
            return None
        if not full.is_file():
            self.add(at, f"{what} '{rel}' does not exist (looked for {full})",
                     "paths are relative to the manifest's folder; fix the path or create the file")
            return None
        return full


def _board(c: _Checker, name: str, at: tuple):
    board = boards.get(name)
    if board is None:
        close = _close(name, list(boards.catalogue()), n=1)
        c.add(at, f"board '{name}' is not in the catalogue",
              (f"did you mean '{close[0]}'? " if close else "") + "`zgen boards` lists the boards")
    return board


def _sensors(c: _Checker, raw: dict, board) -> list[Sensor]:
    out = []
    rates = set()
    for name, s in raw.items():
        at = ("sensors", name)
        kind = KINDS[s["kind"]]
        columns = tuple(s.get("columns") or default_columns(name, kind))
        if len(columns) != len(kind.axes):
            c.add(at + ("columns",), f"sensor '{name}' ({kind.name}) gives {len(kind.axes)} value(s) "
                  f"per sample but {len(columns)} column(s) are listed",
                  f"list exactly {len(kind.axes)} column name(s)")
        part = s.get("part")
        if kind.name == "microphone" and (part or "bus" in s or "address" in s):
            c.add(at, f"sensor '{name}': a microphone is read through the board's DMIC (PDM) device, not a "
                  "part on a bus", "remove part, bus and address (`zgen boards` shows each board's microphone)")
            part = None
        elif part and ("bus" not in s or "address" not in s):
            c.add(at, f"sensor '{name}' names a part ({part}) but not its bus and address",
                  "add `bus: i2c0` and `address: 0x19` (the part's bus node and address)")
        known = PARTS.get(part) if part else None
        if part and known is None:
            close = _close(part, list(PARTS), n=1)
            c.add(at + ("part",), f"sensor '{name}': zgen does not know the part '{part}'",
                  (f"did you mean '{close[0]}'? " if close else "")
                  + f"parts that read {kind.name}: {', '.join(parts_for(kind.name)) or 'none'}")
        elif known is not None and kind.name not in known.kinds:
            c.add(at + ("part",), f"sensor '{name}': {part} has no {kind.name} (it reads "
                  f"{', '.join(known.kinds)})", f"parts that read {kind.name}: {', '.join(parts_for(kind.name))}")
        elif known is not None and known.odr_hz and known.odr_for(s["rate_hz"]) is None:
            c.add(at + ("rate_hz",), f"sensor '{name}': {part} samples at {max(known.odr_hz)} Hz at most",
                  f"lower rate_hz to {max(known.odr_hz)} or less")
        full_scale = s.get("range")
        if full_scale is not None:
            if not part:
                c.add(at + ("range",), f"sensor '{name}' has a range but no `part`",
                      "remove `range` (the board's own sensor keeps its devicetree range) or name the part")
            elif known is not None and not known.ranges:
                c.add(at + ("range",), f"sensor '{name}': zgen sets no range for {part}",
                      "remove `range`: the part keeps its power-up range")
            elif known is not None and full_scale not in known.ranges:
                c.add(at + ("range",), f"sensor '{name}': {part} has no {full_scale} {known.range_unit} range",
                      f"use one of: {', '.join(str(r) for r in known.ranges)} ({known.range_unit})")
            else:
                full_scale = int(full_scale)
        if not part and ("bus" in s or "address" in s):
            c.add(at, f"sensor '{name}' has a bus/address but no `part`",
                  "add `part:` with the devicetree compatible, e.g. st,lis2dw12")
        if board is not None and "bus" in s and board.buses and s["bus"] not in board.buses:
            c.add(at + ("bus",), f"board {board.name} has no bus '{s['bus']}'",
                  f"use one of: {', '.join(board.buses)}")
        if board is not None and not part and not board.simulated:
            own = [x for x in board.sensors if x.get("kind") == kind.name]
            if kind.name == "microphone":
                if board.microphone_node() is None:
                    with_mic = sorted(b.name for b in boards.catalogue().values()
                                      if not b.simulated and b.microphone_node())
                    c.add(at, f"board {board.name} has no microphone and no PDM peripheral zgen can wire one to",
                          f"use a board with one: {', '.join(with_mic)}")
            elif not own:
                c.add(at, f"board {board.name} has no built-in {kind.name}",
                      "name an external part with `part`, `bus` and `address`")
        rates.add(s["rate_hz"])
        out.append(Sensor(name, kind, float(s["rate_hz"]), part, s.get("bus"), s.get("address"), columns,
                          full_scale))
    if len(rates) > 1:
        c.add(("sensors",), key=True, message=f"sensors sample at different rates ({', '.join(map(str, sorted(rates)))} Hz)",
              fix="give every sensor the same rate_hz (one sample row holds every sensor)")
    elif rates and board is not None and not any(x.kind.name == "microphone" for x in out) and \
            board.app_tick_hz(rate := float(next(iter(rates)))) is None:
        first = next(iter(raw))
        finest = board.tick_choices()[-1]
        c.add(("sensors", first, "rate_hz"), f"no kernel tick rate zgen can set on {board.name} (up to {finest} "
              f"ticks/s, dividing its {board.timer_hz} Hz timer) paces a {rate:g} Hz sampler within "
              f"{boards.PACE_TOLERANCE_PERCENT} % (it would run at {boards.paced_rate(finest, rate):.6g} Hz)",
              f"use a rate_hz it paces, e.g. {boards.paced_below(finest, rate)}")
    if sum(len(s.columns) for s in out) > 16:
        c.add(("sensors",), key=True, message="more than 16 channels in one sample", fix="use fewer sensors or axes")
    return out


def _features(c: _Checker, raw: list, shape) -> tuple[list[Feature], list, object]:
    """The typed chain, its runtime records and its output shape (None when a step is wrong)."""
    from zgen.steps import lower_chain

    chain = [next(iter(step.items())) for step in raw]
    records, out_shape, problems = lower_chain(chain, shape)
    for i, e in problems:
        kind = chain[i][0]
        at = ("features", i, kind) + ((e.key,) if e.key and isinstance(chain[i][1], dict) and e.key in chain[i][1] else ())
        c.add(at, e.message, e.fix)
    feats = []
    for kind, params in chain:
        params = params or {}
        feats.append(Feature(kind, frames=params.get("frames", 1), mean=tuple(params.get("mean", ())),
                             std=tuple(params.get("std", ())), params=params))
    return feats, records, (None if problems else out_shape)


def _window(c: _Checker, raw: dict, rate: float | None) -> tuple[int, int, int, int] | None:
    """(samples per window or frame, their stride, frames the model sees, frames per decision), or
    None when they are wrong (the problem is added)."""
    w = raw["window"]
    frames = raw.get("frames")
    if frames is None:
        if "frames" in w:
            c.add(("window", "frames"), "window.frames needs a `frames:` section (frame length and hop)",
                  "add `frames: {length_ms: 30, hop_ms: 20}`, or give `window: {length: N, stride: K}` in samples")
            return None
        if w["stride"] > w["length"]:
            c.add(("window", "stride"), f"window.stride ({w['stride']}) is larger than window.length ({w['length']})",
                  "set stride <= length (stride = length gives back-to-back windows)")
        return w["length"], w["stride"], 0, 0
    if "length" in w:
        c.add(("window", "length"), "with `frames:` the window counts frames, not samples",
              "write `window: {frames: 49, stride: 5}` (the last 49 frames, a decision every 5)")
        return None
    if rate is None:
        return None
    out = []
    for key in ("length_ms", "hop_ms"):
        n = frames[key] * rate / 1000.0
        if abs(n - round(n)) > 1e-6 or round(n) < 1:
            good = 1000.0 / rate
            c.add(("frames", key), f"frames.{key} = {frames[key]:g} ms is {n:g} samples at {rate:g} Hz, not a whole number",
                  f"use a multiple of {good:g} ms")
            return None
        out.append(int(round(n)))
    length, hop = out
    if hop > length:
        c.add(("frames", "hop_ms"), f"frames.hop_ms ({frames['hop_ms']:g}) is longer than length_ms "
              f"({frames['length_ms']:g}): samples between frames would be lost", "set hop_ms <= length_ms")
    if w["stride"] > w["frames"]:
        c.add(("window", "stride"), f"window.stride ({w['stride']}) is larger than window.frames ({w['frames']})",
              "set stride <= frames")
    if length > 65535:
        c.add(("frames", "length_ms"), f"a frame of {length} samples is too long", "use shorter frames")
    return length, hop, w["frames"], w["stride"]


def _model(c: _Checker, m_raw: dict):
    path = c.file_ref(("model", "file"), "model file")
    if path is None:
        return None, None
    try:
        info = read_model(path)
    except ModelFormatError as e:
        c.add(("model", "file"), str(e), e.fix)
        return path, None
    at = ("model", "file")
    for index, what, fix in target_limits(info)[:3]:
        c.add(at, f"{path.name}: operator {index} {what}", fix)
    if m_raw.get("kernels") == "cmsis-nn":
        from zgen.model.ops import CMSIS_NN_BUILD_LACKS, cmsis_nn_cannot_link

        for op in cmsis_nn_cannot_link(info):
            c.add(("model", "kernels"), f"{path.name} uses {op}: {CMSIS_NN_BUILD_LACKS[op]}, so a CMSIS-NN "
                  "build cannot link", "set `kernels: auto` (it picks the reference kernels for this model)")
    if len(info.inputs) != 1 or len(info.outputs) != 1:
        c.add(at, f"{path.name} has {len(info.inputs)} inputs and {len(info.outputs)} outputs",
              "zgen pipelines feed one input tensor and read one output tensor")
        return path, None
    for role, t in (("input", info.inputs[0]), ("output", info.outputs[0])):
        if t.dtype not in MODEL_DTYPES:
            c.add(at, f"{path.name}: the {role} tensor is {t.dtype}", "use an int8, uint8 or float32 model")
            return path, None
        if t.per_channel:
            c.add(at, f"{path.name}: the {role} tensor is quantised per channel", "quantise it per tensor")
            return path, None
        lo, hi = {"int8": (-128, 127), "uint8": (0, 255)}.get(t.dtype, (0, 0))
        if t.dtype != "float32" and not (lo <= t.zero_point <= hi and math.isfinite(t.scale) and t.scale > 0):
            c.add(at, f"{path.name}: the {role} tensor's quantisation is broken (scale {t.scale}, zero point "
                      f"{t.zero_point}; {t.dtype} needs a scale > 0 and a zero point in [{lo}, {hi}])",
                  "re-export the model (the file is corrupt, or was edited)")
            return path, None
    return path, info


def check(path: Path, doc: Located, board_override: str | None = None, data_override: Path | None = None,
          features_only: bool = False, roots: list[Path] | None = None) -> Manifest:
    c = _Checker(path, doc, roots if roots is not None else allowed_roots(path))
    raw = doc.data
    if board_override:
        board = boards.get(board_override)
        if board is None:
            close = _close(board_override, list(boards.catalogue()), n=1)
            raise ZgenError(Problem("--board", None, None, f"board '{board_override}' is not in the catalogue",
                                    (f"did you mean '{close[0]}'? " if close else "") + "`zgen boards` lists the boards"))
    else:
        board = _board(c, raw["board"], ("board",))
    sensors = _sensors(c, raw["sensors"], board)
    channels = sum(len(s.columns) for s in sensors)
    rate = sensors[0].rate_hz if sensors else None
    mic = [s for s in sensors if s.kind.name == "microphone"]
    if mic and len(sensors) > 1:
        c.add(("sensors",), key=True, message="a microphone streams alone: it cannot share samples with other sensors",
              fix="give the microphone its own manifest")
    if mic and not 8000 <= mic[0].rate_hz <= 48000:
        c.add(("sensors", mic[0].name, "rate_hz"), f"microphone rate {mic[0].rate_hz:g} Hz",
              "use a PCM rate from 8000 to 48000 Hz, e.g. 16000")
    if mic and "frames" not in raw:
        c.add(("sensors", mic[0].name), "audio streams in frames: a microphone needs a `frames:` section",
              "add `frames: {length_ms: 30, hop_ms: 20}` and `window: {frames: 49, stride: 5}`")
    window = _window(c, raw, rate)
    from zgen.steps import Shape

    length, stride, frame_count, frame_stride = window or (1, 1, 0, 0)
    if window is None:  # the chain's shapes would only repeat that problem
        features, records, shape = [], [], None
    else:
        features, records, shape = _features(c, raw["features"], Shape(length, channels, rate or 1.0))
    if shape is not None and shape.count > length * channels:
        c.add(("features",), key=True, message=f"the feature chain grows the window's {length * channels} values "
              f"to {shape.count}", fix="use fewer bands or coefficients")
        shape = None
    model_path, info, decision = None, None, None
    if not features_only:
        model_path, info = _model(c, raw["model"])
    if info is not None and shape is not None:
        want = info.inputs[0].count
        if frame_count:
            have = frame_count * shape.count
            desc = f"{frame_count} frames x {shape.count} = {have} values per decision"
            fix = "change window.frames or the feature steps so the counts match, or use another model"
        else:
            have = shape.count
            desc = f"{shape.rows} x {shape.channels} = {have} values per window"
            fix = "change the window length or the reductions' frames so the counts match, or use another model"
        if want != have:
            c.add(("features",) if raw["features"] else ("window",), key=True, message=
                  f"the feature chain gives {desc} but the model's input {list(info.inputs[0].shape)} takes {want}",
                  fix=fix)
    if not features_only:
        decision = postprocess.parse(c, raw["postprocess"], info)
    if any(f.kind == "audio_frontend" for f in features) and info is not None and info.inputs[0].dtype != "int8":
        c.add(("features",), key=True, message=f"audio_frontend gives int8 codes but the model's input is "
              f"{info.inputs[0].dtype}", fix="use a model with an int8 input (the front end's codes feed it as they are)")

    log, outputs = postprocess.outputs(c, raw.get("outputs", ["log"]), board, decision)

    test_data = None
    recording = None
    if data_override is not None:
        test_data = Path(data_override).resolve()
        if not test_data.is_file():
            raise ZgenError(Problem(str(data_override), None, None, "no such data file", "check the --data path"))
    elif "test" in raw and "data" in raw["test"]:
        test_data = c.file_ref(("test", "data"), "test data file")
    if c.problems:
        raise ZgenError(c.problems)
    if test_data is not None:
        mic = sensors[0].rate_hz if len(sensors) == 1 and sensors[0].kind.name == "microphone" else None
        recording = load_recording(test_data, [col for s in sensors for col in s.columns], mic)
        need = length + (frame_count - 1) * stride if frame_count else length
        if recording.samples < need:
            raise ZgenError.at(str(test_data), None, None,
                               f"{recording.samples} samples is less than one decision needs ({need})",
                               "record more data or shorten the window")
    faults = _faults(c, raw.get("test", {}).get("faults", []), recording, sensors, stride)
    if c.problems:
        raise ZgenError(c.problems)

    return Manifest(
        path=path, doc=doc, name=raw["name"], board=board, sensors=tuple(sensors),
        window_length=length, window_stride=stride, features=tuple(features),
        model_path=model_path, arena=raw["model"].get("arena", "auto"), decision=decision,
        log=log, outputs=outputs, test_data=test_data, model=info, recording=recording,
        frame_count=frame_count, frame_stride=frame_stride, chain=tuple(records), feature_shape=shape,
        faults=faults, kernels=raw["model"].get("kernels", "auto"),
    )


def _faults(c: _Checker, raw: list, recording, sensors, hop: int = 1) -> tuple[Fault, ...]:
    """test.faults: inside the recording, not overlapping, and visible (a stall longer than two
    sample periods, or the sampler never misses one). A microphone's replay fails, drops and
    stalls DMIC blocks of one hop: read_errors fail whole blocks, and a stall shows only when it
    outlasts the blocks the app's slab holds."""
    out = []
    mic = bool(sensors) and sensors[0].kind.name == "microphone"
    rate = sensors[0].rate_hz if sensors else 1.0
    busy = []
    for i, f in enumerate(raw):
        kind = next(k for k in f if k != "sample")
        fault = Fault(f["sample"], kind, f[kind])
        span = fault.amount if kind == "drop" else (fault.amount if kind == "read_errors" else 1)
        if mic and kind != "drop":  # whole blocks, from the one holding the sample
            span = (fault.amount if kind == "read_errors" else 1) * hop + fault.sample % hop
        at = ("test", "faults", i)
        if recording is not None and fault.sample + span > recording.samples:
            c.add(at + ("sample",), f"the fault at sample {fault.sample} reaches past the recording's "
                  f"{recording.samples} samples", "put it inside the test data")
        if kind == "stall_ms" and not mic and fault.amount * rate / 1000 < 2:
            c.add(at + (kind,), f"a {fault.amount} ms stall is under two sample periods at {rate:g} Hz: the "
                  "sampler would not miss one", f"stall for at least {int(2000 / rate) + 1} ms")
        if kind == "stall_ms" and mic:
            need_ms = int((MIC_BLOCKS + 2) * hop * 1000 / rate) + 1
            if fault.amount < need_ms:
                c.add(at + (kind,), f"a {fault.amount} ms stall is absorbed by the {MIC_BLOCKS} DMIC blocks the app "
                      f"holds ({MIC_BLOCKS * hop * 1000 / rate:g} ms): no line would show it",
                      f"stall for at least {need_ms} ms")
        for j, (s0, s1) in busy:
            if fault.sample < s1 and s0 < fault.sample + span:
                c.add(at, f"this fault overlaps test.faults[{j}]", "move one of them" +
                      (" (a microphone's faults take whole blocks of one hop)" if mic else ""))
        busy.append((i, (fault.sample - (fault.sample % hop if mic and kind != "drop" else 0), fault.sample + span)))
        out.append(fault)
    return tuple(sorted(out, key=lambda f: f.sample))
