"""One crawl of a site at a time per data directory, and a data directory a crawl can
write to.

A crawl takes `DATA/locks/crawl-<site>.lock` (created exclusively, holding the owner's
pid and host) before it starts and removes it when it ends. A second crawl of the same
site on the same archive is refused with one line naming the process that holds it,
never left to fetch the same pages twice. A lock whose process is gone (killed, the
machine rebooted) is stale and taken over. Workers sharing a crawl through a Redis
frontier do not take it: they share the work on purpose.
"""

from __future__ import annotations

import errno
import os
import socket
import uuid
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

LOCKS_DIR = "locks"


class CrawlLockedError(Exception):
    """Another live process crawls this site into this data directory."""


class DataDirError(Exception):
    """The data directory (or a folder a crawl writes in it) is not writable."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def this_process() -> str:
    """This process as a lock file and a crawl run name it: "pid host"."""
    return f"{os.getpid()} {socket.gethostname()}"


def process_gone(owner: str) -> bool:
    """Whether `owner` ("pid host") is a process of this host that no longer runs: its
    lock would be taken over as stale. A process of another host, or an unreadable
    owner, is never taken for gone."""
    pid, _, host = owner.strip().partition(" ")
    try:
        number = int(pid)
    except ValueError:
        return False
    return host == socket.gethostname() and not _alive(number)


def _owner(path: Path) -> tuple[int, str] | None:
    try:
        pid, _, host = path.read_text(encoding="utf-8").strip().partition(" ")
        return int(pid), host
    except (OSError, ValueError):
        return None


def lock_path(data_dir: Path, site: str) -> Path:
    return data_dir / LOCKS_DIR / f"crawl-{site}.lock"


@contextmanager
def crawl_lock(data_dir: Path, site: str) -> Iterator[Path]:
    """Hold the site's crawl lock for the block; CrawlLockedError when a live process has it."""
    path = lock_path(data_dir, site)
    path.parent.mkdir(parents=True, exist_ok=True)
    me = f"{os.getpid()} {socket.gethostname()}\n"
    for _ in range(3):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            owner = _owner(path)
            if owner is not None and (owner[1] != socket.gethostname() or _alive(owner[0])):
                where = "" if owner[1] == socket.gethostname() else f" on {owner[1]}"
                raise CrawlLockedError(
                    f"site {site!r} is being crawled into {data_dir} by process "
                    f"{owner[0]}{where} (lock {path}); wait for it to finish or stop it"
                ) from None
            # Stale (its process is gone) or half-written: take it over, atomically.
            stale = path.with_name(f".{path.name}.{uuid.uuid4().hex}.stale")
            try:
                path.rename(stale)
                stale.unlink()
            except FileNotFoundError:
                pass  # another process took it over first; try again
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(me)
        break
    else:
        raise CrawlLockedError(f"cannot take the crawl lock {path}; try again")
    try:
        yield path
    finally:
        if _owner(path) == (os.getpid(), socket.gethostname()):
            path.unlink(missing_ok=True)


@contextmanager
def crawl_locks(data_dir: Path, sites: Iterable[str]) -> Iterator[None]:
    """The crawl locks of several sites, all or none."""
    with ExitStack() as stack:
        for site in sites:
            stack.enter_context(crawl_lock(data_dir, site))
        yield


def check_writable(folders: Iterable[Path]) -> None:
    """Create each folder a crawl writes to and write a probe file in it: a crawl that
    could store nothing must not start. DataDirError names the folder and the reason."""
    for folder in folders:
        probe = folder / f".probe-{os.getpid()}-{uuid.uuid4().hex}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            reason = exc.strerror or os.strerror(exc.errno or errno.EIO)
            raise DataDirError(
                f"cannot write to {folder}: {reason}; give a writable --data-dir"
            ) from None
