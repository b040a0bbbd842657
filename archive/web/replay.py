"""Replay of the captures as served: pywb in a child process, proxied under /replay.

pywb (the web-archiving community's replay engine) patches its process for gevent when
imported, so it cannot share the service's event loop: `ReplayServer` starts
`archive.web.pywb_child` on a free loopback port over the data directory's WARC files and
their CDXJ indexes (no copy: new crawls' files are replayable as soon as they are
indexed), and `forward` relays a request to it unchanged, with the public Host, so the
links pywb writes point back at the service. The child answers from the WARC files only.
"""

from __future__ import annotations

import importlib.util
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

import archive
from archive.captures import REPLAY_PREFIX

START_TIMEOUT = 60.0
# Runtime modules pywb needs that its own dependency pins keep out of the project's
# dependencies (README: installing replay).
NEEDED = ("pywb", "gevent", "yaml", "wsgiprox", "webassets", "portalocker", "fakeredis",
          "webencodings", "ua_parser")  # fmt: skip
INSTALL_HINT = "pip install --no-deps pywb==2.10.0 and its runtime modules (see README)"
HOP_BY_HOP = frozenset(
    ("connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
     "trailer", "trailers", "transfer-encoding", "upgrade", "host")
)  # fmt: skip


# The service sets its own Date and Server headers.
NOT_RELAYED = HOP_BY_HOP | {"date", "server"}


class ReplayUnavailable(Exception):
    """Replay cannot run here (the message says why and what to do)."""


def missing_modules() -> list[str]:
    return [name for name in NEEDED if importlib.util.find_spec(name) is None]


class ReplayServer:
    """The pywb child of one service: started once (or again, if it died), stopped with
    the service."""

    def __init__(self, warc_dir: Path, start_timeout: float = START_TIMEOUT) -> None:
        self.warc_dir = warc_dir
        self.start_timeout = start_timeout
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._base: str | None = None

    def ensure(self) -> str:
        """The child's base URL, starting it if it is not running."""
        with self._lock:
            if self._proc is not None and self._proc.poll() is None and self._base:
                return self._base
            self._stop_locked()
            return self._start_locked()

    def _start_locked(self) -> str:
        missing = missing_modules()
        if missing:
            raise ReplayUnavailable(
                f"replay needs pywb, missing module(s) {', '.join(missing)}: {INSTALL_HINT}"
            )
        if not self.warc_dir.is_dir():
            raise ReplayUnavailable(f"{self.warc_dir}: no WARC files yet (crawl first)")
        self._workdir = tempfile.TemporaryDirectory(prefix="wenhua-replay-")
        settings = Path(self._workdir.name) / "settings.json"
        settings.write_text(
            json.dumps(
                {
                    "workdir": self._workdir.name,
                    "warc_dir": str(self.warc_dir),
                    "prefix": REPLAY_PREFIX,
                }
            ),
            encoding="utf-8",
        )
        root = str(Path(archive.__file__).resolve().parents[1])
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH")))),
        }
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "archive.web.pywb_child", str(settings)],
            stdin=subprocess.PIPE,  # closed when the service goes: the child then exits
            stdout=subprocess.PIPE,
            cwd=self._workdir.name,
            env=env,
        )
        port = _read_ready(self._proc, self.start_timeout)
        if port is None:
            self._stop_locked()
            raise ReplayUnavailable(
                f"the replay engine (pywb) did not start within {self.start_timeout:.0f} s"
            )
        self._base = f"http://127.0.0.1:{port}"
        return self._base

    def stop(self) -> None:
        with self._lock:
            self._stop_locked()

    def _stop_locked(self) -> None:
        proc, self._proc, self._base = self._proc, None, None
        if proc is not None:
            if proc.stdin is not None:
                proc.stdin.close()
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None


def _read_ready(proc: subprocess.Popen[bytes], timeout: float) -> int | None:
    """The port of the child's `READY <port>` line, or None if it did not come in time."""
    lines: queue.Queue[bytes] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
            if line.startswith(b"READY "):
                return
        lines.put(b"")

    threading.Thread(target=read, daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            return None
        if not line:
            return None  # the child exited
        if line.startswith(b"READY "):
            return int(line.split()[1])


async def forward(
    request: Request, base: str, client: httpx.AsyncClient, own: bool = False
) -> Response:
    """Relay one replay request to the child as it came (raw path and query, so the
    archived URL inside the path is passed on byte for byte) and stream its answer;
    `own`: the client is this request's, closed after it."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    target = base + raw_path.decode("latin-1")
    if request.url.query:
        target += "?" + request.url.query
    headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
    # The public host and scheme: pywb writes the links of a replayed page with them.
    headers += [
        ("host", request.headers.get("host", "")),
        ("x-forwarded-proto", request.url.scheme),
    ]

    async def close() -> None:
        await upstream.aclose()
        if own:
            await client.aclose()

    try:
        upstream = await client.send(
            client.build_request(request.method, target, headers=headers), stream=True
        )
    except httpx.HTTPError as exc:
        if own:
            await client.aclose()
        return PlainTextResponse(f"replay engine unreachable: {exc}", status_code=502)
    response = StreamingResponse(
        upstream.aiter_raw(), status_code=upstream.status_code, background=BackgroundTask(close)
    )
    # As sent (still content-encoded, with its own length): aiter_raw does not decode.
    response.raw_headers = [
        (k.lower().encode("latin-1"), v.encode("latin-1"))
        for k, v in upstream.headers.multi_items()
        if k.lower() not in NOT_RELAYED
    ]
    return response
