#!/usr/bin/env python3
"""Synthetic, seeded keyword-spotting audio: "yes" and "no" at 16 kHz, as in TFLM's micro_speech.

Why synthetic: the sample needs training clips and a test recording whose every word is at a
known sample, made here, reproducibly, without a speech corpus. The words are spoken by a
formant synthesiser, so a model trained on them learns espeak-ng's voices; how far that carries
to human speech is checked elsewhere against the real recordings in ../shared (TFLM's
micro_speech yes/no WAVs), not here.

How a clip is made:
- speech: espeak-ng (Debian package espeak-ng; `apt-get install espeak-ng`) speaks one word,
  `espeak-ng --stdout -v VOICE -p PITCH -s SPEED -a 100 WORD`, 16-bit mono at 22050 Hz. Voices are
  an English accent with a voice variant, e.g. en-us+f2 or en-gb-scotland+m3 (variants m1-m8, f1-f5
  change formants, pitch range and breathiness); pitch 20-80 (of 0-99), speed 120-220 words/min;
- resampling to 16 kHz in NumPy (sox is not used): the clip is zero-padded, transformed with one
  real FFT, cut at 7.6-8 kHz with a cosine taper, and transformed back at 320/441 of its length;
- level: the word's peak at -24 to -1 dBFS (before the microphone; a word spoken close to it nearly clips);
- background: seeded noise mixed at a signal-to-noise ratio of 5-30 dB (speech RMS over the word
  against noise RMS, both as they reach the microphone), of one kind: white (sensor/preamp
  hiss), pink (room, 1/f), brown (traffic rumble, 1/f^2), hum (50 or 60 Hz mains and its
  harmonics over a pink floor) or fan (noise below 1-2 kHz plus a 100-300 Hz blade tone); one
  clip in ten is nearly clean (noise at -100 to -75 dBFS);
- timing: the word starts at a random offset inside the 1 s clip and ends inside it (20 ms margin);
- the microphone: a small MEMS microphone's response on the mix, a first-order high-pass at
  60-200 Hz and a gentle roll-off from 5-7.5 kHz (an FFT mask drawn per clip);
- output: 16-bit PCM, rounded (no dither).
Classes as in micro_speech: silence (background noise only, through the microphone: -75 to -35
dBFS RMS, or for 3 clips in 10 a quiet room near the microphone's own noise floor, -100 to -75 dBFS,
where a real quiet room sits: TFLM's silence_1000ms.wav is -84 dBFS), unknown (one of the other words of the Speech Commands set: go, stop, left, right,
up, down, on, off, zero-nine, cat, dog, bird, bed, house, tree, wow, happy, marvin, sheila, learn,
follow, forward, backward, visual), yes, no.

Outputs:
- --train: data/train/<class>/NNNN.wav, 1 s clips (16 kHz mono 16-bit), 250 per class by
  default (--per-class), and data/train/index.csv describing each (word, voice, pitch, speed,
  level, noise, SNR, the word's extent in samples); made in parallel (--jobs, 2), not committed;
- default: data/test.wav (37 s) holding 14 words (yes x5, no x5, unknown x4) at known times,
  1.5-3 s apart, over a background that changes from a quiet room (-62 dBFS) to an office with
  mains hum (-50 dBFS) to a fan (-40 dBFS), SNR 18-46 dB; spoken by voices held out of training
  (accents en-029, en-us-nyc, en-gb-x-gbcwmd with variants m7, m8, f5: no accent and no variant
  of the test occurs in training), pitch and speed inside training's ranges; data/words.json, the
  ground truth: each word's label, text, voice, start and end (sample, exclusive end, and seconds:
  where the clean word's 10 ms frame RMS is within 35 dB of its loudest frame) and SNR (speech RMS
  over the background's, where they reach the microphone).
Deterministic from the seed: each clip draws from its own seeded generator, and espeak-ng says the
same thing for the same arguments.

Run: python samples/keyword/make_data.py [--train] [--per-class N] [--check]
"""
from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import wave
from multiprocessing import Pool
from pathlib import Path

