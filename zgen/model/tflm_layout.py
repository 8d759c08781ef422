"""The tensor arena on a 32-bit Arm target, by replaying the allocations TFLM
makes in MicroInterpreter::AllocateTensors().

Why: the host interpreter is 64-bit and of a later TFLM revision, so its tail
(persistent structs and kernel data) is 1.6-2x the firmware's. The head (the
planned tensors) is the same on both, so head(host) + tail(replayed) is the
firmware's arena_used_bytes(). That figure is what stays in use after
AllocateTensors(); on the way, kernels' Prepare holds temporary TfLiteTensors
and the memory planner needs working space, both at the head end. For models
with a small head that transient is the larger need (hello_world: 772 bytes in
use, 1104 needed), so the replay tracks it too.

The sizes below are sizeof/alignof at the module's TFLM revision (48613f7b),
compiled with Zephyr 3.7's flags for Cortex-M (arm-none-eabi, AAPCS: short
enums, 4-byte pointers). tests/test_tflm_layout.py recompiles them from the
workspace's headers and compares. A model using an op this module does not
know returns None: the caller falls back to the host's upper bound.
"""
from __future__ import annotations

from dataclasses import dataclass

from zgen.model.tflite import ModelInfo, TensorInfo

TFLM_REVISION = "48613f7b"
BUFFER_ALIGN = 16  # MicroArenaBufferAlignment(): kernels' persistent buffers

# (sizeof, alignof) on Cortex-M.
STRUCTS = {
    "SingleArenaBufferAllocator": (36, 4),
    "GreedyMemoryPlanner": (44, 4),
    "MicroAllocator": (36, 4),
    "MicroBuiltinDataAllocator": (8, 4),
    "SubgraphAllocations": (8, 4),
    "TfLiteEvalTensor": (12, 4),
    "NodeAndRegistration": (44, 4),
    "TfLiteTensor": (64, 4),
    "TfLiteAffineQuantization": (12, 4),
    "TfLiteTensor*": (4, 4),
    "ScratchBufferRequest": (12, 4),
    "AllocationInfo": (24, 4),
    "size_t": (4, 4),
}
MAX_SCRATCH_BUFFERS_PER_OP = 12  # micro_allocator.cc: scratch requests reserved at the head
PLANNER_BYTES_PER_BUFFER = 40  # GreedyMemoryPlanner::per_buffer_size()

# Per op: the builtin-options struct the flatbuffer parser allocates (None: the
# op has none), the OpData its Init allocates (None: no Init), and which filter
# dimension sizes the two per-channel arrays (multiplier, shift) its Prepare
# allocates (None: none). Sizes as (sizeof, alignof); OpData is aligned to 16.
OPS = {
    "FULLY_CONNECTED": ((5, 1), 36, None),  # TfLiteFullyConnectedParams, OpDataFullyConnected
    "CONV_2D": ((28, 4), 56, 0),  # TfLiteConvParams, OpDataConv; filter [out, h, w, in]
    "DEPTHWISE_CONV_2D": ((28, 4), 56, 3),  # TfLiteDepthwiseConvParams, OpDataConv; filter [1, h, w, out]
    "AVERAGE_POOL_2D": ((40, 4), 32, None),  # TfLitePoolParams, OpDataPooling
    "MAX_POOL_2D": ((40, 4), 32, None),
    "SOFTMAX": ((4, 4), 56, None),  # TfLiteSoftmaxParams, SoftmaxParams (int16 LUTs: not modelled)
    "RESHAPE": ((36, 4), None, None),  # TfLiteReshapeParams; no Init
    "ADD": ((2, 1), 60, None),  # TfLiteAddParams, OpDataAdd
    "MUL": ((1, 1), 36, None),  # TfLiteMulParams, OpDataMul
    "QUANTIZE": (None, 32, None),  # OpDataQuantizeReference
    "DEQUANTIZE": (None, 32, None),  # DequantizeOpData
    "LOGISTIC": (None, 16, None),  # OpDataLogistic
    "RELU": (None, 28, None),  # ReluOpData
    "RELU6": (None, 2, None),  # Relu6OpData
}


# CMSIS-NN's own OpData, where it differs (sizes for Cortex-M with DSP; the
# tests compile each kernel source to check them). The other ops run the
# reference kernels in a CMSIS-NN build too.
CMSIS_NN_OPDATA = {
    "FULLY_CONNECTED": 64,  # OpDataFullyConnected + per-channel pointers, buffer index, kernel sums, dims
    "CONV_2D": 60,  # OpDataConv + buffer index
    "DEPTHWISE_CONV_2D": 60,
    "AVERAGE_POOL_2D": 36,  # OpDataPooling + buffer index
    "MAX_POOL_2D": 36,
    "SOFTMAX": 64,  # CMSISNNSoftmaxParams: SoftmaxParams + rows, row size
}
KERNEL_SETS = ("reference", "cmsis-nn")


