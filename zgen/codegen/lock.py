"""zgen.lock: what an app was generated from and the hash of every file written,
so that regeneration can tell the user's edits from zgen's own output."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

LOCK_NAME = "zgen.lock"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Lock:
    version: str
    manifest: str  # path of the manifest, relative to the app
    inputs: dict[str, str] = field(default_factory=dict)  # role -> sha256
    files: dict[str, str] = field(default_factory=dict)  # app-relative path -> sha256

    def dumps(self) -> str:
        return json.dumps({"zgen": self.version, "manifest": self.manifest, "inputs": self.inputs,
                           "files": dict(sorted(self.files.items()))}, indent=2) + "\n"

    @classmethod
    def read(cls, app: Path) -> "Lock | None":
        path = Path(app) / LOCK_NAME
        if not path.is_file():
            return None
        d = json.loads(path.read_text())
        return cls(d["zgen"], d["manifest"], d.get("inputs", {}), d.get("files", {}))
