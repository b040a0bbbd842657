"""Raw captures on disk, content-addressed: `raw/ab/<sha256>.gz` holds the bytes exactly
as served (gzip only for space). Every article version and every failed page points
here by sha256, so what a page said can be shown even when extraction went wrong."""

from __future__ import annotations

import gzip
import os
from pathlib import Path


class RawStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.gz"

    def put(self, sha256: str, body: bytes) -> Path:
        path = self.path(sha256)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            # mtime=0: the same bytes always give the same file.
            tmp.write_bytes(gzip.compress(body, mtime=0))
            tmp.replace(path)
        return path

    def get(self, sha256: str) -> bytes:
        return gzip.decompress(self.path(sha256).read_bytes())
