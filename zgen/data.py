"""Recorded sensor data (CSV with a header row).

Values are parsed exactly as decimals into millionths, the resolution of
Zephyr's struct sensor_value, so the host and the firmware's replay source
start from the very same integers.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from zgen.errors import Problem, ZgenError

MICRO = 1_000_000
_LIMIT = (2**31 - 1) * MICRO  # val1 is an int32


@dataclass(frozen=True)
class Recording:
    path: Path
    columns: tuple[str, ...]
    micro: np.ndarray  # int64 [samples, columns]: values in millionths
    decimals: tuple[int, ...]  # per column: most digits after the point seen (max 6)

    @property
    def samples(self) -> int:
        return self.micro.shape[0]

    def replay_table(self, first: int, count: int) -> tuple[np.ndarray, int, bool]:
        """Columns first..first+count as the replay source stores them: integers scaled by the
        block's decimals (exact), those decimals, and whether they need int32 (else int16)."""
        micro = self.micro[:, first:first + count]
        decimals = max(self.decimals[first:first + count])
        raw = micro // 10 ** (6 - decimals)
        assert (raw * 10 ** (6 - decimals) == micro).all()
        return raw, decimals, bool(np.abs(raw).max() > 32767)

    def sensor_values(self) -> np.ndarray:
        """int32 [samples, columns, 2]: (val1, val2) as struct sensor_value holds them."""
        m = self.micro
        val1 = np.sign(m) * (np.abs(m) // MICRO)
        val2 = m - val1 * MICRO
        return np.stack([val1, val2], axis=-1).astype(np.int32)


def _col_offsets(line: str) -> list[int]:
    """1-based start column of each comma-separated field of a CSV line."""
    offsets, pos = [1], 1
    in_quote = False
    for ch in line:
        pos += 1
        if ch == '"':
            in_quote = not in_quote
        elif ch == "," and not in_quote:
            offsets.append(pos)
    return offsets


# Plain decimals the fast path takes: at most this many digits before and after the point. Then
# float64(x) * 1e6 is within 0.25 of the integer x * 1e6 (< 1e15 < 2**50, two roundings of 2**-53
# each), so rounding it gives exactly the millionths the Decimal path computes.
_FAST_INT_DIGITS = 9
_FAST_DECIMALS = 6


def _plain_values(body: list[str], width: int, index: list[int]):
    """(millionths, decimals per column) of a CSV body whose every row has `width` cells and whose
    chosen cells are all plain decimals (an optional sign, digits, an optional point and at most
    6 digits after it), parsed in C by numpy; None otherwise, and the exact per-cell path, which
    also reports any problem with its line and column, reads the file."""
    rows = [line for line in body if line.strip(", \t")]
    if not rows or any('"' in line for line in rows):
        return None
    table = np.array(rows)
    if not (np.strings.count(table, ",") == width - 1).all():
        return None
    cells = np.array(",".join(rows).split(","))
    if cells.size != len(rows) * width:
        return None
    cells = cells.reshape(len(rows), width)
    micro = np.empty((len(rows), len(index)), dtype=np.int64)
    decimals = []
    for j, i in enumerate(index):
        text = np.strings.strip(cells[:, i])
        digits = np.strings.lstrip(text, "+-")
        if (np.strings.str_len(text) - np.strings.str_len(digits) > 1).any():
            return None  # more than one sign
        point = np.strings.find(digits, ".")
        bare = np.strings.replace(digits, ".", "", 1)
        if not np.strings.isdecimal(bare).all():  # also refuses empty cells, a second point, exponents
            return None
        length = np.strings.str_len(digits)
        after = np.where(point >= 0, length - point - 1, 0)
        before = np.where(point >= 0, point, length)
        if after.max() > _FAST_DECIMALS or before.max() > _FAST_INT_DIGITS:
            return None
        micro[:, j] = np.rint(text.astype(np.float64) * 1e6).astype(np.int64)
        decimals.append(int(after.max()))
    return micro, tuple(decimals)


def load_csv(path: Path, columns: list[str]) -> Recording:
    """Read `columns` of a CSV file; every problem names file:line:col and a fix."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise ZgenError.at(name, None, None, f"not a UTF-8 text file ({e.reason})",
                           "export the recording as CSV text") from None
    lines = text.splitlines()
    try:
        first = next(csv.reader(lines[:1]), [])
    except csv.Error:
        first = []
    header = [c.strip() for c in first]
    index = [header.index(col) for col in columns if col in header]
    if len(index) == len(columns) and len(lines) > 1 and "\x00" not in text:
        fast = _plain_values(lines[1:], len(header), index)
        if fast is not None:
            return Recording(Path(path), tuple(columns), *fast)
    reader = csv.reader(lines)
    try:
        rows = list(reader)
    except csv.Error as e:  # a NUL byte, an unterminated quote at the end
        raise ZgenError.at(name, reader.line_num, None, f"unreadable CSV ({e})",
                           "export the recording as plain CSV text") from None
    if not rows or not any(c.strip() for c in rows[0]):
        raise ZgenError.at(name, 1, 1, "the CSV file has no header row",
                           "add a first line naming the columns, e.g. accel_x,accel_y,accel_z")
    header = [c.strip() for c in rows[0]]
    index = []
    problems = []
    for col in columns:
        if col not in header:
            import difflib

            close = difflib.get_close_matches(col, header, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"the file has: {', '.join(header)}"
            problems.append(Problem(name, 1, 1, f"no column '{col}' in the header",
                                    f"{hint} (or set the sensor's `columns:` in the manifest)"))
        else:
            index.append(header.index(col))
    if problems:
        raise ZgenError(problems)

    values: list[list[int]] = []
    decimals = [0] * len(columns)
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue  # blank lines separate takes in some recordings
        offsets = None
        if len(row) != len(header):
            # A cell too many or too few shifts every later column: a value read from the wrong
            # column is worse than no value.
            offsets = _col_offsets(lines[lineno - 1])
            col = (offsets[len(header)] if len(row) > len(header) and len(offsets) > len(header)
                   else len(lines[lineno - 1]) + 1)
            raise ZgenError.at(name, lineno, col,
                               f"this row has {len(row)} cells, the header has {len(header)}",
                               "give every row one cell per header column (check for a stray or missing comma)")
        out = []
        for j, i in enumerate(index):
            cell = row[i].strip() if i < len(row) else ""
            try:
                d = Decimal(cell)
                if not d.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                offsets = offsets or _col_offsets(lines[lineno - 1])
                col = offsets[i] if i < len(offsets) else len(lines[lineno - 1]) + 1
                shown = (f"'{cell}'" if cell.isprintable() else repr(cell)) if cell else "an empty cell"
                raise ZgenError.at(name, lineno, col,
                                   f"column '{columns[j]}' has {shown}, not a number",
                                   "write a decimal number such as -0.981 (no units, no blanks)") from None
            micro = int((d * MICRO).to_integral_value(ROUND_HALF_EVEN))
            if abs(micro) > _LIMIT:
                offsets = offsets or _col_offsets(lines[lineno - 1])
                raise ZgenError.at(name, lineno, offsets[i] if i < len(offsets) else 1,
                                   f"{cell} is out of range for a sensor value",
                                   "keep values within +-2147483647 (Zephyr's struct sensor_value)")
            exp = d.as_tuple().exponent
            decimals[j] = max(decimals[j], min(6, -exp if isinstance(exp, int) and exp < 0 else 0))
            out.append(micro)
        values.append(out)
    if not values:
        raise ZgenError.at(name, 2, 1, "the CSV file has a header but no data rows",
                           "record some samples, one row per sample")
    return Recording(Path(path), tuple(columns), np.array(values, dtype=np.int64), tuple(decimals))


def _wav_chunks(data: bytes, name: str):
    """(id, offset, size) of each RIFF chunk after the WAVE header."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ZgenError.at(name, None, None, "not a WAV file (no RIFF/WAVE header)",
                           "give a WAV file (16-bit PCM mono), e.g. `sox in.mp3 -b 16 -c 1 -r 16000 out.wav`")
    at = 12
    while at + 8 <= len(data):
        cid, size = data[at:at + 4], int.from_bytes(data[at + 4:at + 8], "little")
        yield cid, at + 8, min(size, len(data) - at - 8)
        at += 8 + size + (size & 1)