def _align4(n: int) -> int:
    return -(-n // 4) * 4


def cmsis_nn_scratch(info: ModelInfo, o) -> int:
    """Bytes of the scratch buffer a CMSIS-NN kernel requests on a DSP core
    (the *_get_buffer_size() functions of the workspace's CMSIS-NN), taking
    the general case where padding or strides would pick a smaller one."""
    t = info.tensors
    if o.op == "CONV_2D" and t[o.inputs[0]].dtype == "int8":
        _, kh, kw, cin = t[o.inputs[1]].shape
        return 2 * _align4(kh * kw * cin) * 2  # arm_convolve_s8_get_buffer_size: 2 im2col columns of int16
    if o.op == "DEPTHWISE_CONV_2D" and t[o.inputs[0]].dtype == "int8":
        _, kh, kw, _ = t[o.inputs[1]].shape
        return t[o.inputs[0]].shape[-1] * kh * kw * 2  # arm_depthwise_conv_s8_opt_get_buffer_size_dsp
    if o.op == "AVERAGE_POOL_2D" and t[o.inputs[0]].dtype == "int8":
        return t[o.inputs[0]].shape[-1] * 4  # arm_avgpool_s8_get_buffer_size_dsp
    return 0


def _cmsis_nn_fc_channels(info: ModelInfo, o) -> int:
    """Output channels of the per-channel arrays CMSIS-NN's fully connected
    Prepare allocates: for int8 with an output of more than 2 dimensions and an
    accumulation depth a multiple of 4 (it then runs as a 1x1 convolution)."""
    inp, filt, out = info.tensors[o.inputs[0]], info.tensors[o.inputs[1]], info.tensors[o.outputs[0]]
    if inp.dtype != "int8" or filt.dtype == "int4" or len(out.shape) <= 2 or filt.shape[-1] % 4:
        return 0
    return out.shape[-1]


# Temporary TfLiteTensors each kernel's Prepare allocates (AllocateTempInput/
# OutputTensor calls in its sources at that revision), all counted as held at
# once: an upper bound (CONV_2D's Prepare holds 3 while CalculateOpDataConv
# takes 4 more).
TEMP_TENSORS = {"FULLY_CONNECTED": 4, "CONV_2D": 7, "DEPTHWISE_CONV_2D": 7, "AVERAGE_POOL_2D": 2,
                "MAX_POOL_2D": 2, "SOFTMAX": 2, "RESHAPE": 2, "ADD": 3, "MUL": 3, "QUANTIZE": 2,
                "DEQUANTIZE": 2, "LOGISTIC": 2, "RELU": 3, "RELU6": 3}


@dataclass(frozen=True)
class Replay:
    tail: int  # persistent bytes once AllocateTensors() is done
    transient: int  # the arena AllocateTensors() needs on the way, whatever the head
    scratch: int = 0  # CMSIS-NN scratch buffers, counted on top of the host's head (an upper bound)


def _up(n: int, align: int) -> int:
    return -(-n // align) * align


class _Tail:
    """SingleArenaBufferAllocator's tail: each allocation moves it down by the
    size, then down to the alignment. Starts at the 16-aligned arena end."""

    def __init__(self):
        self.used = 0

    def take(self, size: int, align: int) -> None:
        self.used = _up(self.used + size, align)

    def struct(self, name: str, count: int = 1) -> None:
        size, align = STRUCTS[name]
        self.take(size * count, align)


def _int_array_bytes(n: int) -> int:
    return 4 + 4 * n  # TfLiteIntArray: int size; int data[]


def _quantization_bytes(t: TensorInfo) -> int:
    """TfLiteAffineQuantization and its zero-point array, for a quantised tensor."""
    if not (t.scales and t.zero_points):
        return 0
    return STRUCTS["TfLiteAffineQuantization"][0] + _int_array_bytes(len(t.scales))


def unsupported(info: ModelInfo, kernels: str = "reference") -> str | None:
    """Why the replay cannot cover this model, or None."""
    if kernels == "cmsis-nn":
        for o in info.operators:
            if o.op in CMSIS_NN_OPDATA and info.tensors[o.inputs[0]].dtype == "int16":
                return f"CMSIS-NN int16 {o.op}"
    if info.subgraphs != 1:
        return f"{info.subgraphs} subgraphs"
    unknown = sorted({o.op for o in info.operators} - set(OPS))
    if unknown:
        return "no layout table for " + ", ".join(unknown)
    for o in info.operators:
        if o.op == "SOFTMAX" and any(info.tensors[i].dtype == "int16" for i in o.inputs if i >= 0):
            return "int16 SOFTMAX (lookup tables)"
    if any(t.variable for t in info.tensors):
        return "variable tensors"
    return None


def replay(info: ModelInfo, kernels: str = "reference") -> Replay | None:
    """The Cortex-M tail and transient need with that kernel set, or None (see unsupported())."""
    if unsupported(info, kernels):
        return None
    cmsis = kernels == "cmsis-nn"

    def opdata(op: str) -> int | None:
        return CMSIS_NN_OPDATA.get(op, OPS[op][1]) if cmsis else OPS[op][1]

    tail = _Tail()
    # MicroInterpreter's constructor: MicroAllocator::Create().
    for name in ("SingleArenaBufferAllocator", "GreedyMemoryPlanner", "MicroAllocator"):
        tail.struct(name)
    # AllocateTensors() -> StartModelAllocation(). Scratch-buffer requests are
    # kept at the head from here until the plan is made.
    tail.struct("MicroBuiltinDataAllocator")
    requests = STRUCTS["ScratchBufferRequest"][0] * MAX_SCRATCH_BUFFERS_PER_OP
    tail.struct("SubgraphAllocations", info.subgraphs)
    tail.struct("TfLiteEvalTensor", len(info.tensors))
    tail.struct("NodeAndRegistration", len(info.operators))
    # PrepareNodeAndRegistrationDataFromFlatbuffer(): builtin options.
    for o in info.operators:
        if OPS[o.op][0]:
            tail.take(*OPS[o.op][0])
    # InitSubgraphs(): each kernel's OpData.
    for o in info.operators:
        if opdata(o.op):
            tail.take(opdata(o.op), BUFFER_ALIGN)
    # PrepareSubgraphs(): per-channel output multipliers and shifts, while the
    # kernel holds its temporary tensors at the head.
    transient = 0
    scratch = []
    for o in info.operators:
        dim = OPS[o.op][2]
        channels = info.tensors[o.inputs[1]].shape[dim] if dim is not None else 0
        if cmsis and o.op == "FULLY_CONNECTED":
            channels = _cmsis_nn_fc_channels(info, o)
        elif cmsis and o.op in ("CONV_2D", "DEPTHWISE_CONV_2D") and info.tensors[o.inputs[0]].dtype == "float32":
            channels = 0  # CMSIS-NN's Prepare allocates them for int8 and int16 only
        if channels:
            for _ in range(2):
                tail.take(4 * channels, BUFFER_ALIGN)
        if cmsis and (size := cmsis_nn_scratch(info, o)):
            scratch.append(size)
        own = [info.tensors[i] for i in (*o.inputs, *o.outputs) if i >= 0]
        temp = STRUCTS["TfLiteTensor"][0] + max((_quantization_bytes(t) for t in own), default=0)
        transient = max(transient, requests + TEMP_TENSORS[o.op] * temp + tail.used)
    # FinishModelAllocation(): a handle per scratch buffer (the reference
    # kernels request none). CommitStaticMemoryPlan() lays out an
    # AllocationInfo per tensor and scratch buffer, then gives the planner
    # what is left (16-aligned); it needs PLANNER_BYTES_PER_BUFFER for each
    # buffer the arena holds.
    if scratch:
        tail.take(4 * len(scratch), 4)  # ScratchBufferHandle: one pointer
    planned = sum(1 for t in info.tensors if not t.constant and not t.variable and t.count > 0) + len(scratch)
    info_bytes = (requests + STRUCTS["size_t"][0] * info.subgraphs
                  + STRUCTS["AllocationInfo"][0] * (len(info.tensors) + len(scratch)))
    transient = max(transient, _up(info_bytes, BUFFER_ALIGN) + PLANNER_BYTES_PER_BUFFER * planned
                    + _up(tail.used, BUFFER_ALIGN))
    # Then the input and output TfLiteTensors with their quantisation.
    for group in (info.inputs, info.outputs):
        tail.take(STRUCTS["TfLiteTensor*"][0] * len(group), BUFFER_ALIGN)
        for t in group:
            tail.struct("TfLiteTensor")
            if _quantization_bytes(t):
                tail.struct("TfLiteAffineQuantization")
                tail.take(_int_array_bytes(len(t.scales)), 4)
    return Replay(tail.used, transient, sum(_up(n, BUFFER_ALIGN) for n in scratch))
