"""``python -m crawler.demo_portal [--host 127.0.0.1] [--port 8000]``: serve until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
import threading

from crawler.demo_portal.corpus import HANWEB_PREFIX, TRS_PREFIX, build_corpus
from crawler.demo_portal.server import DemoPortal


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crawler.demo_portal",
        description="Serve the offline demo culture portal (three CMS families) on loopback.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="port (default: %(default)s; 0 = any free)"
    )
    args = parser.parse_args(argv)
    portal = DemoPortal(args.host, args.port)
    try:
        portal.start()
    except OSError as exc:
        print(
            f"error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    base = portal.base_url
    print(
        f"demo portal: {len(build_corpus())} articles\n"
        f"  culture cloud (UTF-8) {base}/\n"
        f"  TRS WCM (GBK)         {base}{TRS_PREFIX}/\n"
        f"  Hanweb (UTF-8)        {base}{HANWEB_PREFIX}/\n"
        "Ctrl-C to stop.",
        flush=True,
    )
    stop = threading.Event()
    try:
        # Wake up now and then: a bare wait() is not interruptible on every platform.
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        portal.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
