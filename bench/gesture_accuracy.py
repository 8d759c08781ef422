#!/usr/bin/env python3
"""Gesture accuracy of `zgen train` on the Arduino punch / upper-cut recordings
(../shared/reference): 5-fold cross-validated float accuracy, and held-out
accuracy of the float and the int8 model (run as the firmware runs it), with
their agreement. Needs the [tf] extra. Writes bench/out/gesture_cnn.*.

Run: python bench/gesture_accuracy.py
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The manifest reads the recordings in place and writes the model to bench/out: both outside its
# folder, allowed here explicitly.
os.environ["ZGEN_ALLOW_PATH"] = os.pathsep.join([str(HERE.parents[1] / "shared" / "reference"), str(HERE / "out")])


def main() -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    from zgen.model.train import train

    r = train(HERE / "gesture" / "gesture_train.yaml")
    m = r.metrics
    cv = m["cv_float_accuracy"]
    print()
    print(f"| windows | held out | {cv['folds']}-fold CV float | held-out float | held-out int8 | int8 = float |")
    print("|---|---|---|---|---|---|")
    print(f"| {r.windows} | {r.validation_windows} | {cv['mean']:.3f} | {m['float_accuracy']:.3f} | "
          f"{m['int8_accuracy']:.3f} | {m['int8_float_agreement']:.1%} |")
    return 0 if m["int8_accuracy"] >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
