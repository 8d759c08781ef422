"""The C audio front end (lib/zgen/src/zgen_afe.c, with the tables of zgen/steps/audio_frontend.py)
against an independent oracle: TFLM micro_speech's audio_preprocessor_int8.tflite run by TFLM's
host interpreter, frame by frame, hop 320 from sample 0 (as ../shared/reference/README.md ran it).

Every frame's int8 output must be byte-identical. Because many codes saturate at -128 (quiet
bands), three full-precision intermediate tensors are compared too: the energies the filter bank
reads, the noise estimate (the step's state) and the PCAN output (read from the C step's scratch
and state, whose layout audio_frontend.SCRATCH_BYTES documents).

Parameter variants are checked against the same model with describe()'s tables and arguments
written into its constant tensors and custom options (same sizes, so the flatbuffer keeps its
layout); with the default parameters that rewrite must give back the model byte for byte.
"""
from __future__ import annotations

import ctypes
import inspect
import wave

import numpy as np
import pytest
from flatbuffers import flexbuffers

import c_harness
from conftest import REFERENCE
from zgen.steps import audio_frontend as af

MODEL = REFERENCE / "models" / "tflm" / "audio_preprocessor_int8.tflite"
WAVS = REFERENCE / "data" / "tflm_micro_speech"
SOURCE = "app_template/lib/zgen/src/zgen_afe.c"
FRAME, HOP, CHANNELS, RATE = 480, 320, 40, 16000

# The model's int16 constant tensors and the describe() tables that must equal them.
TABLE_TENSORS = {
    "Const": af.TAB_WINDOW,
    "signal_filter_bank/Const": af.TAB_FB_WEIGHTS,
    "signal_filter_bank/Const_1": af.TAB_FB_UNWEIGHTS,
    "signal_filter_bank/Const_2": af.TAB_FB_FREQ_STARTS,
    "signal_filter_bank/Const_3": af.TAB_FB_WEIGHT_STARTS,
    "signal_filter_bank/Const_4": af.TAB_FB_WIDTHS,
    "signal_pcan/Const": af.TAB_PCAN_LUT,
}
# Intermediate tensors compared on every frame.
ENERGY, NOISE, PCAN = "Cast_1", "signal_filter_bank_spectral_subtraction1", "signal_pcan"


def _schema():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    return schema


def model_options(args) -> dict[str, dict]:
    """The custom options of each signal op, as describe()'s arguments give them."""
    bits = args[af.ARG_SS_BITS]
    return {
        "SignalWindow": {"shift": args[af.ARG_WINDOW_SHIFT]},
        "SignalFftAutoScale": {},
        "SignalRfft": {"T": 7, "fft_length": args[af.ARG_FFT_LEN]},  # T: TensorType INT16
        "SignalEnergy": {"end_index": args[af.ARG_ENERGY_END], "start_index": args[af.ARG_ENERGY_START]},
        "SignalFilterBank": {"num_channels": args[af.ARG_CHANNELS]},
        "SignalFilterBankSquareRoot": {},
        "SignalFilterBankSpectralSubtraction": {
            "alternate_one_minus_smoothing": (1 << bits) - args[af.ARG_SS_ALT_SMOOTHING],
            "alternate_smoothing": args[af.ARG_SS_ALT_SMOOTHING],
            "clamping": bool(args[af.ARG_SS_CLAMPING]),
            "min_signal_remaining": args[af.ARG_SS_MIN_REMAINING],
            "num_channels": args[af.ARG_CHANNELS],
            "one_minus_smoothing": (1 << bits) - args[af.ARG_SS_SMOOTHING],
            "smoothing": args[af.ARG_SS_SMOOTHING],
            "smoothing_bits": args[af.ARG_SS_SMOOTHING_BITS],
            "spectral_subtraction_bits": bits,
        },
        "SignalPCAN": {"snr_shift": args[af.ARG_PCAN_SNR_SHIFT]},
        "SignalFilterBankLog": {"input_correction_bits": args[af.ARG_LOG_CORRECTION],
                                "output_scale": args[af.ARG_LOG_SCALE]},
    }


