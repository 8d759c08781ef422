"""The C runtime under libFuzzer with AddressSanitizer and UndefinedBehaviorSanitizer, briefly
(fuzz/run.sh runs it for as long as asked; the README gives the 10-minute run's figures).

Each run builds the harness (fuzz/zgen_fuzz.c) against a sample's generated pipeline and feeds it
random programs of samples (NaN and infinities included), model outputs, read errors and
overruns. A finding (a sanitizer report, a line longer than ZGEN_LINE_MAX) fails the test.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _libfuzzer() -> bool:
    if shutil.which("clang") is None:
        return False
    probe = subprocess.run(["clang", "-fsanitize=fuzzer", "-x", "c", "-", "-o", "/dev/null"],
                           input="int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }",
                           capture_output=True, text=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _libfuzzer(), reason="no clang with libFuzzer (apt-get install clang libclang-rt-14-dev)")
@pytest.mark.parametrize("sample", ["anomaly", "keyword", "vibration"])
def test_runtime_survives_the_fuzzer(sample):
    proc = subprocess.run(["bash", "fuzz/run.sh", "8", sample], cwd=REPO, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    runs = int(next(l for l in proc.stdout.splitlines() if "number_of_executed_units" in l).split()[-1])
    assert runs > 500, proc.stdout
