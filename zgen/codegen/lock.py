"""An app's generation state: zgen.lock, the last generated version of every file, and the
journal of an update in progress.

zgen.lock records what the app was generated from and the hash of every file as zgen last
generated it; .zgen/base/ keeps those versions themselves, the base of the three-way merge that
carries a user's edits into a regenerated file. An update is staged in .zgen/txn/ and committed by
one atomic rename of its journal; `recover` (run before anything reads the app) rolls a committed
update forward and throws an uncommitted one away, so a killed `zgen new` leaves the old app or
the new one, never a mix.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

LOCK_NAME = "zgen.lock"
STATE_DIR = ".zgen"
BASE_DIR = f"{STATE_DIR}/base"
TXN_DIR = f"{STATE_DIR}/txn"
JOURNAL = "journal.json"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Lock:
    version: str
    manifest: str  # path of the manifest, relative to the app
    inputs: dict[str, str] = field(default_factory=dict)  # role -> sha256
    files: dict[str, str] = field(default_factory=dict)  # app-relative path -> sha256 of zgen's version
    allow: list[str] = field(default_factory=list)  # folders outside the manifest's the user allowed

    def dumps(self) -> str:
        d = {"zgen": self.version, "manifest": self.manifest, "inputs": self.inputs}
        if self.allow:
            d["allow"] = self.allow
        return json.dumps({**d, "files": dict(sorted(self.files.items()))}, indent=2) + "\n"

    @classmethod
    def read(cls, app: Path) -> "Lock | None":
        """The app's lock, after finishing or discarding an interrupted update."""
        recover(app)
        return cls.parse(Path(app) / LOCK_NAME)

    @classmethod
    def parse(cls, path: Path) -> "Lock | None":
        """A lock file as it is (None when there is none)."""
        if not path.is_file():
            return None
        d = json.loads(path.read_text())
        return cls(d["zgen"], d["manifest"], d.get("inputs", {}), d.get("files", {}), d.get("allow", []))


def base_path(rel: str) -> str:
    """Where the app keeps zgen's last version of `rel`: named apart, so that no tool (twister
    looking for sample.yaml, a glob of src/*.c) takes it for the file itself."""
    return f"{BASE_DIR}/{rel}.base"


def base_version(app: Path, rel: str, lock: Lock | None) -> bytes | None:
    """zgen's last generated version of `rel`, if the app kept it and it matches the lock."""
    if lock is None or rel not in lock.files:
        return None
    path = Path(app) / base_path(rel)
    if not path.is_file():
        return None  # an app generated before zgen kept its bases
    data = path.read_bytes()
    return data if sha256(data) == lock.files[rel] else None


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def recover(app: Path) -> str | None:
    """Finish or discard an update a killed zgen left in `app`: "completed", "discarded" or None."""
    txn = Path(app) / TXN_DIR
    if not txn.is_dir():
        return None
    journal = txn / JOURNAL
    outcome = "discarded"
    if journal.is_file():
        ops = json.loads(journal.read_text())
        for rel in ops["replace"]:  # in order; zgen.lock last
            staged = txn / "files" / rel
            if staged.exists():  # not yet renamed when zgen was killed
                (Path(app) / rel).parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged, Path(app) / rel)
        for rel in ops["remove"]:
            (Path(app) / rel).unlink(missing_ok=True)
        outcome = "completed"
    shutil.rmtree(txn)
    return outcome