import numpy as np

RATE_HZ = 16000
CLIP = RATE_HZ                      # 1 s
CLASSES = ["silence", "unknown", "yes", "no"]
UNKNOWN_WORDS = ["go", "stop", "left", "right", "up", "down", "on", "off", "zero", "one", "two", "three",
                 "four", "five", "six", "seven", "eight", "nine", "cat", "dog", "bird", "bed", "house", "tree",
                 "wow", "happy", "marvin", "sheila", "learn", "follow", "forward", "backward", "visual"]
TRAIN_ACCENTS = ["en", "en-us", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan"]
TRAIN_VARIANTS = ["", "m1", "m2", "m3", "m4", "m5", "m6", "f1", "f2", "f3", "f4"]
TEST_ACCENTS = ["en-029", "en-us-nyc", "en-gb-x-gbcwmd"]
TEST_VARIANTS = ["m7", "m8", "f5"]
PITCH = (20, 80)
SPEED = (120, 220)
NOISES = ["white", "pink", "brown", "hum", "fan"]
SEED = 20261125
MARGIN = int(0.02 * RATE_HZ)
# Backgrounds: a room, -75 to -35 dBFS RMS; and a quiet room near the microphone's own noise floor
# (a MEMS microphone such as the MP34DT05, -26 dBFS sensitivity and 64 dB SNR, hisses at about -90
# dBFS), down to digital near-zero (-100 dBFS is 0.3 LSB RMS: mostly 0 after rounding).
ROOM_DBFS = (-75.0, -35.0)
QUIET_DBFS = (-100.0, -75.0)
QUIET_SHARE = 0.3                   # of the silence clips
ACTIVE_DB = 35.0                    # a word is where its 10 ms frame RMS is within this of its loudest

# The test recording: (label, word) in order; a new voice for each, cycling through the held-out ones.
TEST_WORDS = [("yes", "yes"), ("no", "no"), ("unknown", "go"), ("yes", "yes"), ("no", "no"),
              ("unknown", "stop"), ("no", "no"), ("yes", "yes"), ("unknown", "left"), ("yes", "yes"),
              ("no", "no"), ("unknown", "house"), ("no", "no"), ("yes", "yes")]
TEST_LEAD_S = 1.0                   # background before the first word
TEST_TAIL_S = 1.5                   # and after the last
TEST_GAP_S = (1.5, 3.0)


def espeak(word: str, voice: str, pitch: int, speed: int) -> np.ndarray:
    """The word as float samples at 16 kHz (espeak-ng's 22050 Hz output resampled)."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SystemExit("espeak-ng is not installed: apt-get install espeak-ng")
    out = subprocess.run([exe, "--stdout", "-v", voice, "-p", str(pitch), "-s", str(speed), "-a", "100", word],
                         capture_output=True, check=True).stdout
    # A streamed WAV: its size fields are placeholders, so find the data chunk and read to the end.
    rate = int.from_bytes(out[24:28], "little")
    start = out.index(b"data") + 8
    pcm = np.frombuffer(out[start:start + (len(out) - start) // 2 * 2], "<i2").astype(np.float64) / 32768
    return resample(pcm, rate, RATE_HZ)


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Band-limited resampling by one FFT (rates in a small integer ratio, e.g. 22050 -> 16000)."""
    if rate_in == rate_out:
        return x
    g = np.gcd(rate_in, rate_out)
    up, down = rate_out // g, rate_in // g
    n = (len(x) + 2048 + down - 1) // down * down          # zero padding: no wrap-around
    m = n // down * up
    spec = np.fft.rfft(x, n)
    f = np.fft.rfftfreq(m, 1 / rate_out)
    nyq = min(rate_in, rate_out) / 2
    taper = np.clip((nyq - f) / (0.05 * nyq), 0.0, 1.0)
    taper = 0.5 - 0.5 * np.cos(np.pi * taper)
    keep = min(len(spec), len(f))
    out_spec = np.zeros(len(f), complex)
    out_spec[:keep] = spec[:keep] * taper[:keep]
    y = np.fft.irfft(out_spec, m) * (m / n)
    return y[: int(round(len(x) * up / down))]


def active_extent(x: np.ndarray) -> tuple[int, int]:
    """[start, end) of the word: 10 ms frames within ACTIVE_DB of the loudest one."""
    frame = RATE_HZ // 100
    k = len(x) // frame
    rms = np.sqrt(np.mean(x[: k * frame].reshape(k, frame) ** 2, axis=1)) + 1e-12
    on = np.nonzero(20 * np.log10(rms / rms.max()) > -ACTIVE_DB)[0]
    return int(on[0] * frame), int(min(len(x), (on[-1] + 1) * frame))


def microphone(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A MEMS microphone's response: first-order high-pass at 60-200 Hz, roll-off from 5-7.5 kHz."""
    n = len(x) + 1024
    f = np.fft.rfftfreq(n, 1 / RATE_HZ)
    fc = rng.uniform(60, 200)
    hp = (1j * f / fc) / (1 + 1j * f / fc)
    lp = 1 / (1 + (f / rng.uniform(5000, 7500)) ** 4)
    return np.fft.irfft(np.fft.rfft(x, n) * hp * lp, n)[: len(x)]


def noise(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """n samples of background noise of unit RMS."""
    f = np.fft.rfftfreq(n, 1 / RATE_HZ)
    f[0] = f[1]
    spec = np.fft.rfft(rng.normal(0.0, 1.0, n))
    t = np.arange(n) / RATE_HZ
    if kind == "white":
        x = np.fft.irfft(spec, n)
    elif kind == "pink":
        x = np.fft.irfft(spec / np.sqrt(f), n)
    elif kind == "brown":
        x = np.fft.irfft(spec / np.maximum(f, 20.0), n)
    elif kind == "hum":
        floor = np.fft.irfft(spec / np.sqrt(f), n)
        mains = rng.choice([50.0, 60.0]) * rng.uniform(0.998, 1.002)
        hum = sum(rng.uniform(0.2, 1.0) / h * np.sin(2 * np.pi * h * mains * t + rng.uniform(0, 2 * np.pi))
                  for h in range(1, 6))
        x = hum / np.sqrt(np.mean(hum ** 2)) + 0.5 * floor / np.sqrt(np.mean(floor ** 2))
    elif kind == "fan":
        cut = rng.uniform(1000, 2000)
        body = np.fft.irfft(spec / np.sqrt(f) / (1 + (f / cut) ** 2), n)
        blade = np.sin(2 * np.pi * rng.uniform(100, 300) * t + rng.uniform(0, 2 * np.pi))
        x = body / np.sqrt(np.mean(body ** 2)) + 0.4 * blade
    else:
        raise ValueError(kind)
    return x / np.sqrt(np.mean(x ** 2))


def db(x: float) -> float:
    return 10 ** (x / 20)


def to_pcm(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 32767), -32768, 32767).astype("<i2")


def write_wav(path: Path, pcm: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE_HZ)
        w.writeframes(pcm.tobytes())


def clip_spec(label: str, index: int, seed: int) -> dict:
    """Everything one training clip is made of, drawn from its own generator."""
    rng = np.random.default_rng([seed, CLASSES.index(label), index])
    spec = {"label": label, "index": index, "seed": [seed, CLASSES.index(label), index],
            "noise": str(rng.choice(NOISES))}
    if label == "silence":
        quiet = rng.uniform() < QUIET_SHARE
        spec.update(word="", noise_dbfs=round(float(rng.uniform(*(QUIET_DBFS if quiet else ROOM_DBFS))), 1))
        return spec
    accent = str(rng.choice(TRAIN_ACCENTS))
    variant = str(rng.choice(TRAIN_VARIANTS))
    clean = rng.uniform() < 0.1
    spec.update(word=label if label in ("yes", "no") else str(rng.choice(UNKNOWN_WORDS)),
                voice=accent + (f"+{variant}" if variant else ""), pitch=int(rng.integers(PITCH[0], PITCH[1] + 1)),
                speed=int(rng.integers(SPEED[0], SPEED[1] + 1)), peak_dbfs=round(float(rng.uniform(-24, -1)), 1),
                snr_db=None if clean else round(float(rng.uniform(5, 30)), 1), position=float(rng.uniform()))
    if clean:
        spec.update(noise_dbfs=round(float(rng.uniform(*QUIET_DBFS)), 1))
    return spec


def make_clip(spec: dict) -> tuple[np.ndarray, int, int]:
    """The 1 s clip (float) and the word's [start, end) in it (0, 0 for silence)."""
    rng = np.random.default_rng(spec["seed"] + [1])
    bg = noise(spec["noise"], CLIP, rng)
    if spec["label"] == "silence":
        return microphone(bg * db(spec["noise_dbfs"]), rng), 0, 0
    word = espeak(spec["word"], spec["voice"], spec["pitch"], spec["speed"])
    s, e = active_extent(word)
    word = word[s:e]
    if len(word) > CLIP - 2 * MARGIN:            # never at these speeds; keep the clip 1 s regardless
        word = word[: CLIP - 2 * MARGIN]
    word *= db(spec["peak_dbfs"]) / np.abs(word).max()
    start = MARGIN + int(spec["position"] * (CLIP - 2 * MARGIN - len(word)))
    speech_rms = np.sqrt(np.mean(word ** 2))
    level = db(spec["noise_dbfs"]) if spec["snr_db"] is None else speech_rms / db(spec["snr_db"])
    x = bg * level
    x[start:start + len(word)] += word
    return microphone(x, rng), start, start + len(word)


def _train_one(args: tuple[dict, str]) -> dict:
    spec, path = args
    x, s, e = make_clip(spec)
    write_wav(Path(path), to_pcm(x))
    return {**spec, "start_sample": s, "end_sample": e}


def write_train(out: Path, per_class: int, seed: int, jobs: int) -> None:
    root = out / "train"
    work = []
    for label in CLASSES:
        (root / label).mkdir(parents=True, exist_ok=True)
        for old in (root / label).glob("*.wav"):
            old.unlink()
        work += [(clip_spec(label, i, seed), str(root / label / f"{i:04d}.wav")) for i in range(per_class)]
    if jobs > 1:
        with Pool(jobs) as pool:
            rows = pool.map(_train_one, work, chunksize=8)
    else:
        rows = [_train_one(w) for w in work]
    fields = ["file", "label", "word", "voice", "pitch", "speed", "peak_dbfs", "noise", "snr_db", "noise_dbfs",
              "start_sample", "end_sample"]
    with open(root / "index.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fields, lineterminator="\n", extrasaction="ignore")
        w.writeheader()
        for row, (_, path) in zip(rows, work):
            w.writerow({**row, "file": str(Path(path).relative_to(root))})


def test_recording(seed: int = SEED) -> tuple[np.ndarray, list[dict]]:
    """The test recording (float) and its words: held-out voices over a changing background."""
    rng = np.random.default_rng(seed)
    voices = [f"{a}+{v}" for v in TEST_VARIANTS for a in TEST_ACCENTS]
    rng.shuffle(voices)
    words, clips = [], []
    at = int(TEST_LEAD_S * RATE_HZ)
    for k, (label, text) in enumerate(TEST_WORDS):
        voice = voices[k % len(voices)]
        pitch = int(rng.integers(30, 71))
        speed = int(rng.integers(140, 191))
        w = espeak(text, voice, pitch, speed)
        s, e = active_extent(w)
        w = w[s:e] * db(rng.uniform(-12, -4)) / np.abs(w[s:e]).max()
        clips.append((at, w))
        words.append({"label": label, "word": text, "voice": voice, "pitch": pitch, "speed": speed,
                      "start_sample": at, "end_sample": at + len(w)})
        at += len(w) + int(rng.uniform(*TEST_GAP_S) * RATE_HZ)
    n = words[-1]["end_sample"] + int(TEST_TAIL_S * RATE_HZ)
    # Background: a quiet room (pink, -62 dBFS), an office (mains hum over pink, -50 dBFS), a fan
    # (-40 dBFS), crossfading over 1 s at a third and two thirds of the recording.
    parts = [noise("pink", n, rng) * db(-62), noise("hum", n, rng) * db(-50), noise("fan", n, rng) * db(-40)]
    edges = [n // 3, 2 * n // 3]
    t = np.arange(n)
    w1 = np.clip((t - edges[0]) / RATE_HZ + 0.5, 0, 1)
    w2 = np.clip((t - edges[1]) / RATE_HZ + 0.5, 0, 1)
    bg = parts[0] * (1 - w1) + parts[1] * (w1 - w2) + parts[2] * w2
    x = bg.copy()
    for (at, w), word in zip(clips, words):
        x[at:at + len(w)] += w
        seg = bg[at:at + len(w)]
        word["snr_db"] = round(float(20 * np.log10(np.sqrt(np.mean(w ** 2)) / np.sqrt(np.mean(seg ** 2)))), 1)
    x = microphone(x, rng)                      # one microphone for the whole recording
    for word in words:
        word["start_s"] = round(word["start_sample"] / RATE_HZ, 4)
        word["end_s"] = round(word["end_sample"] / RATE_HZ, 4)
    return x, words


def self_check(path: Path, truth: dict) -> bool:
    """Print each word's loudest 20 ms frame against the background around it (0.3-1 s away from
    any word); True when every word stands 10 dB or more above it."""
    with wave.open(str(path)) as w:
        x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(float) / 32768
    frame = RATE_HZ // 50
    k = len(x) // frame
    rms = np.sqrt(np.mean(x[: k * frame].reshape(k, frame) ** 2, axis=1)) + 1e-9
    centre = (np.arange(k) + 0.5) * frame
    near = np.zeros(k, bool)
    for wd in truth["words"]:
        near |= (centre > wd["start_sample"] - 0.3 * RATE_HZ) & (centre < wd["end_sample"] + 0.3 * RATE_HZ)
    ok = True
    print(f"keyword self-check: {path.name} {len(x) / RATE_HZ:.1f} s, {len(truth['words'])} words")
    for wd in truth["words"]:
        inside = (centre >= wd["start_sample"]) & (centre < wd["end_sample"])
        around = ~near & (np.abs(centre - (wd["start_sample"] + wd["end_sample"]) / 2) < 2 * RATE_HZ)
        peak = 20 * np.log10(rms[inside].max())
        bg = 20 * np.log10(np.median(rms[around]))
        ok &= peak - bg >= 10
        print(f"  {wd['start_s']:7.3f}-{wd['end_s']:7.3f} s {wd['label']:8s} {wd['word']:6s} {wd['voice']:18s} "
              f"peak frame {peak:6.1f} dBFS, background {bg:6.1f} dBFS, SNR {wd['snr_db']:5.1f} dB")
    print("  " + ("OK: every word well above the background" if ok else "FAILED"))
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--train", action="store_true", help="also write data/train/<class>/NNNN.wav (not committed)")
    ap.add_argument("--per-class", type=int, default=250, help="training clips per class (250)")
    ap.add_argument("--jobs", type=int, default=2, help="processes making training clips (2)")
    ap.add_argument("--check", action="store_true", help="print each test word's level against the background")
    args = ap.parse_args()
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed: apt-get install espeak-ng", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    x, words = test_recording(args.seed)
    write_wav(args.out / "test.wav", to_pcm(x))
    truth = {"rate_hz": RATE_HZ, "seed": args.seed, "samples": len(x), "seconds": round(len(x) / RATE_HZ, 4),
             "labels": CLASSES, "held_out": {"accents": TEST_ACCENTS, "variants": TEST_VARIANTS},
             "note": "end_sample is exclusive; a word spans its 10 ms frames within 35 dB of its loudest",
             "words": words}
    (args.out / "words.json").write_text(json.dumps(truth, indent=2) + "\n")
    if args.train:
        write_train(args.out, args.per_class, args.seed, args.jobs)
    if args.check:
        return 0 if self_check(args.out / "test.wav", truth) else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
