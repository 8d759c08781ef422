"""Writing a generated app without ever losing the user's work.

A new app is staged in a folder beside the target and renamed into place, so it appears whole or
not at all. An existing app is updated file by file against zgen.lock and .zgen/base/ (zgen's last
generated version of each file):

- a file the user did not edit is replaced by the new generation;
- an edited file whose generated version did not change is left alone;
- an edited file whose generated version changed is merged three-way with `git merge-file` (base:
  the last generated version; ours: the user's file; theirs: the new generation). A clean merge is
  written; a conflict leaves the user's file untouched and writes FILE.zgen-new beside it, with
  conflict markers, and the update ends with exit status 1 naming both. The base stays the old
  one until the user resolves the conflict, so re-running gives the same conflict, and a resolved
  file merges cleanly.

Files given as `once` (the app's own code zgen only starts, e.g. src/zgen_callback.c) are written
when absent and never again: not recorded in the lock, never merged, replaced or removed, even
with --force.

The whole update is staged in .zgen/txn/ and committed by renaming its journal into place; see
zgen.codegen.lock.recover for what happens when zgen is killed half way.
"""
from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from zgen.codegen.lock import (JOURNAL, LOCK_NAME, TXN_DIR, Lock, base_path, base_version, fsync_file, recover,
                               sha256)
from zgen.errors import Problem, ZgenError

NEW_SUFFIX = ".zgen-new"
# Where a killed test may stop zgen: ZGEN_TEST_KILL_AT=N sends SIGKILL to zgen itself at its Nth
# step of writing (crash-safety tests only; see tests/test_regenerate.py).
_KILL_AT = "ZGEN_TEST_KILL_AT"


@dataclass
class WriteReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)            # edited, and zgen's changes merged in cleanly
    conflicts: list[str] = field(default_factory=list)         # edited; FILE.zgen-new written beside it
    overwritten_edits: list[str] = field(default_factory=list)  # --force
    kept_edits: list[str] = field(default_factory=list)        # edited, and zgen's version did not change
    kept_unused: list[str] = field(default_factory=list)       # no longer generated, but edited: left alone
    kept_yours: list[str] = field(default_factory=list)        # `once` files that exist: the user's
    recovered: str | None = None                               # an interrupted update completed or discarded
    diffs: dict[str, str] = field(default_factory=dict)        # --dry-run: what would change, per file
    warnings: list[str] = field(default_factory=list)          # said before the summary


class _Steps:
    """Counts writing steps; kills the process at the one a crash-safety test asks for."""

    def __init__(self):
        at = os.environ.get(_KILL_AT)
        self.kill_at = int(at) if at else None
        self.n = 0

    def __call__(self) -> None:
        self.n += 1
        if self.kill_at is not None and self.n == self.kill_at:
            import signal

            os.kill(os.getpid(), signal.SIGKILL)


def merge3(ours: bytes, base: bytes, theirs: bytes) -> tuple[bytes, int] | None:
    """git merge-file's merge: (result, conflicts); None when git is not installed."""
    git = shutil.which("git")
    if git is None:
        return None
    with tempfile.TemporaryDirectory(prefix="zgen-merge-") as d:
        paths = []
        for name, data in (("yours", ours), ("base", base), ("zgen", theirs)):
            p = Path(d) / name
            p.write_bytes(data)
            paths.append(str(p))
        r = subprocess.run([git, "merge-file", "-p", "-L", "your version", "-L", "last generated",
                            "-L", "zgen new", *paths], capture_output=True)
    if r.returncode < 0 or r.returncode > 127:
        raise RuntimeError(f"git merge-file failed: {r.stderr.decode(errors='replace')}")
    return r.stdout, r.returncode


def _diff(rel: str, old: bytes | None, new: bytes | None) -> str:
    a = (old or b"").decode("utf-8", errors="replace").splitlines(keepends=True)
    b = (new or b"").decode("utf-8", errors="replace").splitlines(keepends=True)
    return "".join(difflib.unified_diff(a, b, f"a/{rel}" if old is not None else "/dev/null",
                                        f"b/{rel}" if new is not None else "/dev/null"))


def _clean_stale_staging(app: Path) -> None:
    """Folders a killed first generation left beside the app (never the app itself)."""
    for stale in app.parent.glob(f".{app.name}.zgen-*"):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)


