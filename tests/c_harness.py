"""Compile lib/zgen C sources into a shared library with the host gcc and load it with ctypes,
so that tests can call kernels directly.

    lib = c_harness.build(["app_template/lib/zgen/src/zgen_afe.c"], request.config.cache.mkdir("c_harness"))

The library is named after a hash of the flags and of every source and header it may include,
so a cache directory reuses it until something changes.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import struct
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LIB = REPO / "app_template" / "lib" / "zgen"
INCLUDE = LIB / "include"

FLAGS = ["-shared", "-fPIC", "-O2", "-std=c11", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off",
         f"-I{INCLUDE}"]


def flags() -> list[str]:
    """The compile flags: SSE math on 32-bit x86 (x87 would round float math differently)."""
    out = list(FLAGS)
    if struct.calcsize("P") == 4 and platform.machine().lower() in ("i386", "i486", "i586", "i686", "x86",
                                                                     "x86_64", "amd64"):
        out += ["-msse2", "-mfpmath=sse"]
    return out


def _digest(sources: list[Path], extra: list[str]) -> str:
    h = hashlib.sha256()
    for part in flags() + extra:
        h.update(part.encode() + b"\0")
    headers = sorted(INCLUDE.rglob("*.h")) + sorted((LIB / "src").glob("*.h"))
    for path in list(sources) + headers:
        h.update(str(path).encode() + b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def build(sources: list[str | Path], directory: str | Path,
          extra_flags: list[str] | tuple[str, ...] = ()) -> ctypes.CDLL:
    """Compile `sources` (paths relative to the repository, or absolute) into one shared library
    in `directory` and load it. Raises RuntimeError with gcc's output when compiling fails."""
    gcc = shutil.which("gcc")
    if gcc is None:
        raise RuntimeError("gcc not found on PATH: the C kernels are tested through a host build")
    paths = [p if Path(p).is_absolute() else REPO / p for p in map(Path, sources)]
    for p in paths:
        if not p.is_file():
            raise FileNotFoundError(p)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    extra = list(extra_flags)
    out = directory / f"libzgen_{_digest(paths, extra)}.so"
    if not out.is_file():
        tmp = out.with_suffix(f".{os.getpid()}.tmp")
        cmd = [gcc, *flags(), *extra, "-o", str(tmp), *map(str, paths)]
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}\n{r.stdout}{r.stderr}")
        os.replace(tmp, out)
    return ctypes.CDLL(str(out))
