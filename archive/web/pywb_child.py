"""The replay child process: pywb over the archive's WARC files, on a loopback port.

Started by `archive.web.replay` as `python -m archive.web.pywb_child CONFIG.json`; never
imported by the service itself, because importing pywb monkey-patches the whole process
for gevent. CONFIG names the WARC directory (its `*.cdxj` indexes and WARC files are the
one collection, mounted at the root) and the path prefix the service proxies under.

pywb runs in archival mode only: no live-web collection, no proxy, no recorder, no
collections found on disk by itself, so a replay can only answer from the WARC files.
It prints `READY <port>` once listening, and exits when its stdin closes (the service
stopped or died), so it never outlives the service.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402 - after the monkey patch, as gevent requires
import os  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable, Iterable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import yaml  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402
from pywb.apps.frontendapp import FrontEndApp  # noqa: E402

StartResponse = Callable[..., Any]


def pywb_config(warc_dir: Path) -> dict[str, Any]:
    warc = str(warc_dir.resolve()) + os.sep
    return {
        "collections": {"$root": {"index_paths": warc, "archive_paths": warc}},
        "enable_auto_colls": False,
        "framed_replay": False,  # the captured page itself at its replay URL, no top frame
        # The closest capture answers directly: a page's images were captured seconds
        # after it, and a redirect per image would only add round trips.
        "redirect_to_exact": False,
        "enable_memento": True,
        "csp-header": None,  # the service sets the replay's Content-Security-Policy
    }


class Prefixed:
    """Moves the service's mount prefix from PATH_INFO to SCRIPT_NAME, so pywb writes
    every link (pages, images, its own static files) under the prefix."""

    def __init__(self, app: Any, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == self.prefix or path.startswith(self.prefix + "/"):
            environ["SCRIPT_NAME"] = self.prefix
            environ["PATH_INFO"] = path[len(self.prefix) :] or "/"
        result: Iterable[bytes] = self.app(environ, start_response)
        return result


class _Quiet:
    def write(self, text: str) -> None:
        pass


def _exit_when_parent_goes() -> None:
    sys.stdin.buffer.read()  # EOF: the service closed our stdin or died
    os._exit(0)


def main(argv: list[str]) -> None:
    settings = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    workdir = Path(settings["workdir"])
    # pywb reads ./config.yaml and looks for ./templates and ./static: a private working
    # directory keeps whatever lies in the user's directory out of the replay.
    config_file = workdir / "config.yaml"
    config_file.write_text(yaml.safe_dump(pywb_config(Path(settings["warc_dir"]))))
    os.chdir(workdir)
    os.environ.pop("PYWB_CONFIG_FILE", None)
    app = FrontEndApp(config_file=str(config_file))
    # pywb's internal index server logs every request to stderr; errors still go there.
    app.warcserver_server.server.log = _Quiet()
    server = WSGIServer(("127.0.0.1", 0), Prefixed(app, settings["prefix"]), log=None)
    server.init_socket()
    sys.stdout.write(f"READY {server.server_port}\n")
    sys.stdout.flush()
    # Nobody reads our stdout after this line: what pywb prints goes to stderr instead.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    # A real thread (the hub's pool): a blocking read in a greenlet would stall the hub.
    gevent.get_hub().threadpool.spawn(_exit_when_parent_goes)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
