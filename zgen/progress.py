"""Progress of long work (a first TFLM build takes 6-25 minutes on 2 cores): on a terminal one line
that updates in place, with a bar and the time left at the rate so far; elsewhere (a CI log) a
plain line at every tenth once the work has taken 2 s, so a log shows long work is alive without a
line per step, and quick work prints nothing."""
from __future__ import annotations

import sys
import time


class Progress:
    QUIET_S = 2.0  # plain lines start after this long

    def __init__(self, what: str, stream=None, width: int = 24, quiet_s: float | None = None):
        self.what = what
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.width = width
        self.start = time.monotonic()
        self.shown = -1  # the tenth last printed (plain lines)
        self.last_draw = 0.0
        self.drawn = False
        self.quiet_s = self.QUIET_S if quiet_s is None else quiet_s

    def update(self, done: int, total: int) -> None:
        if total <= 0:
            return
        done = min(done, total)
        frac = done / total
        if self.tty:
            now = time.monotonic()
            if done < total and now - self.last_draw < 0.1:
                return
            self.last_draw = now
            full = int(frac * self.width)
            bar = "#" * full + "-" * (self.width - full)
            self.stream.write(f"\r{self.what} [{bar}] {done}/{total}{self._left(frac)}\033[K")
            self.stream.flush()
            self.drawn = True
        else:
            tenth = int(frac * 10)
            if time.monotonic() - self.start < self.quiet_s and not (self.shown >= 0 and done == total):
                return
            if tenth > self.shown:
                self.shown = tenth
                self.stream.write(f"{self.what}: {done}/{total} ({tenth * 10} %){self._left(frac)}\n")
                self.stream.flush()

    def _left(self, frac: float) -> str:
        spent = time.monotonic() - self.start
        if frac <= 0.02 or frac >= 1 or spent < 3:
            return ""
        return f", about {spent * (1 - frac) / frac:.0f} s left"

    def close(self) -> None:
        if self.tty and self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
