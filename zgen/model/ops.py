"""Ops the pinned TFLM revision can run, and the MicroMutableOpResolver method
that registers each.

Extracted from tensorflow/lite/micro/micro_mutable_op_resolver.h at tflite-micro
48613f7b (the revision Zephyr 3.7.1 pins). A builtin missing here cannot run on
the target, whatever the converter produced."""

TFLM_REVISION = "48613f7ba1ffbda46ad771a77a35408f48f922e9"

# BuiltinOperator name -> resolver method
RESOLVER_METHOD: dict[str, str] = {
    "ABS": "AddAbs",
    "ADD": "AddAdd",
    "ADD_N": "AddAddN",
    "ARG_MAX": "AddArgMax",
    "ARG_MIN": "AddArgMin",
    "ASSIGN_VARIABLE": "AddAssignVariable",
    "AVERAGE_POOL_2D": "AddAveragePool2D",
    "BATCH_MATMUL": "AddBatchMatMul",
    "BATCH_TO_SPACE_ND": "AddBatchToSpaceNd",
    "BROADCAST_ARGS": "AddBroadcastArgs",
    "BROADCAST_TO": "AddBroadcastTo",
    "CALL_ONCE": "AddCallOnce",
    "CAST": "AddCast",
    "CEIL": "AddCeil",
    "CONCATENATION": "AddConcatenation",
    "CONV_2D": "AddConv2D",
    "COS": "AddCos",
    "CUMSUM": "AddCumSum",
    "CUSTOM": "AddCustom",
    "DEPTHWISE_CONV_2D": "AddDepthwiseConv2D",
    "DEPTH_TO_SPACE": "AddDepthToSpace",
    "DEQUANTIZE": "AddDequantize",
    "DIV": "AddDiv",
    "ELU": "AddElu",
    "EMBEDDING_LOOKUP": "AddEmbeddingLookup",
    "EQUAL": "AddEqual",
    "EXP": "AddExp",
    "EXPAND_DIMS": "AddExpandDims",
    "FILL": "AddFill",
    "FLOOR": "AddFloor",
    "FLOOR_DIV": "AddFloorDiv",
    "FLOOR_MOD": "AddFloorMod",
    "FULLY_CONNECTED": "AddFullyConnected",
    "GATHER": "AddGather",
    "GATHER_ND": "AddGatherNd",
    "GREATER": "AddGreater",
    "GREATER_EQUAL": "AddGreaterEqual",
    "HARD_SWISH": "AddHardSwish",
    "IF": "AddIf",
    "L2_NORMALIZATION": "AddL2Normalization",
    "L2_POOL_2D": "AddL2Pool2D",
    "LEAKY_RELU": "AddLeakyRelu",
    "LESS": "AddLess",
    "LESS_EQUAL": "AddLessEqual",
    "LOG": "AddLog",
    "LOGICAL_AND": "AddLogicalAnd",
    "LOGICAL_NOT": "AddLogicalNot",
    "LOGICAL_OR": "AddLogicalOr",
    "LOGISTIC": "AddLogistic",
    "LOG_SOFTMAX": "AddLogSoftmax",
    "MAXIMUM": "AddMaximum",
    "MAX_POOL_2D": "AddMaxPool2D",
    "MEAN": "AddMean",
    "MINIMUM": "AddMinimum",
    "MIRROR_PAD": "AddMirrorPad",
    "MUL": "AddMul",
    "NEG": "AddNeg",
    "NOT_EQUAL": "AddNotEqual",
    "PACK": "AddPack",
    "PAD": "AddPad",
    "PADV2": "AddPadV2",
    "PRELU": "AddPrelu",
    "QUANTIZE": "AddQuantize",
    "READ_VARIABLE": "AddReadVariable",
    "REDUCE_MAX": "AddReduceMax",
    "RELU": "AddRelu",
    "RELU6": "AddRelu6",
    "RESHAPE": "AddReshape",
    "RESIZE_BILINEAR": "AddResizeBilinear",
    "RESIZE_NEAREST_NEIGHBOR": "AddResizeNearestNeighbor",
    "ROUND": "AddRound",
    "RSQRT": "AddRsqrt",
    "SELECT_V2": "AddSelectV2",
    "SHAPE": "AddShape",
    "SIN": "AddSin",
    "SLICE": "AddSlice",
    "SOFTMAX": "AddSoftmax",
    "SPACE_TO_BATCH_ND": "AddSpaceToBatchNd",
    "SPACE_TO_DEPTH": "AddSpaceToDepth",
    "SPLIT": "AddSplit",
    "SPLIT_V": "AddSplitV",
    "SQRT": "AddSqrt",
    "SQUARE": "AddSquare",
    "SQUARED_DIFFERENCE": "AddSquaredDifference",
    "SQUEEZE": "AddSqueeze",
    "STRIDED_SLICE": "AddStridedSlice",
    "SUB": "AddSub",
    "SUM": "AddSum",
    "SVDF": "AddSvdf",
    "TANH": "AddTanh",
    "TRANSPOSE": "AddTranspose",
    "TRANSPOSE_CONV": "AddTransposeConv",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "AddUnidirectionalSequenceLSTM",
    "UNPACK": "AddUnpack",
    "VAR_HANDLE": "AddVarHandle",
    "WHILE": "AddWhile",
    "ZEROS_LIKE": "AddZerosLike",
}


