"""Per-URL crawl state on disk, with only the most recent entries in memory.

A crawl remembers something for every URL it meets: the fingerprints Scrapy's duplicate
filter has seen, the canonical URLs the spider has scheduled, the media pipeline's result
per image URL, the WARC writer's first capture per payload digest. Kept in Python sets and
dicts, that state grows by about 2 KB per article and a million-article crawl needs
gigabytes. Here it lives in an SQLite B-tree instead: a private temporary database by
default (SQLite deletes it when the connection closes, or the process dies), or a named
file when it must outlive the process (Scrapy's JOBDIR, for the duplicate filter). SQLite's
own page cache is capped (CACHE_KIB) and a small LRU of recent keys answers the repeats
(the same list page, logo or stock photo) without a query, so memory stays flat however
large the crawl grows; the cost is one indexed statement per new URL.

`DiskDupeFilter` is Scrapy's RFPDupeFilter (same fingerprints, same logging and stats)
over such a store: set it as DUPEFILTER_CLASS.
"""

from __future__ import annotations

import pickle
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from scrapy.dupefilters import RFPDupeFilter
from scrapy.utils.job import job_dir

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request
    from scrapy.utils.request import RequestFingerprinterProtocol

# Recent keys answered from memory (per store). Repeats in a crawl are local: a list page's
# next page, an image on consecutive articles.
DEFAULT_CACHE = 1024
# SQLite's page cache per store, in KiB (the rest of the B-tree stays on disk).
CACHE_KIB = 1024
# Writes per transaction: one commit per write would cost a journal write each.
COMMIT_EVERY = 512

_ABSENT = object()
_NO_VALUE = b""  # a set member: a key without a value


class DiskStore:
    """A set of keys, optionally with picklable values, on disk (see the module docstring).

    Keys are bytes or str (one kind per store). Thread-safe: the WARC writer thread and
    the reactor may share one."""

    def __init__(self, path: Path | str | None = None, cache: int = DEFAULT_CACHE) -> None:
        self.path = Path(path) if path is not None else None
        # "" is a private temporary database on disk, removed when the connection closes.
        self._db = sqlite3.connect(
            str(self.path) if self.path is not None else "", check_same_thread=False
        )
        self._db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        if self.path is None:
            # Scratch data: a crash loses nothing anyone will read again.
            self._db.execute("PRAGMA journal_mode = OFF")
            self._db.execute("PRAGMA synchronous = OFF")
        else:
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS entries (key BLOB PRIMARY KEY, value BLOB NOT NULL)"
            " WITHOUT ROWID"
        )
        self._db.commit()
        self._lock = threading.Lock()
        self._recent: OrderedDict[bytes, Any] = OrderedDict()
        self._cache = max(0, cache)
        self._writes = 0

    # -- set ---------------------------------------------------------------------------

    def add(self, key: bytes | str) -> bool:
        """Remember the key; True when it is new."""
        k = _key(key)
        with self._lock:
            if k in self._recent:
                self._recent.move_to_end(k)
                return False
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO entries (key, value) VALUES (?, ?)", (k, _NO_VALUE)
            )
            added = cursor.rowcount == 1
            if added:
                self._wrote()
            self._remember(k, _ABSENT)
            return added

    def update(self, keys: Iterable[bytes | str]) -> None:
        with self._lock:
            rows = ((_key(key), _NO_VALUE) for key in keys)
            self._db.executemany("INSERT OR IGNORE INTO entries (key, value) VALUES (?, ?)", rows)
            self._db.commit()
            self._writes = 0

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, bytes | str):
            return False
        with self._lock:
            return self._lookup(_key(key))[0]

    # -- mapping -----------------------------------------------------------------------

    def get(self, key: bytes | str, default: Any = None) -> Any:
        with self._lock:
            value = self._lookup(_key(key))[1]
        return default if value is _ABSENT else value

    def __getitem__(self, key: bytes | str) -> Any:
        value = self.get(key, _ABSENT)
        if value is _ABSENT:
            raise KeyError(key)
        return value

    def __setitem__(self, key: bytes | str, value: Any) -> None:
        k = _key(key)
        blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO entries (key, value) VALUES (?, ?)", (k, blob))
            self._wrote()
            self._remember(k, value)

    def setdefault(self, key: bytes | str, value: Any) -> Any:
        """The value stored for the key, storing `value` first if there is none."""
        k = _key(key)
        with self._lock:
            found = self._lookup(k)[1]
            if found is not _ABSENT:
                return found
            blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            self._db.execute("INSERT OR REPLACE INTO entries (key, value) VALUES (?, ?)", (k, blob))
            self._wrote()
            self._remember(k, value)
            return value

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM entries").fetchone()[0])

    def __iter__(self) -> Iterator[bytes]:
        with self._lock:
            keys = [row[0] for row in self._db.execute("SELECT key FROM entries")]
        return iter(keys)

    @property
    def cached(self) -> int:
        """How many entries are held in memory (at most the cache size)."""
        return len(self._recent)

    def flush(self) -> None:
        with self._lock:
            self._db.commit()
            self._writes = 0

    def close(self) -> None:
        with self._lock:
            try:
                self._db.commit()
            except sqlite3.ProgrammingError:
                return  # already closed
            self._db.close()
            self._recent.clear()

    # -- internals (lock held) ----------------------------------------------------------

    def _lookup(self, k: bytes) -> tuple[bool, Any]:
        """(whether the key is stored, its value or _ABSENT for a bare set member)."""
        if k in self._recent:
            self._recent.move_to_end(k)
            return True, self._recent[k]
        row = self._db.execute("SELECT value FROM entries WHERE key = ?", (k,)).fetchone()
        if row is None:
            return False, _ABSENT
        value = _ABSENT if row[0] == _NO_VALUE else pickle.loads(row[0])
        self._remember(k, value)
        return True, value

    def _remember(self, k: bytes, value: Any) -> None:
        if not self._cache:
            return
        self._recent[k] = value
        self._recent.move_to_end(k)
        while len(self._recent) > self._cache:
            self._recent.popitem(last=False)

    def _wrote(self) -> None:
        self._writes += 1
        if self._writes >= COMMIT_EVERY:
            self._db.commit()
            self._writes = 0


def _key(key: bytes | str) -> bytes:
    return key.encode("utf-8") if isinstance(key, str) else key


class DiskDupeFilter(RFPDupeFilter):
    """Scrapy's request-fingerprint duplicate filter with its fingerprints in a DiskStore.

    With JOBDIR the store is `JOBDIR/requests.seen.sqlite` and a resumed crawl filters what
    the stopped one had seen, as RFPDupeFilter's `requests.seen` does; without, it is a
    temporary database gone with the process. WENHUA_SEEN_CACHE sets how many recent
    fingerprints stay in memory."""

    def __init__(
        self,
        path: str | None = None,
        debug: bool = False,
        *,
        fingerprinter: RequestFingerprinterProtocol | None = None,
        cache: int = DEFAULT_CACHE,
    ) -> None:
        # No path for the parent: it would load every fingerprint into its own set.
        super().__init__(None, debug, fingerprinter=fingerprinter)
        self.store = DiskStore(Path(path, "requests.seen.sqlite") if path else None, cache)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        return cls(
            job_dir(settings),
            settings.getbool("DUPEFILTER_DEBUG"),
            fingerprinter=crawler.request_fingerprinter,
            cache=settings.getint("WENHUA_SEEN_CACHE", DEFAULT_CACHE),
        )

    def request_seen(self, request: Request) -> bool:
        return not self.store.add(self._fingerprint(request))

    def close(self, reason: str) -> None:
        self.store.close()
        super().close(reason)
