"""The CSV loader's fast path (numpy parses plain decimals in C) gives exactly the millionths and
decimals of the exact per-cell Decimal path, on any input: plain numbers, and everything the fast
path must hand over (exponents, more than 6 decimals, huge values, blanks, quotes, ragged rows)."""
from __future__ import annotations

import pytest

from zgen import data
from zgen.errors import ZgenError

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

plain = st.builds(lambda sign, i, f: f"{sign}{i}" + (f".{f}" if f is not None else ""),
                  st.sampled_from(["", "-", "+"]), st.integers(0, 999_999_999).map(str),
                  st.one_of(st.none(), st.text("0123456789", min_size=0, max_size=6)))
odd = st.sampled_from(["1e3", "-2.5E-2", "0.0000005", "1234567890.5", "1.1234567", " 7 ", "", "nan", "\"1\"",
                       "- 1", ".", "+-1", "1.2.3", "0x10", "١"])


def _load(path, fast: bool, chunk: int | None = None):
    """(millionths, decimals) of columns c and a, or the error: by the fast path, or with it
    switched off (the exact per-cell path); `chunk` bytes of rows at a time where given."""
    saved = data._plain_values, data._CHUNK
    if chunk is not None:
        data._CHUNK = chunk
    if not fast:
        data._plain_values = lambda *a: None
    try:
        r = data.load_csv(path, ["c", "a"])
        return r.micro.tolist(), r.decimals
    except ZgenError as e:
        return str(e)
    finally:
        data._plain_values, data._CHUNK = saved


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.lists(st.one_of(plain, plain, plain, odd), min_size=3, max_size=3), min_size=1, max_size=30),
       st.booleans())
def test_fast_path_is_the_exact_path(tmp_path_factory, rows, ragged):
    body = [",".join(r) for r in rows]
    if ragged:
        body[len(body) // 2] += ",9"
    path = tmp_path_factory.mktemp("csv") / "r.csv"
    path.write_text("\n".join(["a,b,c", *body]) + "\n")

    assert _load(path, fast=True) == _load(path, fast=False)


@settings(max_examples=200, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.lists(plain, min_size=3, max_size=3), min_size=1, max_size=50))
def test_plain_files_take_the_fast_path_and_agree(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("csv") / "r.csv"
    path.write_text("\n".join(["a,b,c", *(",".join(r) for r in rows)]) + "\n")
    fast = data._plain_values("\n".join(",".join(r) for r in rows) + "\n", 3, [2, 0])
    assert fast is not None
    saved = data._plain_values
    data._plain_values = lambda *a: None
    try:
        exact = data.load_csv(path, ["c", "a"])
    finally:
        data._plain_values = saved
    assert fast[0].tolist() == exact.micro.tolist() and fast[1] == exact.decimals


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.lists(st.integers(-data._LIMIT, data._LIMIT), min_size=1, max_size=20))
def test_sensor_values_split_as_struct_sensor_value(micro):
    """val1 rounds toward zero and val2 keeps the value's sign (Zephyr's sensor_value_from_micro)."""
    import numpy as np

    r = data.Recording(None, ("a",), np.array(micro, dtype=np.int64).reshape(-1, 1), (6,))
    sv = r.sensor_values()
    assert sv.dtype == np.int32 and sv.shape == (len(micro), 1, 2)
    for m, (v1, v2) in zip(micro, sv[:, 0].tolist()):
        assert v1 == (abs(m) // 1_000_000) * (1 if m >= 0 else -1)
        assert v1 * 1_000_000 + v2 == m and abs(v2) < 1_000_000 and (v2 == 0 or (v2 > 0) == (m > 0))


@settings(max_examples=200, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.lists(st.one_of(plain, plain, plain, odd), min_size=3, max_size=3), min_size=1, max_size=30),
       st.sampled_from([1, 5, 16, 64]), st.booleans())
def test_chunked_reading_is_the_exact_path(tmp_path_factory, rows, chunk, ended):
    """A large recording is read a chunk of rows at a time: any chunk size (here a few bytes, so
    chunks end on every kind of row) gives the exact path's values, or hands over to it."""
    path = tmp_path_factory.mktemp("csv") / "r.csv"
    path.write_text("\n".join(["a,b,c", *(",".join(r) for r in rows)]) + ("\n" if ended else ""))

    assert _load(path, fast=True, chunk=chunk) == _load(path, fast=False, chunk=chunk)