# Ops TFLM 48613f7b registers that Zephyr 3.7.1's tflite-micro module cannot link: its
# modules/tflite-micro/CMakeLists.txt does not compile batch_matmul.cc, nor strided_slice_common.cc
# (strided_slice.cc's Init and Prepare). Found by bench/all_kernels.py, whose build registering
# every op fails to link exactly these.
ZEPHYR_MODULE_LACKS: dict[str, str] = {
    "BATCH_MATMUL": "Zephyr 3.7's tflite-micro module does not compile kernels/batch_matmul.cc",
    "STRIDED_SLICE": "Zephyr 3.7's tflite-micro module does not compile kernels/strided_slice_common.cc, "
                     "which STRIDED_SLICE needs",
}


def target_limits(model) -> list[tuple[int, str, str]]:
    """What the pinned TFLM cannot run although newer interpreters (such as
    the host package) can: (operator index, what, fix) for each."""
    out = []
    for o in model.operators:
        if o.op.startswith("CUSTOM:Signal"):  # TFLM's signal library: an audio front end as a model
            out.append((o.index, f"uses {o.op}, an op of TFLM's signal library (an audio front end), which "
                        "the pinned TFLM's op resolver does not register",
                        "run that front end as the feature step `audio_frontend: {channels: 40}` (TFLM micro_speech's "
                        "front end, ported from that library) and give `model:` the classifier that follows it"))
        elif o.op not in RESOLVER_METHOD:
            out.append((o.index, f"uses {o.op}, which TFLM (as pinned by Zephyr 3.7) cannot run",
                        "convert the model with TFLM-supported builtins only (see `zgen model inspect`)"))
        elif o.op in ZEPHYR_MODULE_LACKS:
            out.append((o.index, f"uses {o.op}, which the firmware cannot link: {ZEPHYR_MODULE_LACKS[o.op]}",
                        "convert the model without it (e.g. a RESHAPE or SLICE in its place, or fold it "
                        "into the layers around it)"))
        elif o.op == "FULLY_CONNECTED" and o.subgraph == 0 and len(o.inputs) > 1 and o.inputs[1] >= 0:
            weights = model.tensors[o.inputs[1]]
            if weights.per_channel:
                out.append((o.index, "FULLY_CONNECTED has per-channel quantised weights, which TFLM "
                            f"{TFLM_REVISION[:8]} (Zephyr 3.7) rejects at start-up",
                            "re-convert with converter._experimental_disable_per_channel_quantization_"
                            "for_dense_layers = True"))
    return out


# Ops TFLM 48613f7b's CMSIS-NN kernel set implements with CMSIS-NN's int8/int16 routines
# (tensorflow/lite/micro/kernels/cmsis_nn/*.cc); every other op, and these on float data, run
# TFLM's reference code in a CMSIS-NN build too.
CMSIS_NN_OPS = frozenset({"ADD", "AVERAGE_POOL_2D", "BATCH_MATMUL", "CONV_2D", "DEPTHWISE_CONV_2D",
                          "FULLY_CONNECTED", "MAX_POOL_2D", "MUL", "PAD", "SOFTMAX", "SVDF", "TRANSPOSE_CONV",
                          "UNIDIRECTIONAL_SEQUENCE_LSTM"})


# Ops whose CMSIS-NN kernel Zephyr 3.7.1 cannot link, though its reference kernel links: TFLM's
# cmsis_nn/unidirectional_sequence_lstm.cc calls arm_lstm_unidirectional_s8, and Zephyr's cmsis-nn
# module compiles none (CONFIG_CMSIS_NN_LSTM builds only LSTMFunctions/*_s16.c). Found by
# bench/all_kernels.py's CMSIS-NN build registering every op. A model with one gets the reference
# kernels (auto), and `kernels: cmsis-nn` is refused.
CMSIS_NN_BUILD_LACKS: dict[str, str] = {
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "TFLM's CMSIS-NN LSTM kernel calls arm_lstm_unidirectional_s8, which "
                                    "Zephyr 3.7's cmsis-nn module does not compile",
}


def cmsis_nn_cannot_link(model) -> list[str]:
    """The model's ops a CMSIS-NN build of Zephyr 3.7.1 cannot link, sorted."""
    return sorted(set(model.ops_used) & set(CMSIS_NN_BUILD_LACKS))


def cmsis_nn_accelerates(model) -> list[str]:
    """The model's ops CMSIS-NN runs on int8/int16 data (their first input's type), sorted."""
    tensors = model.tensors
    out = set()
    for o in model.operators:
        if o.op in CMSIS_NN_OPS and o.subgraph == 0 and o.inputs and 0 <= o.inputs[0] < len(tensors) \
                and tensors[o.inputs[0]].dtype in ("int8", "int16"):
            out.add(o.op)
    return sorted(out)
