"""zgen/model/tflm_layout.py's struct sizes against the workspace's TFLM,
compiled for Cortex-M the way Zephyr compiles the module (skipped, with the
reason, without a workspace or arm-none-eabi-g++)."""
from __future__ import annotations

import shutil
import struct
import subprocess

import pytest

from zgen.model import tflm_layout
from zgen.workspace import find_workspace

HEADERS = ["micro/micro_allocator.h", "micro/micro_interpreter.h", "micro/micro_allocation_info.h",
           "micro/arena_allocator/single_arena_buffer_allocator.h",
           "micro/memory_planner/greedy_memory_planner.h", "core/c/builtin_op_data.h"] + [
    f"micro/kernels/{k}.h" for k in ("fully_connected", "conv", "depthwise_conv", "pooling", "softmax", "add",
                                     "mul", "quantize", "dequantize", "logistic", "activations")]

# Layout of micro_allocator.cc's MicroBuiltinDataAllocator, which lives in an
# anonymous namespace there: the bridge interface plus one pointer.
BUILTIN_ALLOCATOR = """
class BuiltinDataAllocatorLayout : public TfLiteBridgeBuiltinDataAllocator {
 public:
  void* Allocate(size_t, size_t) override { return nullptr; }
  void Deallocate(void*) override {}
  IPersistentBufferAllocator* persistent_allocator_;
};
"""
STRUCT_TYPES = {"MicroBuiltinDataAllocator": "BuiltinDataAllocatorLayout",
                "ScratchBufferRequest": "internal::ScratchBufferRequest"}
# tflm_layout.OPS entries: (builtin options type, OpData type)
OP_TYPES = {
    "FULLY_CONNECTED": ("TfLiteFullyConnectedParams", "OpDataFullyConnected"),
    "CONV_2D": ("TfLiteConvParams", "OpDataConv"),
    "DEPTHWISE_CONV_2D": ("TfLiteDepthwiseConvParams", "OpDataConv"),
    "AVERAGE_POOL_2D": ("TfLitePoolParams", "OpDataPooling"),
    "MAX_POOL_2D": ("TfLitePoolParams", "OpDataPooling"),
    "SOFTMAX": ("TfLiteSoftmaxParams", "SoftmaxParams"),
    "RESHAPE": ("TfLiteReshapeParams", None),
    "ADD": ("TfLiteAddParams", "OpDataAdd"),
    "MUL": ("TfLiteMulParams", "OpDataMul"),
    "QUANTIZE": (None, "OpDataQuantizeReference"),
    "DEQUANTIZE": (None, "DequantizeOpData"),
    "LOGISTIC": (None, "OpDataLogistic"),
    "RELU": (None, "ReluOpData"),
    "RELU6": (None, "Relu6OpData"),
}


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    ws = find_workspace()
    if ws is None or ws.tflite_micro is None:
        pytest.skip("no Zephyr workspace with the tflite-micro module")
    gxx = shutil.which("arm-none-eabi-g++")
    if gxx is None:
        pytest.skip("arm-none-eabi-g++ is not installed")
    types = [STRUCT_TYPES.get(k, k) for k in tflm_layout.STRUCTS]
    for builtin, opdata in OP_TYPES.values():
        types += [t for t in (builtin, opdata) if t]
    src = "\n".join(f'#include "tensorflow/lite/{h}"' for h in HEADERS)
    src += "\nusing namespace tflite;\n" + BUILTIN_ALLOCATOR
    src += 'extern "C" const unsigned zgen_layout[] = {\n'
    src += "".join(f"  sizeof({t}), alignof({t}),\n" for t in types) + "};\n"
    work = tmp_path_factory.mktemp("layout")
    (work / "probe.cc").write_text(src)
    root = ws.tflite_micro
    inc = [root, root / "third_party_static/flatbuffers/include", root / "third_party_static/gemmlowp",
           root / "third_party_static/ruy"]
    # Zephyr 3.7's flags for the module that change layouts: C++17, the AAPCS
    # (short enums), Thumb; no TF_LITE_STATIC_MEMORY.
    subprocess.run([gxx, "-std=c++17", "-fno-exceptions", "-fno-rtti", "-mcpu=cortex-m3", "-mthumb", "-mabi=aapcs",
                    "-fdata-sections", "--specs=nano.specs", *[f"-I{p}" for p in inc], "-c", "probe.cc", "-o", "probe.o"],
                   cwd=work, check=True, capture_output=True)
    subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", "--only-section=.rodata.zgen_layout", "probe.o",
                    "probe.bin"], cwd=work, check=True)
    data = (work / "probe.bin").read_bytes()
    values = struct.unpack(f"<{len(data) // 4}I", data)
    return {t: (values[2 * i], values[2 * i + 1]) for i, t in enumerate(types)}


