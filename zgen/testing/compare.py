"""Comparing firmware event lines with `zgen simulate`'s, as text.

Two things may differ legitimately and are masked: the start line's arena
figures (the host interpreter's structs are 64-bit) and overrun counts (a
simulator's timing is not the host's). Overrun lines are counted and reported;
where the test data injects a stall, the overrun line `zgen simulate` predicts
must be there (its count masked).
Profile lines (CONFIG_ZGEN_PROFILE) are not event lines and are skipped.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

_ARENA = re.compile(r" arena_used=\d+ arena_size=\d+")
_OVERRUNS = re.compile(r" overruns=\d+$")
PROFILE = "zgen: profile "
_PROFILE = re.compile(r"^zgen: profile invoke_cycles=(\d+) output_crc32=([0-9a-f]{8})(?: features_cycles=(\d+))?$")


def profile(lines: list[str]) -> list[tuple[int, str]]:
    """(cycles, output CRC-32) of each inference, from a CONFIG_ZGEN_PROFILE run."""
    return [(int(m.group(1)), m.group(2)) for m in map(_PROFILE.match, lines) if m]


def feature_cycles(lines: list[str]) -> list[int]:
    """Cycles of the feature frames (or window) computed since the previous decision, per
    decision, from a CONFIG_ZGEN_PROFILE run."""
    return [int(m.group(3)) for m in map(_PROFILE.match, lines) if m and m.group(3) is not None]


@dataclass
class Comparison:
    equal: bool
    diff: str
    overruns: int


_OVERRUN_AT = re.compile(r"^zgen: t=(\d+) overrun=(\d+)$")


def normalise(lines: list[str], anchors: frozenset[int] = frozenset()) -> tuple[list[str], int]:
    """Lines as compared: arena figures and the end line's overrun count masked; overrun lines
    dropped (counted), except at an anchor (a stall the test data injects: `zgen simulate` predicts
    a line there), where the line stays with its count masked."""
    out, overruns = [], 0
    for line in lines:
        if line.startswith(PROFILE):
            continue
        m = _OVERRUN_AT.match(line)
        if m:
            overruns += int(m.group(2))
            if int(m.group(1)) in anchors:
                out.append(f"zgen: t={m.group(1)} overrun")
            continue
        out.append(_OVERRUNS.sub("", _ARENA.sub("", line)))
    return out, overruns


def compare(expected: list[str], actual: list[str], actual_name: str) -> Comparison:
    anchors = frozenset(int(m.group(1)) for m in map(_OVERRUN_AT.match, expected) if m)
    exp, _ = normalise(expected, anchors)
    act, overruns = normalise(actual, anchors)
    diff = "".join(difflib.unified_diff([x + "\n" for x in exp], [x + "\n" for x in act],
                                        fromfile="zgen simulate", tofile=actual_name))
    return Comparison(exp == act, diff, overruns)


def arena_figures(start_line: str) -> tuple[int, int] | None:
    m = re.search(r" arena_used=(\d+) arena_size=(\d+)", start_line)
    return (int(m.group(1)), int(m.group(2))) if m else None