def model_constants(args, tables) -> dict[str, np.ndarray]:
    """Every constant tensor of the model that describe() determines, by name."""
    out = {name: np.asarray(tables[i], dtype="<i2") for name, i in TABLE_TENSORS.items()}
    div = args[af.ARG_OUT_DIV]
    out["Const_1"] = np.array([div], dtype="<i4")        # TruncateDiv divisor
    out["Cast_3"] = np.array([div // 2], dtype="<i4")    # rounding term added before it
    out["strided_slice/stack"] = np.array([args[af.ARG_ENERGY_START]], dtype="<i4")
    out["strided_slice/stack_1"] = np.array([args[af.ARG_ENERGY_END]], dtype="<i4")
    return out


def rewrite_model(data: bytes, args, tables) -> bytes:
    """The model with describe()'s constants and options written in place (sizes must match)."""
    schema = _schema()
    buf = bytearray(data)
    model = schema.Model.GetRootAsModel(buf, 0)
    sg = model.Subgraphs(0)
    consts = model_constants(args, tables)
    options = model_options(args)
    seen = set()
    for i in range(sg.TensorsLength()):
        t = sg.Tensors(i)
        name = t.Name().decode()
        if name in consts:
            view = model.Buffers(t.Buffer()).DataAsNumpy()  # a writable view into buf
            new = np.frombuffer(consts[name].tobytes(), dtype=np.uint8)
            assert view.size == new.size, f"{name}: {new.size} bytes for a {view.size}-byte tensor"
            view[:] = new
            seen.add(name)
    for i in range(sg.OperatorsLength()):
        op = sg.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex()).CustomCode()
        name = code.decode() if code else None
        if name in options:
            view = op.CustomOptionsAsNumpy()  # a writable view into buf
            new = np.frombuffer(bytes(flexbuffers.Dumps(options[name])), dtype=np.uint8)
            assert view.size == new.size, f"{name}: options {options[name]} do not fit in place"
            view[:] = new
            seen.add(name)
    assert seen == set(consts) | set(options), f"not in the model: {set(consts) | set(options) - seen}"
    return bytes(buf)


class Oracle:
    """The TFLite model in TFLM's host interpreter, every tensor kept for inspection."""

    def __init__(self, data: bytes):
        from tflite_micro.python.tflite_micro import runtime

        self._data = data  # the interpreter reads the flatbuffer in place
        self.it = runtime.Interpreter.from_bytes(
            data, intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
        sg = _schema().Model.GetRootAsModel(data, 0).Subgraphs(0)
        self.index = {sg.Tensors(i).Name().decode(): i for i in range(sg.TensorsLength())}

    def reset(self) -> None:
        self.it.reset()

    def frame(self, x: np.ndarray) -> np.ndarray:
        self.it.set_input(x.reshape(1, FRAME), 0)
        self.it.invoke()
        return np.asarray(self.it.get_output(0)).copy()

    def tensor(self, name: str) -> np.ndarray:
        return np.asarray(self.it.GetTensor(self.index[name], 0)["tensor_data"]).ravel()


class FrontEnd:
    """zgen_afe.c through ctypes, with its own state and scratch."""

    def __init__(self, lib, args, tables):
        self.lib = lib
        self.args_list = list(args)
        self.args = (ctypes.c_int32 * af.ARG_COUNT)(*args)
        self.tables = [np.ascontiguousarray(t, dtype=np.int16) for t in tables]
        self.tabs = (ctypes.c_void_p * af.TAB_COUNT)(*[t.ctypes.data for t in self.tables])
        self.state = np.zeros(lib.zgen_afe_state_words(self.args), dtype=np.uint32)
        self.scratch = np.zeros(lib.zgen_afe_scratch_bytes(self.args) // 4, dtype=np.uint32)
        self.rng = np.random.default_rng(7)
        self.reset()

    def reset(self) -> None:
        self.state[:] = 0xA5A5A5A5  # reset must clear every word
        self.lib.zgen_afe_reset(self.args, self.tabs, self.state.ctypes.data)

    def frame(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.int16)
        assert x.size == self.args_list[af.ARG_FRAME_LEN]
        # Scratch holds nothing between frames: fill it with garbage first.
        self.scratch[:] = self.rng.integers(0, 2**32, self.scratch.size, dtype=np.uint32)
        out = np.zeros(self.args_list[af.ARG_CHANNELS], dtype=np.int8)
        self.lib.zgen_afe_frame(self.args, self.tabs, self.state.ctypes.data, self.scratch.ctypes.data,
                                x.ctypes.data, out.ctypes.data)
        return out

    # White-box views (layout: audio_frontend.SCRATCH_BYTES).
    def energy(self) -> np.ndarray:
        n = self.args_list[af.ARG_FFT_LEN]
        first = max(n // 2, self.args_list[af.ARG_CHANNELS])
        return self.scratch[first:first + n // 2 + 1]

    def pcan(self) -> np.ndarray:
        return self.scratch[:self.args_list[af.ARG_CHANNELS]]


def _load(lib):
    lib.zgen_afe_state_words.restype = ctypes.c_uint32
    lib.zgen_afe_state_words.argtypes = [ctypes.c_void_p]
    lib.zgen_afe_scratch_bytes.restype = ctypes.c_uint32
    lib.zgen_afe_scratch_bytes.argtypes = [ctypes.c_void_p]
    lib.zgen_afe_reset.restype = None
    lib.zgen_afe_reset.argtypes = [ctypes.c_void_p] * 3
    lib.zgen_afe_frame.restype = None
    lib.zgen_afe_frame.argtypes = [ctypes.c_void_p] * 6
    return lib


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    if not MODEL.is_file():
        pytest.skip(f"no reference model at {MODEL}")
    return MODEL.read_bytes()


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    return _load(c_harness.build([SOURCE], tmp_path_factory.mktemp("c_harness")))


@pytest.fixture(scope="module")
def described():
    return af.describe()


@pytest.fixture(scope="module")
def pair(model_bytes, lib, described):
    args, tables = described
    return Oracle(model_bytes), FrontEnd(lib, args, tables)


def frames_of(x: np.ndarray) -> list[np.ndarray]:
    return [x[s:s + FRAME] for s in range(0, len(x) - FRAME + 1, HOP)]


def compare(oracle: Oracle, fe: FrontEnd, frames, what: str) -> int:
    """Feed the frames in order to both (from a reset); assert every frame matches."""
    oracle.reset()
    fe.reset()
    for k, x in enumerate(frames):
        want = oracle.frame(x)
        got = fe.frame(x)
        for stage, w, g in ((ENERGY, oracle.tensor(ENERGY), fe.energy()),
                            (NOISE, oracle.tensor(NOISE), fe.state),
                            (PCAN, oracle.tensor(PCAN), fe.pcan())):
            if not np.array_equal(w.astype(np.uint32), g):
                bad = np.nonzero(w.astype(np.uint32) != g)[0]
                pytest.fail(f"{what} frame {k}: {stage} differs at {bad[:8]}: TFLM {w[bad[:8]]}, C {g[bad[:8]]}")
        assert got.tobytes() == want.astype(np.int8).tobytes(), f"{what} frame {k}: TFLM {want}, C {got}"
    return len(frames)


def read_wav(path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, RATE), path
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int16)


# --- tables and arguments -----------------------------------------------------------------

def test_describe_tables_equal_the_model_constants(model_bytes, described):
    schema = _schema()
    model = schema.Model.GetRootAsModel(model_bytes, 0)
    sg = model.Subgraphs(0)
    args, tables = described
    found = {}
    for i in range(sg.TensorsLength()):
        t = sg.Tensors(i)
        name = t.Name().decode()
        if name in TABLE_TENSORS:
            assert t.Type() == schema.TensorType.INT16, name
            found[name] = np.frombuffer(model.Buffers(t.Buffer()).DataAsNumpy().tobytes(), dtype="<i2")
    assert set(found) == set(TABLE_TENSORS)
    for name, index in TABLE_TENSORS.items():
        np.testing.assert_array_equal(tables[index], found[name], err_msg=name)
        assert tables[index].dtype == np.int16


def test_describe_arguments_equal_the_model_options(model_bytes, described):
    # Writing every table, constant and option describe() determines into the model changes
    # nothing: each equals what TFLM's builders put there.
    args, tables = described
    assert rewrite_model(model_bytes, args, tables) == model_bytes
    assert args[af.ARG_FRAME_LEN] == FRAME and args[af.ARG_CHANNELS] == CHANNELS
    assert af.hop_length() == HOP


def test_describe_shapes_and_sizes(lib, described):
    args, tables = described
    assert len(args) == af.ARG_COUNT <= 16 and len(tables) == af.TAB_COUNT <= 8
    assert all(t.dtype == np.int16 and t.flags.c_contiguous for t in tables)
    n = args[af.ARG_FFT_LEN]
    assert n == 512 and tables[af.TAB_TWIDDLES].size == 3 * n // 2
    assert tables[af.TAB_WINDOW].size == FRAME and tables[af.TAB_PCAN_LUT].size == 125
    assert af.output_shape(args) == (CHANNELS,)
    a = (ctypes.c_int32 * af.ARG_COUNT)(*args)
    assert lib.zgen_afe_state_words(a) == af.STATE_WORDS(args) == CHANNELS
    assert lib.zgen_afe_scratch_bytes(a) == af.SCRATCH_BYTES(args) == 2052
    # Every parameter is documented, with describe()'s default.
    params = inspect.signature(af.describe).parameters
    assert set(af.PARAMETERS) == set(params)
    for name, param in params.items():
        assert af.PARAMETERS[name][0] == param.default, name


# --- the oracle -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["yes", "no", "silence", "noise"])
def test_micro_speech_recordings(pair, name):
    x = read_wav(WAVS / f"{name}_1000ms.wav")
    assert compare(*pair, frames_of(x), name) == 49


def test_random_audio(pair):
    rng = np.random.default_rng(20240601)
    n = 0
    for amplitude in (1, 3, 30, 300, 3000, 12000, 32767):
        x = np.clip(np.round(rng.normal(0.0, amplitude, RATE)), -32768, 32767).astype(np.int16)
        n += compare(*pair, frames_of(x), f"gaussian sigma {amplitude}")
        x = rng.integers(-amplitude, amplitude + 1, RATE).astype(np.int16)
        n += compare(*pair, frames_of(x), f"uniform +-{amplitude}")
    # 5 s whose loudness jumps every 0.25 s: the noise estimate follows it up and down.
    levels = rng.choice([0, 2, 50, 1000, 20000, 32767], size=20)
    x = np.concatenate([np.clip(np.round(rng.normal(0.0, max(lv, 1), RATE // 4) * (lv > 0)), -32768, 32767)
                        for lv in levels]).astype(np.int16)
    n += compare(*pair, frames_of(x), "loudness steps")
    assert n == 14 * 49 + len(frames_of(x))


def _adversarial() -> dict[str, np.ndarray]:
    t = np.arange(RATE)
    full = np.where(t % 2 == 0, 32767, -32768)
    out = {
        "silence": np.zeros(RATE),
        "square 250 Hz full scale": np.where((t // 32) % 2 == 0, 32767, -32768),
        "clipped sine 1 kHz x4": np.clip(np.round(4 * 32767 * np.sin(2 * np.pi * 1000 * t / RATE)), -32768, 32767),
        "impulse +32767": np.where(t == 8000, 32767, 0),
        "impulse -32768 under the window's peak": np.where(t == 10 * HOP + 239, -32768, 0),
        "alternating +32767/-32768": full,
        "dc -32768": np.full(RATE, -32768),
        "dc +32767": np.full(RATE, 32767),
        "full scale then silence": np.where(t < RATE // 2, full, 0),
        "silence then full scale": np.where(t >= RATE // 2, full, 0),
    }
    return {k: v.astype(np.int16) for k, v in out.items()}


@pytest.mark.parametrize("name", list(_adversarial()))
def test_adversarial_audio(pair, name):
    assert compare(*pair, frames_of(_adversarial()[name]), name) == 49


def test_max_abs_wrap_frames(pair):
    # -32768 where the window weight is 4096 survives windowing; TFLM's MaxAbs16 keeps its maximum
    # in an int16, so -(-32768) wraps and later small samples set the FFT scale (up to 12 bits):
    # the scaled frame then wraps too. Frames given directly, in order.
    rng = np.random.default_rng(3)
    frames = []
    for k in range(40):
        x = rng.integers(-3 - k, 4 + k, FRAME).astype(np.int16)
        if k % 3 == 0:
            x[:] = 0
        x[238 + k % 4] = -32768
        frames.append(x)
    assert compare(*pair, frames, "max-abs wrap") == 40


def test_reset_restarts_the_noise_estimate(pair):
    oracle, fe = pair
    x = frames_of(read_wav(WAVS / "yes_1000ms.wav"))
    fe.reset()
    first = [fe.frame(f) for f in x[:10]]
    fe.reset()
    again = [fe.frame(f) for f in x[:10]]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    compare(oracle, fe, x[:10], "after reset")


# Same-size variants of the model: describe()'s tables and arguments for other parameters,
# written into the model, against the C step given the same.
VARIANTS = {
    "noise reduction": dict(even_smoothing=0.1, odd_smoothing=0.0, min_signal_remaining=0.2, clamping=True,
                            smoothing_bits=8),
    "pcan": dict(pcan_strength=0.8, pcan_offset=20.0, pcan_gain_bits=20, pcan_smoothing_bits=9),
    "scales": dict(window_scaling_bits=11, filter_bank_scaling_bits=10, post_scaling_bits=5,
                   legacy_output_scaling=20.0),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_parameter_variants(model_bytes, lib, variant):
    args, tables = af.describe(**VARIANTS[variant])
    oracle = Oracle(rewrite_model(model_bytes, args, tables))
    fe = FrontEnd(lib, args, tables)
    rng = np.random.default_rng(11)
    n = 0
    for name in ("yes", "no", "noise"):
        n += compare(oracle, fe, frames_of(read_wav(WAVS / f"{name}_1000ms.wav")), f"{variant}: {name}")
    for name in ("full scale then silence", "silence then full scale", "clipped sine 1 kHz x4"):
        n += compare(oracle, fe, frames_of(_adversarial()[name]), f"{variant}: {name}")
    x = np.clip(np.round(rng.normal(0.0, 500.0, RATE)), -32768, 32767).astype(np.int16)
    n += compare(oracle, fe, frames_of(x), f"{variant}: gaussian")
    assert n == 7 * 49
