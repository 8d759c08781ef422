"""samples/keyword: "yes"/"no" keyword spotting (TFLM micro_speech's front end and stream, a small
int8 1-D CNN made by `zgen train` from espeak-ng clips). Its detections on the seeded test recording
are held to the generator's ground truth (data/words.json, never zgen's own output), and the model
is run on TFLM's real-speech WAVs in ../shared (read in place). No training here."""
from __future__ import annotations

import os

import json
import wave
from pathlib import Path

import pytest

from conftest import REFERENCE, REPO
from zgen.manifest import load_manifest
from zgen.simulate import run

KEYWORD = REPO / "samples" / "keyword" / "keyword.yaml"
TRUTH = KEYWORD.parent / "data" / "words.json"
KEYWORDS = ("yes", "no")
LATE_S = 1.0  # a word may be reported until 1 s after it ends (the model's view is 1 s)


def _detections(sim) -> list[tuple[int, str]]:
    """(t, class) of every yes/no event line: t is the sample index of the deciding window."""
    return [(w.t, w.event) for w in sim.windows if w.event in KEYWORDS]


def _score(words: list[dict], detections: list[tuple[int, str]], rate: int) -> dict:
    """Each detection is matched, in time order, to the first word of its class not yet matched
    whose [start, end + 1 s] holds its t; a word is matched once (a second detection of the same
    word is a false alarm). False alarms inside an unknown word's [start, end + 1 s] are also listed
    in `from_unknown`."""
    matched: set[int] = set()
    hits = {k: 0 for k in KEYWORDS}
    false_alarms = {k: [] for k in KEYWORDS}
    from_unknown = []
    span = [(w["start_sample"], w["end_sample"] + int(LATE_S * rate)) for w in words]
    for t, cls in detections:
        word = next((i for i, w in enumerate(words) if i not in matched and w["label"] == cls
                     and span[i][0] <= t <= span[i][1]), None)
        if word is None:
            false_alarms[cls].append(t)
            if any(w["label"] == "unknown" and s <= t <= e for w, (s, e) in zip(words, span)):
                from_unknown.append((t, cls))
        else:
            matched.add(word)
            hits[cls] += 1
    out = {"from_unknown": from_unknown}
    for k in KEYWORDS:
        n_words = sum(w["label"] == k for w in words)
        n_det = hits[k] + len(false_alarms[k])
        out[k] = {"words": n_words, "detections": n_det, "hits": hits[k], "false_alarms": false_alarms[k],
                  "recall": hits[k] / n_words, "precision": hits[k] / n_det if n_det else 0.0}
    return out


@pytest.fixture(scope="module")
def simulation():
    m = load_manifest(KEYWORD)
    return m, run(m)


def test_keyword_detections_match_the_generators_words(simulation):
    m, sim = simulation
    truth = json.loads(TRUTH.read_text())
    assert truth["rate_hz"] == int(m.rate_hz)
    with wave.open(str(KEYWORD.parent / "data" / "test.wav")) as w:
        assert w.getnframes() == truth["samples"]  # the recording the ground truth describes
    score = _score(truth["words"], _detections(sim), truth["rate_hz"])
    for k in KEYWORDS:
        s = score[k]
        print(f"keyword {k:>3}: {s['hits']}/{s['words']} words found (recall {s['recall']:.2f}), "
              f"{s['hits']}/{s['detections']} detections right (precision {s['precision']:.2f}); "
              f"false alarms at t={s['false_alarms']}")
    print(f"yes/no fired inside unknown words: {score['from_unknown']}")
    # Five words of each class: 0.8 allows one miss and about one false alarm per class. The test
    # words are spoken by voices held out of training (accents and variants), down to 18 dB SNR
    # over a fan, so one miss per class is within what the model is expected to do. The committed
    # model is at these bounds (yes: 4/5 found, none wrong; no: 5/5 found, one false alarm on "left"):
    # a change to the pipeline or the model that loses one more decision fails here.
    for k in KEYWORDS:
        assert score[k]["recall"] >= 0.8, score[k]
        assert score[k]["precision"] >= 0.8, score[k]
    # Four unknown words (go, stop, left, house): at most one may fire a keyword.
    assert len(score["from_unknown"]) <= 1, score["from_unknown"]


def test_keyword_stream_basics(simulation):
    """One decision every 5 frames (100 ms) once 49 frames (1 s) are in; one event per word at most
    (suppress 1000 ms): no two events of the same keyword within 1 s."""
    m, sim = simulation
    ts = [w.t for w in sim.windows]
    assert ts[0] == 48 * 320 + 480 - 1 and all(b - a == 5 * 320 for a, b in zip(ts, ts[1:]))
    for k in KEYWORDS:
        times = [t for t, c in _detections(sim) if c == k]
        assert all(b - a >= 16000 for a, b in zip(times, times[1:])), (k, times)
    assert sim.lines[-1].startswith("zgen: end ")


# TFLM micro_speech's test recordings (real speech for yes/no) and what each should be.
REAL = {"yes": "yes", "no": "no", "silence": "silence", "noise": "silence"}


