"""The generated app of a stream (micro_speech) and of spectral steps: the C
tables are exactly the values the host runtime is given, and the app reads its
microphone through the DMIC API (the replay microphone in simulation)."""
from __future__ import annotations

import re

import numpy as np
import pytest

from conftest import REPO
from zgen.cli import main
from zgen.manifest import load_manifest
from zgen.pipeline import runtime_config

MICRO_SPEECH = REPO / "tests" / "manifests" / "micro_speech.yaml"


def _c_tables(source: str) -> dict[str, np.ndarray]:
    out = {}
    for m in re.finditer(r"static const (\w+) (step_\d+_tab\d+)\[(\d+)\] = \{(.*?)\};", source, re.S):
        ctype, name, count, body = m.groups()
        values = [v.strip().rstrip("f") for v in body.replace("\n", " ").split(",") if v.strip()]
        dtype = np.float32 if ctype == "float" else np.int64
        arr = np.array([float(v) for v in values], dtype=np.float64).astype(dtype)
        assert len(arr) == int(count), name
        out[name] = arr
    return out


def _check_tables(app, m):
    tables = _c_tables((app / "src/pipeline.c").read_text())
    for i, st in enumerate(runtime_config(m)["features"]):
        for k, t in enumerate(st["tables"]):
            c = tables[f"step_{i}_tab{k}"]
            host = t.reshape(-1)
            if host.dtype == np.float32:
                assert np.array_equal(c.view(np.uint32), host.view(np.uint32)), (i, k)
            else:
                assert np.array_equal(c, host.astype(np.int64)), (i, k)


def test_micro_speech_app(reference, tmp_path):
    app = tmp_path / "app"
    assert main(["new", str(MICRO_SPEECH), "-o", str(app)]) == 0
    m = load_manifest(MICRO_SPEECH)
    _check_tables(app, m)
    prj = (app / "prj.conf").read_text()
    assert "CONFIG_AUDIO_DMIC=y" in prj and "CONFIG_SENSOR=y" not in prj
    assert 'compatible = "zgen,replay-dmic";' in (app / "boards/qemu_cortex_m3.overlay").read_text()
    main_cpp = (app / "src/main.cpp").read_text()
    assert "dmic_read(mic, 0, &block, &size" in main_cpp and "sensor_sample_fetch" not in main_cpp
    assert "#define ZGEN_BLOCK_SAMPLES 320" in main_cpp
    replay = (app / "src/replay_data.c").read_text()
    assert "const int16_t zgen_replay_pcm[16000]" in replay
    pcm = np.array([int(v) for v in re.search(r"zgen_replay_pcm\[16000\] = \{(.*?)\};", replay, re.S)
                    .group(1).replace("\n", " ").split(",") if v.strip()])
    assert np.array_equal(pcm, m.recording.micro[:, 0] // 1_000_000)
    assert "src/replay_dmic.c" in (app / "CMakeLists.txt").read_text()
    pipeline = (app / "src/pipeline.c").read_text()
    assert ".frame_count = 49," in pipeline and ".frame_stride = 5," in pipeline and ".suppress = 16000," in pipeline


def test_mfcc_lowers_to_fft_filterbank_and_matrix():
    from zgen.steps import Shape, lower_chain

    recs, shape, problems = lower_chain([("fft", {"window": "hamming"}), ("mfcc", {"coefficients": 8, "bands": 20})],
                                        Shape(128, 3, 200.0))
    assert not problems and shape.rows == 8 and shape.channels == 3
    assert [r.kind for r in recs] == [20, 21, 22]
    fft, bank, dct = recs
    assert fft.tables[0].dtype == np.float32 and len(fft.tables[0]) == 128 and len(fft.tables[1]) == 128
    assert bank.args[:3] == (20, 1, 65) and dct.args[:2] == (8, 20)
