"""The audio front end of TFLM's micro_speech example as a feature step
(lib/zgen/src/zgen_afe.c; tables from zgen.steps.audio_frontend)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zgen.steps import KIND, CStep, Shape, Step, StepError


@dataclass(frozen=True)
class AudioFrontend(Step):
    def lower(self, p, shape: Shape):
        from zgen.steps import audio_frontend as afe

        if shape.domain != "time" or shape.channels != 1:
            raise StepError("audio_frontend takes one channel of audio samples",
                            "use it first, on a microphone sensor")
        rate = int(round(shape.row_hz))
        kw = {k: v for k, v in p.items()}
        upper, lower = kw.get("upper_hz", 7500.0), kw.get("lower_hz", 125.0)
        if upper > rate / 2:
            raise StepError(f"audio_frontend: upper_hz {upper:g} is above half the {rate} Hz sampling rate",
                            f"set upper_hz to at most {rate / 2:g}, or sample faster", "upper_hz")
        if lower >= upper:
            raise StepError(f"audio_frontend: lower_hz {lower:g} is not below upper_hz {upper:g}",
                            "give lower_hz < upper_hz", "lower_hz")
        try:
            args, tables = afe.describe(sample_rate=rate, **kw)
        except ValueError as e:
            raise StepError(f"audio_frontend: {e}", "use the front end's documented parameter ranges") from None
        frame = int(args[afe.ARG_FRAME_LEN])
        if shape.rows != frame:
            raise StepError(f"audio_frontend's window is {frame} samples ({kw.get('window_ms', 30)} ms at {rate} Hz), "
                            f"but each frame holds {shape.rows}",
                            f"set frames.length_ms to the front end's window_ms")
        channels = kw.get("channels", 40)
        if shape.rows * 4 < channels * 5:
            raise StepError("audio_frontend: the frame is shorter than its output", "use a longer frame")
        words = afe.STATE_WORDS(args)
        scratch_bytes = afe.SCRATCH_BYTES(args)
        # The step's scratch: the int16 frame, then the front end's own.
        scratch = (shape.rows + 1) // 2 + (scratch_bytes + 3) // 4
        tables = tuple(np.ascontiguousarray(t) for t in tables)
        return ([CStep(KIND["audio_frontend"], args=tuple(int(a) for a in args), tables=tables,
                       state_words=words, scratch=scratch)],
                shape.to(rows=channels, channels=1, domain="codes", row_hz=0.0))


STEPS = [
    AudioFrontend(
        "audio_frontend",
        "TFLM micro_speech's audio front end, fixed point: a 30 ms Hann window every hop, FFT, 40 filter-bank "
        "channels from 125 to 7500 Hz, noise reduction, PCAN gain control and log, as int8 codes the model "
        "reads in its input quantisation (exactly what the example's classifier was trained on). Use it "
        "alone, on a 16 kHz microphone with frames of 30 ms.",
        {"channels": {"type": "integer", "minimum": 1, "maximum": 64, "description": "filter-bank channels (default 40)"},
         "lower_hz": {"type": "number", "minimum": 0, "description": "lowest channel edge (default 125)"},
         "upper_hz": {"type": "number", "minimum": 0, "description": "highest channel edge (default 7500)"}},
        {"channels": 40}, "int8 [channels] per frame."),
]
