"""Writing a generated app without ever losing the user's work.

A new app is written to a temporary folder beside the target and renamed into
place, so it appears whole or not at all. An existing app is updated only after
every file has been checked against zgen.lock: files the user did not edit are
replaced, edited files stop the update (naming them) unless force is given.
Each replacement is an atomic rename of a file staged in the same filesystem.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from zgen.codegen.lock import LOCK_NAME, Lock, sha256
from zgen.errors import Problem, ZgenError


@dataclass
class WriteReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    overwritten_edits: list[str] = field(default_factory=list)
    kept_edits: list[str] = field(default_factory=list)  # edited, and zgen's version did not change


def _stage(files: dict[str, bytes], into: Path) -> None:
    for rel, data in files.items():
        path = into / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def write_app(app: Path, files: dict[str, bytes], lock: Lock, force: bool = False) -> WriteReport:
    app = Path(app)
    report = WriteReport()
    old = Lock.read(app) if app.exists() else None

    if app.exists() and not app.is_dir():
        raise ZgenError(Problem(str(app), None, None, "exists and is not a folder", "choose another -o folder"))
    if not app.exists() or (old is None and not any(app.iterdir())):
        app.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{app.name}.zgen-", dir=app.parent))
        try:
            _stage(files, tmp)
            lock.files = {rel: sha256(data) for rel, data in files.items()}
            (tmp / LOCK_NAME).write_text(lock.dumps())
            if app.exists():
                app.rmdir()  # empty, checked above
            os.rename(tmp, app)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        report.created = sorted(files)
        return report

    if old is None and not force:
        raise ZgenError(Problem(str(app), None, None,
                                "the folder exists, is not empty and has no zgen.lock (zgen did not generate it)",
                                "choose another -o folder, or pass --force to write into it anyway"))
    recorded = old.files if old else {}
    conflicts = []
    plan: list[tuple[str, bytes]] = []
    for rel, data in sorted(files.items()):
        path = app / rel
        current = sha256(path.read_bytes()) if path.is_file() else None
        new = sha256(data)
        if current is None:
            report.created.append(rel)
        elif current == new:
            report.unchanged.append(rel)
            continue
        elif rel in recorded and current == recorded[rel]:
            report.updated.append(rel)
        elif rel in recorded and new == recorded[rel]:
            report.kept_edits.append(rel)  # zgen's output is unchanged: the edit stays
            continue
        else:
            conflicts.append(rel)
            if not force:
                continue
            report.overwritten_edits.append(rel)
        plan.append((rel, data))
    if conflicts and not force:
        raise ZgenError([Problem(str(app / rel), None, None, "was edited since zgen generated it, and zgen's "
                                 "version changed", "move your edits elsewhere, or re-run with --force to "
                                 "overwrite (nothing was written)") for rel in conflicts])
    for rel in sorted(set(recorded) - set(files)):
        path = app / rel
        if path.is_file() and sha256(path.read_bytes()) == recorded[rel]:
            report.removed.append(rel)

    stage = Path(tempfile.mkdtemp(prefix=f".{app.name}.zgen-", dir=app.parent))
    try:
        _stage(dict(plan), stage)
        for rel, _ in plan:
            (app / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(stage / rel, app / rel)
        for rel in report.removed:
            (app / rel).unlink()
        lock.files = {rel: sha256(data) for rel, data in files.items()}
        for rel in report.kept_edits:
            lock.files[rel] = recorded[rel]  # still zgen's version as far as the lock knows
        tmp_lock = stage / LOCK_NAME
        tmp_lock.write_text(lock.dumps())
        os.replace(tmp_lock, app / LOCK_NAME)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return report
