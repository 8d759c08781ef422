"""Recorded sensor data (CSV with a header row).

Values are parsed exactly as decimals into millionths, the resolution of
Zephyr's struct sensor_value, so the host and the firmware's replay source
start from the very same integers.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
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
        out = np.empty(m.shape + (2,), dtype=np.int32)
        step = 4096  # samples at a time: the int64 temporaries stay small (no page faults)
        for at in range(0, len(m), step):
            part = m[at:at + step]
            val2 = np.fmod(part, MICRO)  # C's remainder: the dividend's sign, so val1 rounds toward zero
            out[at:at + step, ..., 1] = val2
            np.subtract(part, val2, out=val2)
            val2 //= MICRO
            out[at:at + step, ..., 0] = val2
        return out


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
# most 6 digits after it, no blanks or quotes. Their millionths are made from the digits in int64
# (below 10**15): exactly the Decimal path's integers, without a float in between.
_FAST_INT_DIGITS = 9
_FAST_DECIMALS = 6
_MAX_CELL = 1 + _FAST_INT_DIGITS + 1 + _FAST_DECIMALS  # sign, digits, point, decimals
# 10 ** (6 - decimals): a cell's digits as one integer times this are its millionths.
_SCALE = (10 ** (_FAST_DECIMALS - np.minimum(np.arange(_MAX_CELL + 1), _FAST_DECIMALS))).astype(np.int64)


_CHUNK = 1 << 16  # bytes of rows read at once: their arrays (~10,000 cells) stay small enough
# for the allocator to reuse (larger ones are mapped anew each time: page faults) and in the caches


def _plain_values(body, width: int, index: list[int], start: int = 0):
    """(millionths int64 [rows, len(index)], decimals per chosen column) of a CSV body (the text
    after the header line: str, or ASCII bytes from `start` on) whose every row has `width` plain
    cells; None when any row or cell is anything else (a blank line, quotes, spaces, exponents,
    more digits): then the exact per-cell path reads the file, and reports any problem with its
    line and column. Vectorised, a chunk of whole rows at a time (_plain_chunk): a large recording
    costs its bytes and the result, not a dozen arrays of its size (each new one page faults)."""
    if isinstance(body, str):  # bytes come from load_csv, their line ends already "\n"
        body = (body.replace("\r\n", "\n") if "\r" in body else body).encode("ascii", errors="replace")
    n = len(body)
    if n - start + (body[n - 1:] != b"\n") < 2:
        return None
    # room for as many rows as the bytes could hold (a row has at least 2 bytes a cell): pages of
    # it are only touched when written
    micro = np.empty(((n - start + 1) // (2 * width) + 1, width), dtype=np.int64)
    decimals = np.zeros(width, dtype=np.int8)
    done = 0
    while start < n:
        end = body.find(b"\n", min(start + _CHUNK, n) - 1) + 1 or n  # after a row's newline
        chunk = np.frombuffer(body, dtype=np.uint8, count=end - start, offset=start)
        if chunk[-1] != 10:
            chunk = np.append(chunk, np.uint8(10))  # the last row, without its newline
        part = _plain_chunk(chunk, width, micro[done:])
        if part is None:
            return None
        done += part[0]
        np.maximum(decimals, part[1], out=decimals)
        start = end
    micro = micro[:done]
    if list(index) != list(range(width)):
        micro = np.ascontiguousarray(micro[:, index])
    return micro, tuple(int(decimals[i]) for i in index)


def _plain_chunk(b: np.ndarray, width: int, out: np.ndarray):
    """Read whole rows of plain cells (`b` ends with a newline) into out[:rows]: (rows, most
    decimals per column), or None. One pass over the bytes finds the cells, then one pass per
    character position reads all cells at once (a plain cell has at most _MAX_CELL characters)."""
    delimiter = b == 10
    delimiter |= b == 44
    ends = np.flatnonzero(delimiter)  # where each cell ends (its delimiter)
    rows = ends.size // width
    if ends.size != rows * width or rows > len(out):
        return None
    cell_end_is_newline = (b[ends] == 10).reshape(rows, width)
    if not cell_end_is_newline[:, -1].all() or cell_end_is_newline[:, :-1].any():
        return None  # a row with too many or too few cells
    length = np.diff(ends, prepend=-1)
    length -= 1  # characters before each delimiter, back to the one before
    longest = int(length.max())
    if longest > _MAX_CELL or length.min() == 0:
        return None  # an empty cell, or more characters than a plain decimal the fast path reads
    at = ends
    at -= length  # each cell's first character, then its next
    cells = at.size
    point = np.zeros(cells, dtype=bool)  # the point seen so far
    number = np.zeros(cells, dtype=np.int64)  # the digits so far as one integer (< 10**17)
    digits = np.zeros(cells, dtype=np.int8)
    after = np.zeros(cells, dtype=np.int8)  # of them, after the point
    for j in range(longest):  # the j-th character of every cell
        ch = b.take(at, mode="clip")
        if j:
            np.putmask(ch, length <= j, 44)  # past the cell's end: as a comma
        digit = ch - np.uint8(48)
        is_digit = digit < 10
        is_point = ch == 46
        is_sign = (ch == 43) | (ch == 45)
        if j == 0:
            negative = ch == 45
        elif is_sign.any():
            return None  # a sign not in front
        if not (is_digit | is_point | is_sign | (ch == 44) | (ch == 10)).all():
            return None  # a character a plain decimal does not have
        if (is_point & point).any():
            return None  # a second point
        point |= is_point
        number = np.where(is_digit, number * 10 + digit, number)
        digits += is_digit
        is_digit &= point
        after += is_digit
        at += 1
    if (digits == 0).any() or after.max() > _FAST_DECIMALS or (digits - after).max() > _FAST_INT_DIGITS:
        return None  # no digit (a lone sign or point), or more digits than the fast path reads
    number *= _SCALE.take(after)  # millionths
    np.negative(number, out=number, where=negative)
    out[:rows] = number.reshape(rows, width)
    return rows, [after[c::width].max() for c in range(width)]


def load_csv(path: Path, columns: list[str]) -> Recording:
    """Read `columns` of a CSV file; every problem names file:line:col and a fix."""
    name = str(path)
    raw = Path(path).read_bytes()
    if b"\r" in raw:  # universal newlines, as a text file reads
        raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if raw.isascii():  # the usual recording: the fast path reads the bytes, no text copy of them
        text = None
        cut = raw.find(b"\n")
        head = raw[:cut if cut >= 0 else len(raw)].decode("ascii")
        body, start = raw, len(head) + 1
        nul = b"\x00" in raw
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ZgenError.at(name, None, None, f"not a UTF-8 text file ({e.reason})",
                               "export the recording as CSV text") from None
        head, _, body = text.partition("\n")
        start = 0
        nul = "\x00" in text
    try:
        first = next(csv.reader(head.splitlines()[:1]), [])
    except csv.Error:
        first = []
    header = [c.strip() for c in first]
    index = [header.index(col) for col in columns if col in header]
    if len(index) == len(columns) and len(body) > start and not nul:
        fast = _plain_values(body, len(header), index, start)
        if fast is not None:
            return Recording(Path(path), tuple(columns), *fast)
    if text is None:
        text = raw.decode("ascii")
    from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

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