def _write(path: Path, data: bytes, sync: bool = False) -> None:
    """Write a staged file. Only the journal is fsync'ed (5 ms a file here, 0.6 s an app): the
    staged files reach the disk before their renames on ext4 (auto_da_alloc) and btrfs; a killed
    zgen never needs it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
        if sync:
            f.flush()
            os.fsync(f.fileno())


def _check_inside(app: Path, rel: str) -> None:
    """Never write through a symlink out of the app (a link the user or another tool put there)."""
    path = app / rel
    for parent in [path, *path.parents]:
        if parent == app:
            return
        if parent.is_symlink():
            raise ZgenError(Problem(str(parent), None, None, "is a symbolic link: zgen does not write through it",
                                    "replace the link with a real file or folder, or generate into another -o folder"))


def _create(app: Path, files: dict[str, bytes], lock: Lock, step: _Steps, once: dict[str, bytes]) -> WriteReport:
    app.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{app.name}.zgen-", dir=app.parent))
    try:
        for rel, data in files.items():
            _write(tmp / rel, data)
            _write(tmp / base_path(rel), data)
            step()
        for rel, data in once.items():
            _write(tmp / rel, data)
        lock.files = {rel: sha256(data) for rel, data in files.items()}
        _write(tmp / LOCK_NAME, lock.dumps().encode())
        step()
        if app.exists():
            app.rmdir()  # empty, checked by the caller
        os.rename(tmp, app)
        step()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return WriteReport(created=sorted([*files, *once]))


def write_app(app: Path, files: dict[str, bytes], lock: Lock, force: bool = False,
              dry_run: bool = False, once: dict[str, bytes] | None = None) -> WriteReport:
    app = Path(app)
    once = dict(once or {})
    step = _Steps()
    if app.is_symlink() or (app.exists() and not app.is_dir()):
        raise ZgenError(Problem(str(app), None, None, "exists and is not a folder", "choose another -o folder"))
    recovered = None
    if not dry_run:
        _clean_stale_staging(app)
        recovered = recover(app) if app.is_dir() else None
    old = Lock.read(app) if app.is_dir() and not dry_run else (_peek_lock(app) if app.is_dir() else None)
    if not app.exists() or (old is None and not any(app.iterdir())):
        if dry_run:
            both = {**files, **once}
            return WriteReport(created=sorted(both), diffs={rel: _diff(rel, None, d) for rel, d in both.items()})
        report = _create(app, files, lock, step, once)
        report.recovered = recovered
        return report
    if old is None and not force:
        raise ZgenError(Problem(str(app), None, None,
                                "the folder exists, is not empty and has no zgen.lock (zgen did not generate it)",
                                "choose another -o folder, or pass --force to write into it anyway"))
    for rel in [*files, *once]:
        _check_inside(app, rel)

    report = WriteReport(recovered=recovered)
    recorded = old.files if old else {}
    replace: dict[str, bytes] = {}   # app-relative path -> new content (app files and their bases)
    remove: list[str] = []
    new_lock = dict(recorded)
    for rel, data in sorted(files.items()):
        path = app / rel
        current = path.read_bytes() if path.is_file() else None
        base = base_version(app, rel, old)
        new_lock[rel] = sha256(data)
        next_base = data
        if current is None:
            report.created.append(rel)
            replace[rel] = data
        elif current == data:
            report.unchanged.append(rel)
        elif rel in recorded and sha256(current) == recorded[rel]:
            report.updated.append(rel)
            replace[rel] = data
        elif rel in recorded and sha256(data) == recorded[rel]:
            report.kept_edits.append(rel)  # zgen's output is unchanged: the edit stays
        elif force:
            report.overwritten_edits.append(rel)
            replace[rel] = data
        else:
            merged = merge3(current, base if base is not None else b"", data)
            if merged is not None and merged[1] == 0 and base is not None:
                report.merged.append(rel)
                replace[rel] = merged[0]
            else:
                # The user's file stays; zgen's version, merged as far as it goes, waits beside it.
                # The lock keeps the old base (or none), so the next run meets the same conflict
                # until the user resolves it, and never takes their file for zgen's.
                report.conflicts.append(rel)
                replace[rel + NEW_SUFFIX] = merged[0] if merged is not None else data
                next_base = base
                if rel in recorded:
                    new_lock[rel] = recorded[rel]
                else:
                    del new_lock[rel]
        if rel not in report.conflicts and (app / (rel + NEW_SUFFIX)).is_file():
            remove.append(rel + NEW_SUFFIX)  # an earlier conflict, now resolved
        if next_base is not None and next_base != base:
            replace[base_path(rel)] = next_base
    for rel, data in sorted(once.items()):
        if (app / rel).exists():
            report.kept_yours.append(rel)
        else:
            report.created.append(rel)
            replace[rel] = data
    for rel in sorted(set(recorded) - set(files) - set(once)):
        path = app / rel
        new_lock.pop(rel)
        remove.append(base_path(rel))
        if path.is_file() and sha256(path.read_bytes()) != recorded[rel]:
            report.kept_unused.append(rel)
        elif path.is_file():
            report.removed.append(rel)
            remove.append(rel)

    if dry_run:
        for rel in report.created + report.updated + report.merged + report.overwritten_edits:
            report.diffs[rel] = _diff(rel, (app / rel).read_bytes() if (app / rel).is_file() else None,
                                      replace[rel])
        for rel in report.conflicts:
            report.diffs[rel + NEW_SUFFIX] = _diff(rel + NEW_SUFFIX, None, replace[rel + NEW_SUFFIX])
        for rel in report.removed:
            report.diffs[rel] = _diff(rel, (app / rel).read_bytes(), None)
        return report

    lock.files = new_lock
    if not replace and not remove and (app / LOCK_NAME).read_text() == lock.dumps():
        return report
    replace[LOCK_NAME] = lock.dumps().encode()
    _commit(app, replace, remove, step)
    return report


def _peek_lock(app: Path) -> Lock | None:
    """The lock as a dry run sees it: an interrupted update counts as done, nothing is written."""
    staged = app / TXN_DIR / "files" / LOCK_NAME
    committed = (app / TXN_DIR / JOURNAL).is_file() and staged.is_file()
    return Lock.parse(staged if committed else app / LOCK_NAME)


def _commit(app: Path, replace: dict[str, bytes], remove: list[str], step: _Steps) -> None:
    """Stage every file, commit by renaming the journal into place, then apply (lock last)."""
    txn = app / TXN_DIR
    staged = txn / "files"
    order = sorted(r for r in replace if r != LOCK_NAME) + [LOCK_NAME]
    for rel in order:
        _write(staged / rel, replace[rel])
        step()
    journal = json.dumps({"replace": order, "remove": sorted(remove)}, indent=1).encode()
    _write(txn / (JOURNAL + ".tmp"), journal, sync=True)
    step()
    os.replace(txn / (JOURNAL + ".tmp"), txn / JOURNAL)  # the commit point
    fsync_file(txn)
    step()
    for rel in order:
        (app / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged / rel, app / rel)
        step()
    for rel in sorted(remove):
        (app / rel).unlink(missing_ok=True)
        step()
    (txn / JOURNAL).unlink()
    shutil.rmtree(txn)
