"""Feature steps: one Python description per step, one C family per file in
lib/zgen. A description gives the step's manifest schema (parameters, example,
output shape), checks its parameters against the shape it receives, and lowers
it to the runtime's generic step records (kind, integer arguments, constant
tables, state and scratch sizes) that both the host binding and the generated
C tables are made from. Adding a step touches its description here and its
kernel in lib/zgen.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

# The runtime's step kinds (enum zgen_feature_kind in zgen.h) by family: the module here that
# describes the steps (zgen/steps/<family>.py) and the lib/zgen source that computes them. A generated app compiles in
# the dispatcher's cases of the families its manifest uses (ZGEN_STEPS_<FAMILY>), so the
# others are not linked; the host build has them all.
FAMILY_KINDS = {
    "stats": {"normalize": 1, "rms": 2, "mean": 3, "std": 4, "peak": 5, "min": 6, "max": 7, "zcr": 8,
              "scale": 9, "clip": 10, "magnitude": 11, "decimate": 12, "diff": 13},
    "spectral": {"fft": 20, "filterbank": 21, "matrix": 22},
    "audio": {"audio_frontend": 30},
}
FAMILY_SOURCE = {"stats": "zgen_stats", "spectral": "zgen_spectral", "audio": "zgen_afe"}
KIND = {name: kind for kinds in FAMILY_KINDS.values() for name, kind in kinds.items()}
_FAMILY_OF = {kind: family for family, kinds in FAMILY_KINDS.items() for kind in kinds.values()}
MAX_ARGS = 16
MAX_TABLES = 8


@dataclass(frozen=True)
class Shape:
    """What flows between steps: a [rows][channels] matrix. `row_hz`: rows per second while the
    rows are time; `bin_hz`: Hz per row once they are FFT bins (0 otherwise); `domain` names
    what the rows are (time, spectrum, bands, codes)."""

    rows: int
    channels: int
    row_hz: float
    domain: str = "time"
    bin_hz: float = 0.0
    power: bool = False  # spectrum: power (else magnitude)

    @property
    def count(self) -> int:
        return self.rows * self.channels

    def to(self, **kw) -> "Shape":
        return replace(self, **kw)


@dataclass(frozen=True)
class CStep:
    """One record of the runtime's step table (struct zgen_feature)."""

    kind: int
    args: tuple[int, ...] = ()
    tables: tuple[np.ndarray, ...] = ()
    state_words: int = 0
    scratch: int = 0  # floats of scratch the step needs


@dataclass
class StepError(Exception):
    """A parameter problem: `key` is the parameter (None: the step itself)."""

    message: str
    fix: str
    key: str | None = None


@dataclass(frozen=True)
class Step:
    """A manifest feature step. Subclasses implement lower()."""

    name: str
    doc: str
    params: dict = field(default_factory=dict)  # JSON Schema of each parameter
    example: dict = field(default_factory=dict)
    output: str = ""  # what the step gives, for the schema's description
    required: tuple[str, ...] = ()

    def schema(self) -> dict:
        return {"type": ["object", "null"], "additionalProperties": False, "required": list(self.required),
                "properties": self.params,
                "description": f"{self.doc} Output: {self.output} Example: `- {self.name}: "
                               f"{_flow(self.example)}`",
                "examples": [self.example]}

    def lower(self, p: dict, shape: Shape) -> tuple[list[CStep], Shape]:
        raise NotImplementedError


def _flow(d: dict) -> str:
    import json

    return "{" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in d.items()) + "}"


def f32(values) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(values, dtype=np.float64).astype(np.float32))


def registry() -> dict[str, Step]:
    from zgen.steps import audio, spectral, stats

    out: dict[str, Step] = {}
    for module in (stats, spectral, audio):
        for step in module.STEPS:
            out[step.name] = step
    return out


def families(records) -> tuple[str, ...]:
    """The step families a chain's records use, in FAMILY_KINDS' order."""
    used = {_FAMILY_OF[r.kind] for r in records}
    return tuple(f for f in FAMILY_KINDS if f in used)


def lower_chain(chain: list[tuple[str, dict]], shape: Shape) -> tuple[list[CStep], Shape, list[tuple[int, StepError]]]:
    """Every step's records and the chain's output shape; problems by step index."""
    steps = registry()
    out: list[CStep] = []
    problems: list[tuple[int, StepError]] = []
    for i, (name, params) in enumerate(chain):
        try:
            records, shape = steps[name].lower(params or {}, shape)
        except StepError as e:
            problems.append((i, e))
            return out, shape, problems
        out.extend(records)
    return out, shape, problems