def test_accuracy_on_tflm_micro_speech_recordings():
    """The model was trained on espeak-ng's voices only: how far it carries to human speech.
    Printed for each file; asserted only where it is not marginal (see the comments)."""
    if not REFERENCE.is_dir():
        pytest.skip(f"no reference material at {REFERENCE}")
    labels = list(load_manifest(KEYWORD).decision.labels)
    got = {}
    for name, want in REAL.items():
        wav = REFERENCE / "data" / "tflm_micro_speech" / f"{name}_1000ms.wav"
        sim = run(load_manifest(KEYWORD, data=wav))
        assert len(sim.windows) == 1  # 1 s: exactly one decision
        out = sim.windows[0].outputs
        top = labels[max(range(len(out)), key=out.__getitem__)]
        got[name] = top
        print(f"{wav.name}: want {want}, got {top} ({max(out):.3f}); "
              + ", ".join(f"{lab} {p:.3f}" for lab, p in zip(labels, out)))
    right = sum(got[n] == w for n, w in REAL.items())
    print(f"accuracy on the four TFLM micro_speech recordings: {right}/{len(REAL)}")
    # The two spoken words are the sample's point, and the model is far from the boundary on both.
    assert got["yes"] == "yes" and got["no"] == "no", got
    # Street noise is no keyword; a quiet room (silence_1000ms.wav: -84 dBFS RMS, +-7 LSB, near a
    # MEMS microphone's own noise floor) is silence. The generator's quiet backgrounds (-100 to -75
    # dBFS) are there for this: before them the model called this file "yes" (0.824).
    assert got["noise"] not in KEYWORDS, got
    assert got["silence"] == "silence", got


def _write_wav(path: Path, pcm) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm.astype("<i2").tobytes())
    return path


def test_a_quiet_room_is_never_a_keyword(tmp_path):
    """Quiet input made here, apart from the generator (its own seed, no microphone model): digital
    zero, +-1 LSB of dither, white noise at -96 and -84 dBFS, a DC offset of 40 LSB with -90 dBFS
    hiss, then 4 s of them one after another. Every decision is silence and no event fires: a
    product listening in a quiet room must not report words."""
    import numpy as np

    rng = np.random.default_rng(7)
    n = 16000

    def hiss(dbfs):
        return np.round(rng.normal(0.0, 32768 * 10 ** (dbfs / 20), n))

    clips = {"zero": np.zeros(n), "dither 1 LSB": rng.integers(-1, 2, n).astype(float),
             "white -96 dBFS": hiss(-96), "white -84 dBFS": hiss(-84), "DC 40 LSB + -90 dBFS": 40 + hiss(-90)}
    labels = list(load_manifest(KEYWORD).decision.labels)
    for name, x in clips.items():
        wav = _write_wav(tmp_path / "clip.wav", np.clip(x, -32768, 32767))
        sim = run(load_manifest(KEYWORD, data=wav))
        out = sim.windows[0].outputs
        top = labels[max(range(len(out)), key=out.__getitem__)]
        print(f"{name}: {top} ({max(out):.3f})")
        assert top == "silence", (name, dict(zip(labels, out)))
    stream = np.concatenate([np.clip(x, -32768, 32767) for x in clips.values()])
    sim = run(load_manifest(KEYWORD, data=_write_wav(tmp_path / "quiet.wav", stream)))
    assert len(sim.windows) > 30
    assert _detections(sim) == [], _detections(sim)


def test_train_data_patterns_and_their_errors(tmp_path, monkeypatch):
    """train.data entries may be patterns or folders (no TensorFlow needed to resolve them); one that
    matches nothing is FILE:LINE:COL with a fix."""
    # The copy below names the sample's files where they are: allowed, as with --allow-path.
    monkeypatch.setenv("ZGEN_ALLOW_PATH", f"{KEYWORD.parent}{os.pathsep}{tmp_path}")
    import numpy as np

    from zgen.errors import ZgenError
    from zgen.model.train import _span_int8, load_spec

    train = KEYWORD.parent / "data" / "train"
    if (train / "yes").is_dir():
        spec = load_spec(load_manifest(KEYWORD, features_only=True))
        assert list(spec.data) == ["silence", "unknown", "yes", "no"]
        assert all(p.suffix == ".wav" and p.parent.name == k for k, ps in spec.data.items() for p in ps)
        assert all(ps == sorted(ps) and len(ps) == len(list((train / k).glob("*.wav"))) for k, ps in spec.data.items())
    # The sample's manifest with its paths from its folder, and the `no` class pointing at nothing.
    text = KEYWORD.read_text()
    for rel in ("[data/", " data/", " model/"):
        text = text.replace(rel, f"{rel[0]}{KEYWORD.parent}/{rel[1:]}")
    no = f"no: [{KEYWORD.parent}/data/train/no/*.wav]"
    assert no in text
    text = text.replace(no, f"no: [{tmp_path}/none/*.wav, {tmp_path}]")
    bad = tmp_path / "keyword.yaml"
    bad.write_text(text)
    with pytest.raises(ZgenError) as e:
        load_spec(load_manifest(bad, features_only=True))
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "none/*.wav" in s)
    # (the other classes' patterns match nothing too where make_data.py --train has not run)
    problems = [str(p) for p in e.value.problems if p.line == line]
    assert len(problems) == 2, problems
    assert f"keyword.yaml:{line}:10: training data pattern '{tmp_path}/none/*.wav' matches no file" in problems[0]
    assert "make_data.py --train" in problems[0]
    assert f"training data folder '{tmp_path}' holds no .wav file" in problems[1]
    # Calibration for a model fed the front end's codes spans -128..127 (input scale 1, zero point 0).
    codes = np.array([[-100.0, 5.0, 120.0], [-90.0, 0.0, 100.0]], np.float32)
    spanned = _span_int8(codes)
    assert spanned.min() == -128 and spanned.max() == 127 and len(spanned) == 3
    assert (spanned[:2] == codes).all() and list(spanned[2]) == [-128.0, 5.0, 127.0]
