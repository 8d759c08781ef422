"""The manifest: loading, schema and semantic validation, and its typed form.

`load_manifest` either returns a Manifest whose every part has been checked
(board, sensors, window, features against the model, post-processing, data) or
raises ZgenError listing every problem as FILE:LINE:COL: what; fix.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from zgen.boards import Board
from zgen.data import Recording
from zgen.errors import Problem, ZgenError
from zgen.manifest import schema_check, yamlpos
from zgen.model.tflite import ModelInfo
from zgen.sensors import SensorKind



@dataclass(frozen=True)
class Sensor:
    name: str
    kind: SensorKind
    rate_hz: float
    part: str | None
    bus: str | None
    address: int | None
    columns: tuple[str, ...]
    full_scale: int | None = None  # the part's range in its binding's unit; None: its power-up range

    @property
    def alias(self) -> str:
        """The devicetree alias the app reads this sensor through."""
        return "zgen-" + self.name.replace("_", "-")


@dataclass(frozen=True)
class Feature:
    kind: str  # the step's name (zgen.steps)
    frames: int = 1  # reductions
    mean: tuple[float, ...] = ()  # normalize
    std: tuple[float, ...] = ()
    params: dict | None = None  # as written in the manifest


@dataclass(frozen=True)
class Decision:
    """postprocess, checked (zgen.manifest.postprocess; formulas in the README)."""
    score: str  # reconstruction_mse | reconstruction_mae | output | class
    threshold: float  # the score that turns a state on
    above: bool
    debounce: int
    state_off: str
    state_on: str
    labels: tuple[str, ...] = ()  # class: one per class (the model's first outputs)
    average: int = 1  # scores averaged over the last N decisions
    suppress_ms: float = 0.0  # no second event of a state within this time
    score_index: int = 0  # output: the element read
    threshold_off: float | None = None  # hysteresis: a state holds while its score passes this
    class_on: tuple[float, ...] | None = None  # class: per-class thresholds
    class_off: tuple[float, ...] | None = None  # class: per-class hold thresholds (hysteresis)
    confidence: float | None = None  # class: a top score below it is the unknown state
    top_k: int = 0  # class: the k best classes in each line
    gate: tuple[int, bool, float] | None = None  # (output element, above, threshold): failing, unknown
    rate_limit_ms: float = 0.0  # no event within this time of the last event of any state
    state_unknown: str = "unknown"

    @property
    def states(self) -> tuple[str, ...]:
        """Every state's name by its index: off, on (or each class), unknown."""
        return (self.state_off, *(self.labels or (self.state_on,)), self.state_unknown)


@dataclass(frozen=True)
class Output:
    """One entry of `outputs` other than log."""
    kind: str  # led | gpio | callback
    name: str  # the devicetree alias it drives (hyphens as written), or "callback"
    state: int  # the state it follows: -1 any state but off and unknown, -2 any, else its index
    pulse_ms: int = 0  # gpio: a pulse of this length per event (0: a level while the state holds)
    port: str | None = None  # gpio by port and pin: zgen's overlay defines the alias
    pin: int | None = None

    @property
    def mode(self) -> str:
        return "callback" if self.kind == "callback" else ("pulse" if self.pulse_ms else "level")

    @property
    def c_name(self) -> str:
        return self.name.replace("-", "_")


@dataclass(frozen=True)
class Fault:
    """A fault the replay sensor injects at a sample of the test recording."""
    sample: int
    kind: str   # read_errors | drop | stall_ms
    amount: int  # reads, samples, or milliseconds


