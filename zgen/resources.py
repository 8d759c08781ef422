"""Where the package's data lives: the repository (source checkout, editable
install) or zgen/_data inside an installed wheel."""
from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    for candidate in (_PKG.parent / name, _PKG / "_data" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"zgen installation is incomplete: no '{name}' directory found")


def app_template_dir() -> Path:
    return _find("app_template")


def runtime_dir() -> Path:
    """The C runtime copied verbatim into every app as lib/zgen."""
    return app_template_dir() / "lib" / "zgen"


def boards_dir() -> Path:
    return _find("boards")


def schema_path() -> Path:
    return _PKG / "manifest" / "schema.json"
