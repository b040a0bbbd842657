"""Where the archive lives: one data directory and one database URL.

Every entry point (CLI, Scrapy settings, tests) resolves them here, so the rules are
stated once: `--data-dir` beats `WENHUA_DATA` beats `./wenhua-data`; `--db` beats
`WENHUA_DB` beats the SQLite file `archive.sqlite` inside the data directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = "wenhua-data"
SQLITE_NAME = "archive.sqlite"


@dataclass(frozen=True)
class ArchiveConfig:
    data_dir: Path
    db_url: str

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def warc_dir(self) -> Path:
        return self.data_dir / "warc"


def resolve(
    data_dir: str | os.PathLike[str] | None = None, db_url: str | None = None
) -> ArchiveConfig:
    chosen_dir = Path(data_dir or os.environ.get("WENHUA_DATA") or DEFAULT_DATA_DIR).resolve()
    url = db_url or os.environ.get("WENHUA_DB") or f"sqlite:///{chosen_dir / SQLITE_NAME}"
    return ArchiveConfig(data_dir=chosen_dir, db_url=url)
