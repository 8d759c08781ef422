"""`zgen simulate --plot`: the recording, the score per window, the threshold and
the events, as the firmware would decide them (matplotlib, the [plot] extra)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from zgen.errors import ToolError
from zgen.manifest import Manifest
from zgen.simulate import Simulation


def plot(m: Manifest, sim: Simulation, out: Path) -> Path:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ToolError("--plot needs matplotlib: pip install 'zgen[plot]'") from None
    rec = m.recording
    t = np.arange(rec.samples) / m.rate_hz
    spectral = m.microphone is not None or any(f.kind in ("fft", "log_mel", "mfcc") for f in m.features)
    fig, axes = plt.subplots(3 if spectral else 2, 1, sharex=True, figsize=(10, 8 if spectral else 6), dpi=100)
    ax_sig, ax_score = axes[0], axes[-1]
    for i, name in enumerate(rec.columns):
        ax_sig.plot(t, rec.micro[:, i] / 1e6, lw=0.6, label=name)
    ax_sig.set_ylabel("recorded value")
    ax_sig.legend(loc="upper right", fontsize="small", ncol=min(6, len(rec.columns)))
    if spectral:  # audio and spectral pipelines: the spectrogram of the first channel
        ax_spec = axes[1]
        nfft = 1 << max(4, min(12, (m.window_length - 1).bit_length()))
        ax_spec.specgram(rec.micro[:, 0] / 1e6, NFFT=nfft, Fs=m.rate_hz, noverlap=nfft // 2, cmap="magma")
        ax_spec.set_ylabel(f"{rec.columns[0]}: Hz")
    ax_sig.set_title(f"{m.name}: {rec.path.name}")
    wt = np.array([w.t for w in sim.windows]) / m.rate_hz
    ax_score.step(wt, [w.score for w in sim.windows], where="post", label="score")
    ax_score.axhline(m.decision.threshold, color="red", ls="--", label=f"threshold {m.decision.threshold:g}")
    for w in sim.windows:
        if w.event:
            state = w.event
            for ax in (ax_sig, ax_score):
                ax.axvline(w.t / m.rate_hz, color="black", lw=0.8, alpha=0.6)
            ax_score.annotate(state, (w.t / m.rate_hz, m.decision.threshold), rotation=90, fontsize="small",
                              xytext=(3, 5), textcoords="offset points")
    if m.decision.score == "reconstruction_mse":
        ax_score.set_yscale("log")
    ax_score.set_xlabel("time (s, from the sample index)")
    ax_score.set_ylabel("score")
    ax_score.legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    out = Path(out)
    fig.savefig(out)
    plt.close(fig)
    return out
