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


# The fast path takes plain decimals: an optional sign, at most 9 digits, an optional point and at
# most 6 digits after it, no blanks or quotes. Their millionths are summed from the digits in
# int64 (below 10**15): exactly the Decimal path's integers, without a float in between.
_FAST_INT_DIGITS = 9
_FAST_DECIMALS = 6
_POW10 = 10 ** np.arange(_FAST_INT_DIGITS + _FAST_DECIMALS, dtype=np.int64)
_ALLOWED = np.zeros(256, dtype=bool)
_ALLOWED[np.frombuffer(b"0123456789.,+-\n", dtype=np.uint8)] = True


def _plain_values(body: str, width: int, index: list[int]):
    """(millionths int64 [rows, len(index)], decimals per chosen column) of a CSV body (the text
    after the header line) whose every row has `width` plain cells; None when any row or cell is
    anything else (a blank line, quotes, spaces, exponents, more digits): then the exact per-cell
    path reads the file, and reports any problem with its line and column. Vectorised over the
    bytes: the whole body is a handful of numpy passes."""
    text = body.replace("\r\n", "\n")
    if not text.endswith("\n"):
        text += "\n"
    b = np.frombuffer(text.encode("ascii", errors="replace"), dtype=np.uint8)
    if b.size < 2 or not _ALLOWED[b].all():
        return None
    newline = b == 10
    delimiter = newline | (b == 44)
    ends = np.flatnonzero(delimiter)  # where each cell ends (its delimiter)
    starts = np.concatenate(([0], ends[:-1] + 1))
    rows = int(newline.sum())
    if ends.size != rows * width:
        return None
    cell_end_is_newline = newline[ends].reshape(rows, width)
    if not cell_end_is_newline[:, -1].all() or cell_end_is_newline[:, :-1].any():
        return None  # a row with too many or too few cells
    digit = (b >= 48) & (b <= 57)
    dot = b == 46
    sign = (b == 43) | (b == 45)
    ndig = np.add.reduceat(digit, starts, dtype=np.int32)  # per cell (its delimiter counts none)
    ndot = np.add.reduceat(dot, starts, dtype=np.int32)
    nsign = np.add.reduceat(sign, starts, dtype=np.int32)
    if (ndig == 0).any() or (ndot > 1).any() or (nsign > 1).any() or (sign[starts] != (nsign == 1)).any():
        return None  # empty, two points, a sign not in front
    # the point's position in each cell (the cell's end when it has none)
    has_point = ndot == 1
    point = ends.copy()
    point[has_point] = np.flatnonzero(dot)  # one per cell that has one, in order
    after = ends - point - has_point
    before = point - starts - nsign
    if after.max() > _FAST_DECIMALS or before.max() > _FAST_INT_DIGITS:
        return None
    # each digit's power of ten in millionths, then the sum per cell (cells hold >= 1 digit, in order)
    at = np.flatnonzero(digit)
    p = np.repeat(point, ndig)
    power = np.where(at < p, p - at - 1 + _FAST_DECIMALS, _FAST_DECIMALS - (at - p))
    value = (b[at] - 48).astype(np.int64) * _POW10[power]
    first_digit = np.concatenate(([0], np.cumsum(ndig)[:-1]))
    micro = np.add.reduceat(value, first_digit)
    micro = np.where(b[starts] == 45, -micro, micro).reshape(rows, width)[:, index]
    decimals = after.reshape(rows, width)[:, index].max(axis=0)
    return np.ascontiguousarray(micro), tuple(int(d) for d in decimals)


def load_csv(path: Path, columns: list[str]) -> Recording:
    """Read `columns` of a CSV file; every problem names file:line:col and a fix."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise ZgenError.at(name, None, None, f"not a UTF-8 text file ({e.reason})",
                           "export the recording as CSV text") from None
    head, _, body = text.partition("\n")
    try:
        first = next(csv.reader(head.splitlines()[:1]), [])
    except csv.Error:
        first = []
    header = [c.strip() for c in first]
    index = [header.index(col) for col in columns if col in header]
    if len(index) == len(columns) and body and "\x00" not in text:
        fast = _plain_values(body, len(header), index)
        if fast is not None:
            return Recording(Path(path), tuple(columns), *fast)
    lines = text.splitlines()
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
