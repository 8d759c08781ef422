"""Reading a .tflite flatbuffer: tensors, quantisation and the ops its operators use.

Uses the schema classes that ship with TFLM's host package (no TensorFlow).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

_OP_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
_TYPE_NAMES = {v: k.lower() for k, v in vars(schema.TensorType).items() if not k.startswith("_")}


class ModelFormatError(ValueError):
    """The file is not a usable TFLite model; `fix` says what to do."""

    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.fix = fix


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    dtype: str  # float32, int8, uint8, int16, int32, ...
    scales: tuple[float, ...]
    zero_points: tuple[int, ...]
    quantized_dimension: int
    variable: bool = False  # a state tensor kept across invocations (TFLM gives it persistent memory)
    constant: bool = False  # its data is in the flatbuffer (weights), so the arena plans no buffer for it

    @property
    def count(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def scale(self) -> float:
        return self.scales[0] if self.scales else 0.0

    @property
    def zero_point(self) -> int:
        return self.zero_points[0] if self.zero_points else 0

    @property
    def per_channel(self) -> bool:
        return len(self.scales) > 1


@dataclass(frozen=True)
class OperatorUse:
    index: int  # position in the subgraph's operator list
    op: str  # builtin name (FULLY_CONNECTED) or CUSTOM:<name>
    inputs: tuple[int, ...] = ()  # tensor indexes (-1: optional input absent)
    subgraph: int = 0
    outputs: tuple[int, ...] = ()


@dataclass(frozen=True)
class ModelInfo:
    path: Path
    size: int
    sha256: str
    subgraphs: int
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    tensors: tuple[TensorInfo, ...]  # of subgraph 0
    operators: tuple[OperatorUse, ...]  # of every subgraph, in order
    declared_ops: tuple[str, ...]  # the opcode table, used or not

    @property
    def ops_used(self) -> tuple[str, ...]:
        return tuple(sorted({o.op for o in self.operators}))

    @property
    def short_hash(self) -> str:
        return self.sha256[:8]


def _tensor(t, model) -> TensorInfo:
    q = t.Quantization()
    scales: tuple[float, ...] = ()
    zps: tuple[int, ...] = ()
    qdim = 0
    if q is not None and q.ScaleLength() > 0:
        scales = tuple(float(q.Scale(i)) for i in range(q.ScaleLength()))
        zps = tuple(int(q.ZeroPoint(i)) for i in range(q.ZeroPointLength()))
        qdim = int(q.QuantizedDimension())
    name = t.Name()
    return TensorInfo(
        name=name.decode("utf-8", "replace") if name else "",
        shape=tuple(int(t.Shape(i)) for i in range(t.ShapeLength())),
        dtype=_TYPE_NAMES.get(t.Type(), f"type{t.Type()}"),
        scales=scales,
        zero_points=zps,
        quantized_dimension=qdim,
        variable=bool(t.IsVariable()),
        constant=model.Buffers(t.Buffer()).DataLength() > 0 or model.Buffers(t.Buffer()).Offset() > 1,
    )


def _opcode_name(code) -> str:
    builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
    name = _OP_NAMES.get(builtin, f"BUILTIN_{builtin}")
    if name == "CUSTOM":
        custom = code.CustomCode()
        return f"CUSTOM:{custom.decode('utf-8', 'replace') if custom else '?'}"
    return name


def read_model(path: Path) -> ModelInfo:
    """Verify and read a .tflite file. Raises ModelFormatError or OSError."""
    data = Path(path).read_bytes()
    if len(data) < 8 or data[4:8] != b"TFL3":
        got = data[4:8] if len(data) >= 8 else data
        raise ModelFormatError(
            f"{Path(path).name} is not a TFLite flatbuffer (bytes 4..7 are {bytes(got)!r}, expected b'TFL3')",
            "give a .tflite file written by the TFLite converter",
        )
    try:
        model = schema.Model.GetRootAsModel(data, 0)
        codes = [_opcode_name(model.OperatorCodes(i)) for i in range(model.OperatorCodesLength())]
        if model.SubgraphsLength() < 1:
            raise ModelFormatError(f"{Path(path).name} has no subgraph", "re-export the model")
        operators = []
        for s in range(model.SubgraphsLength()):
            sg = model.Subgraphs(s)
            for i in range(sg.OperatorsLength()):
                op = sg.Operators(i)
                inputs = tuple(int(op.Inputs(k)) for k in range(op.InputsLength()))
                outputs = tuple(int(op.Outputs(k)) for k in range(op.OutputsLength()))
                operators.append(OperatorUse(i, codes[op.OpcodeIndex()], inputs, s, outputs))
        sg = model.Subgraphs(0)
        tensors = tuple(_tensor(sg.Tensors(i), model) for i in range(sg.TensorsLength()))
        inputs = tuple(tensors[sg.Inputs(i)] for i in range(sg.InputsLength()))
        outputs = tuple(tensors[sg.Outputs(i)] for i in range(sg.OutputsLength()))
    except ModelFormatError:
        raise
    except Exception as e:  # flatbuffers reports corruption as IndexError, struct.error, ...
        raise ModelFormatError(
            f"{Path(path).name} is a damaged TFLite flatbuffer ({type(e).__name__}: {e})",
            "re-export the model; the file may be truncated",
        ) from None
    return ModelInfo(
        path=Path(path),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        subgraphs=model.SubgraphsLength(),
        inputs=inputs,
        outputs=outputs,
        tensors=tensors,
        operators=tuple(operators),
        declared_ops=tuple(codes),
    )