def load_wav(path: Path, rate_hz: float, column: str) -> Recording:
    """A 16-bit PCM mono WAV as a one-column recording: each sample is its PCM value, as the
    DMIC driver (and the replay source) hand it to the pipeline."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ZgenError.at(name, None, None, f"cannot read the WAV file ({e.strerror})", "check the path") from None
    fmt = pcm = None
    for cid, off, size in _wav_chunks(data, name):
        if cid == b"fmt " and size >= 16:
            fmt = data[off:off + 16]
        elif cid == b"data":
            pcm = data[off:off + size]
    convert = f"convert it: `sox {Path(path).name} -b 16 -e signed-integer -c 1 -r {rate_hz:g} out.wav`"
    if fmt is None or pcm is None:
        raise ZgenError.at(name, None, None, "the WAV file has no 'fmt ' or 'data' chunk (truncated?)",
                           f"re-export it as 16-bit PCM mono; {convert}")
    tag, channels, rate = (int.from_bytes(fmt[0:2], "little"), int.from_bytes(fmt[2:4], "little"),
                           int.from_bytes(fmt[4:8], "little"))
    bits = int.from_bytes(fmt[14:16], "little")
    if tag == 0xFFFE and len(fmt) >= 16:  # WAVE_FORMAT_EXTENSIBLE: the subformat decides
        tag = 1 if bits == 16 else tag
    problems = []
    if tag != 1:
        kind = {3: "32-bit float", 6: "A-law", 7: "mu-law", 0xFFFE: "extensible"}.get(tag, f"format {tag}")
        problems.append(f"{kind} samples, not PCM")
    elif bits != 16:
        problems.append(f"{bits}-bit samples, not 16-bit")
    if channels != 1:
        problems.append(f"{channels} channels, not mono")
    if rate != int(round(rate_hz)):
        problems.append(f"{rate} Hz, but the microphone's rate_hz is {rate_hz:g}")
    if problems:
        raise ZgenError.at(name, None, None, "the WAV file has " + " and ".join(problems), convert)
    n = len(pcm) // 2
    if n == 0:
        raise ZgenError.at(name, None, None, "the WAV file holds no samples", "record some audio")
    values = np.frombuffer(pcm[:2 * n], dtype="<i2").astype(np.int64) * MICRO
    return Recording(Path(path), (column,), values.reshape(n, 1), (0,))


def is_wav(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return False
    return head[:4] == b"RIFF" and head[8:12] == b"WAVE"


def load_recording(path: Path, columns: list[str], microphone_hz: float | None = None) -> Recording:
    """Recorded data: a WAV for a microphone (`microphone_hz`: its rate), CSV otherwise (a
    microphone's too, with its one column)."""
    path = Path(path)
    if is_wav(path):
        if microphone_hz is None:
            raise ZgenError.at(str(path), None, None, "a WAV file holds audio, but the manifest's sensors are not "
                               "one microphone", "give a CSV file with a header row naming the sensors' columns")
        return load_wav(path, microphone_hz, columns[0])
    if path.suffix.lower() == ".wav":
        raise ZgenError.at(str(path), None, None, "not a WAV file (no RIFF/WAVE header)",
                           "give a 16-bit PCM mono WAV file, or rename a CSV file to .csv")
    return load_csv(path, columns)