@dataclass(frozen=True)
class Manifest:
    path: Path
    doc: yamlpos.Located
    name: str
    board: Board
    sensors: tuple[Sensor, ...]
    window_length: int
    window_stride: int
    features: tuple[Feature, ...]
    model_path: Path
    arena: str | int
    decision: Decision | None
    log: bool
    outputs: tuple[Output, ...]
    test_data: Path | None
    model: ModelInfo | None
    recording: Recording | None
    # Streams: window_length/window_stride above are one frame and its hop in samples; the
    # model sees the last frame_count frames, a decision every frame_stride. 0: no frames.
    frame_count: int = 0
    frame_stride: int = 0
    chain: tuple = ()  # zgen.steps.CStep records of the feature chain
    feature_shape: object = None  # zgen.steps.Shape of one window's (frame's) features
    faults: tuple[Fault, ...] = ()  # test.faults, by sample
    kernels: str = "auto"  # model.kernels: auto | reference | cmsis-nn

    def kernels_on(self, board: Board) -> str:
        """The TFLM kernel set the app builds with on `board`: CMSIS-NN only on Arm cores with the
        DSP extension, and (auto) only where the model has int8/int16 ops CMSIS-NN accelerates."""
        if board.tflm_kernels != "cmsis-nn" or self.kernels == "reference":
            return "reference"
        if self.kernels == "cmsis-nn" or self.model is None:
            return "cmsis-nn"
        from zgen.model.ops import cmsis_nn_accelerates, cmsis_nn_cannot_link

        if cmsis_nn_cannot_link(self.model):
            return "reference"
        return "cmsis-nn" if cmsis_nn_accelerates(self.model) else "reference"

    @property
    def leds(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.outputs if o.kind == "led")

    @property
    def callback(self) -> bool:
        return any(o.kind == "callback" for o in self.outputs)

    @property
    def channels(self) -> int:
        return sum(len(s.columns) for s in self.sensors)

    @property
    def columns(self) -> list[str]:
        return [c for s in self.sensors for c in s.columns]

    @property
    def rate_hz(self) -> float:
        return self.sensors[0].rate_hz

    @property
    def streaming(self) -> bool:
        return self.frame_count > 0

    @property
    def microphone(self):
        return next((s for s in self.sensors if s.kind.name == "microphone"), None)

    def model_layout(self) -> tuple[int, int]:
        """The model input as (rows, columns): windows give the chain's [rows][channels];
        streams [frames][features per frame]."""
        if self.streaming:
            return self.frame_count, self.feature_shape.count
        return self.feature_shape.rows, self.feature_shape.channels

    def feature_count(self) -> int:
        rows, cols = self.model_layout()
        return rows * cols

    def decision_samples(self) -> int:
        """Samples between two decisions."""
        return self.window_stride * (self.frame_stride if self.streaming else 1)

    def first_decision_samples(self) -> int:
        """Samples before the first decision."""
        if self.streaming:
            return self.window_length + (self.frame_count - 1) * self.window_stride
        return self.window_length

    def where(self, *path) -> tuple[int, int]:
        return self.doc.where(path)

    def saturation_warnings(self) -> list[str]:
        """Where the test recording goes beyond a part's full-scale range: the real part saturates
        there, so the firmware on hardware would not see what `zgen simulate` is given."""
        from zgen.sensors import PARTS

        out, col = [], 0
        for s in self.sensors:
            part = PARTS.get(s.part or "")
            limit = part.full_scale(s.full_scale) if part else None
            if limit is not None and self.recording is not None and self.recording.samples:
                values = self.recording.micro[:, col:col + len(s.columns)]
                peak = max(abs(int(values.max())), abs(int(values.min()))) / 1e6  # no copy of the recording
                wider = [r for r in part.ranges if part.full_scale(r) >= peak]
                if peak > limit:
                    line, column = (self.where("sensors", s.name, "range") if s.full_scale
                                    else self.doc.where(("sensors", s.name), key=True))
                    fix = (f"set `range: {wider[0]}` ({part.range_unit})" if wider
                           else "the part cannot measure this signal; pick a part with a wider range")
                    out.append(f"{self.path}:{line}:{column}: the test data reaches {peak:.3g} {s.kind.unit} "
                               f"on '{s.name}', beyond {s.part}'s {s.full_scale or part.default_range} "
                               f"{part.range_unit} range (the part saturates there); {fix}")
            col += len(s.columns)
        return out


# Folders a manifest's paths may reach besides its own folder tree, given by the user: zgen's
# --allow-path (which sets this for the process) or the environment.
ALLOW_ENV = "ZGEN_ALLOW_PATH"
OUTSIDE_FIX = ("keep the file in the manifest's folder tree, or allow its folder explicitly with "
               f"--allow-path DIR (or {ALLOW_ENV}=DIR)")


def allowed_roots(manifest: Path | str, extra: tuple[str, ...] = ()) -> list[Path]:
    """The folders a manifest's paths may resolve into: its own folder's tree, and those allowed."""
    given = [p for p in os.environ.get(ALLOW_ENV, "").split(os.pathsep) if p] + list(extra)
    return [Path(manifest).absolute().parent.resolve(), *(Path(p).resolve() for p in given)]


def outside(path: Path, roots: list[Path]) -> bool:
    """Whether `path`, symlinks followed, lies outside every root: a manifest from elsewhere must
    not make zgen read (and embed in firmware) or write files beyond what the user let it."""
    resolved = Path(path).resolve()
    return not any(resolved.is_relative_to(root) for root in roots)


def load_manifest(path: Path | str, board: str | None = None, data: Path | None = None,
                  features_only: bool = False, allow: tuple[str, ...] = ()) -> Manifest:
    """Load and fully validate a manifest. `board` and `data` override the manifest's.

    features_only: skip the model and post-processing checks (model may be None),
    for training a model that does not exist yet.
    """
    from zgen.manifest.semantics import check  # semantics needs the types above

    path = Path(path)
    filename = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ZgenError(Problem(filename, None, None, "no such manifest file",
                                "check the path (manifests are YAML files such as samples/anomaly/anomaly.yaml)")) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ZgenError(Problem(filename, None, None, f"cannot read the manifest ({e})",
                                "give a readable UTF-8 YAML file")) from None
    doc = yamlpos.load(text, filename)
    if not isinstance(doc.data, dict):
        raise ZgenError.at(filename, 1, 1, "the manifest must be a mapping (key: value lines)",
                           "start from samples/anomaly/anomaly.yaml or `zgen schema`")
    problems = schema_check.validate(doc, filename)
    if problems:
        raise ZgenError(problems)
    return check(path, doc, board_override=board, data_override=data, features_only=features_only,
                 roots=allowed_roots(path, allow))
