"""`wenhua serve`: the read-only HTTP API and web UI."""

from __future__ import annotations

import socket

import click
import uvicorn

from archive.cli.common import UserError, archive_options, read_archive
from archive.config import ArchiveConfig
from archive.web.app import create_app
from archive.web.replay import ReplayServer, ReplayUnavailable


def _port(ctx: click.Context, param: click.Parameter, value: int) -> int:
    """A TCP port, checked here: the socket layer would raise OverflowError."""
    if not 0 <= value <= 65535:
        raise UserError(f"--port {value} is not a TCP port (0-65535; 0: any free port)")
    return value


@click.command()
@archive_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    callback=_port,
    help="Port (0: any free port).",
)
def serve(config: ArchiveConfig, host: str, port: int) -> None:
    """Serve the archive read-only: JSON API under /api, web UI at /search, docs at /docs,
    and every capture as served at /replay/<time>/<URL> (pywb, from the WARC files only).

    The first line on stderr names the address once it accepts connections.

    Example: wenhua serve --data-dir /tmp/demo --port 8000
    """
    with read_archive(config) as archive:
        try:
            sock = socket.create_server((host, port))
        except OSError as exc:
            raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        replay = ReplayServer(config.warc_dir)
        app = create_app(config, archive, replay)
        problem = None
        try:
            replay.ensure()  # started first: the first replay need not wait for pywb
        except ReplayUnavailable as exc:
            problem = exc
        bound = sock.getsockname()[1]
        click.echo(f"wenhua serve: listening on http://{host}:{bound}/", err=True)
        if problem is not None:
            click.echo(f"wenhua serve: /replay answers 503: {problem}", err=True)
        try:
            server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
            server.run(sockets=[sock])
        finally:
            replay.stop()