def test_struct_sizes_match_the_workspace(measured):
    for name, expected in tflm_layout.STRUCTS.items():
        if name == "TfLiteTensor*":
            assert expected == (4, 4)
            continue
        assert measured[STRUCT_TYPES.get(name, name)] == expected, name


@pytest.mark.parametrize("op", sorted(tflm_layout.OPS))
def test_op_sizes_match_the_workspace(measured, op):
    builtin, opdata, _ = tflm_layout.OPS[op]
    builtin_type, opdata_type = OP_TYPES[op]
    assert builtin == (measured[builtin_type] if builtin_type else None)
    assert opdata == (measured[opdata_type][0] if opdata_type else None)


# CMSIS-NN's kernels keep their OpData in an anonymous namespace of their .cc:
# compile each source with a probe appended, for a core with DSP.
CMSIS_NN_TYPES = {"FULLY_CONNECTED": ("fully_connected", "OpData"), "CONV_2D": ("conv", "OpData"),
                  "DEPTHWISE_CONV_2D": ("depthwise_conv", "OpData"), "AVERAGE_POOL_2D": ("pooling", "OpData"),
                  "MAX_POOL_2D": ("pooling", "OpData"), "SOFTMAX": ("softmax", "CMSISNNSoftmaxParams")}


@pytest.mark.parametrize("op", sorted(tflm_layout.CMSIS_NN_OPDATA))
def test_cmsis_nn_opdata_sizes_match_the_workspace(op, tmp_path):
    ws = find_workspace()
    if ws is None or ws.tflite_micro is None:
        pytest.skip("no Zephyr workspace with the tflite-micro module")
    cmsis_nn = ws.cmsis_nn
    cmsis = ws.topdir / "modules/hal/cmsis/CMSIS/Core/Include"
    if cmsis_nn is None or not cmsis.is_dir():
        pytest.skip("the workspace has no cmsis-nn or cmsis module")
    gxx = shutil.which("arm-none-eabi-g++")
    if gxx is None:
        pytest.skip("arm-none-eabi-g++ is not installed")
    source, type_name = CMSIS_NN_TYPES[op]
    root = ws.tflite_micro
    (tmp_path / "probe.cc").write_text(
        f'#include "tensorflow/lite/micro/kernels/cmsis_nn/{source}.cc"\n'
        f'extern "C" const unsigned zgen_layout[] = {{sizeof(tflite::{type_name}), alignof(tflite::{type_name})}};\n')
    inc = [root, root / "third_party_static/flatbuffers/include", root / "third_party_static/gemmlowp",
           root / "third_party_static/ruy", cmsis_nn, cmsis_nn / "Include", cmsis]
    subprocess.run([gxx, "-std=c++17", "-fno-exceptions", "-fno-rtti", "-mcpu=cortex-m4", "-mthumb", "-mabi=aapcs",
                    "-fdata-sections", "--specs=nano.specs", "-DCMSIS_NN", *[f"-I{p}" for p in inc], "-c",
                    "probe.cc", "-o", "probe.o"], cwd=tmp_path, check=True, capture_output=True)
    subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", "--only-section=.rodata.zgen_layout", "probe.o",
                    "probe.bin"], cwd=tmp_path, check=True)
    size, _ = struct.unpack("<2I", (tmp_path / "probe.bin").read_bytes())
    assert tflm_layout.CMSIS_NN_OPDATA[op] == size
