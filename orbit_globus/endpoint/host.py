"""``orbit-globus-endpoint``: serve the endpoint host (with the globus plugin) until
SIGINT/SIGTERM, writing its base URL to ``--url-file``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from orbit_globus.transfer.plugin import Plugin
from orbit_globus.transfer.session import DEFAULT_POLL_INTERVAL

from .app import build_app
from .server import base_url, bind, make_server, serve


def write_url_file(path: Path, url: str) -> None:
    """Atomically, so a watcher never reads half a URL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as out:
        out.write(url + "\n")
    os.replace(tmp, path)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="orbit-globus-endpoint",
        description="Serve the orbit endpoint host with the globus transfer plugin.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    parser.add_argument("--url-file", type=Path, help="write the base URL here once listening")
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=DEFAULT_POLL_INTERVAL,
        help="seconds between task status polls (default %(default)s)",
    )
    parser.add_argument("--log-level", default="warning", help="uvicorn/python log level")
    args = parser.parse_args(argv)
    if args.poll_interval <= 0:
        parser.error("--poll-interval must be positive")
    if not 0 <= args.port <= 65535:
        parser.error("--port must be between 0 and 65535")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        sock = bind(args.host, args.port)
    except OSError as err:
        print(
            f"orbit-globus-endpoint: cannot listen on {args.host}:{args.port}: {err.strerror}",
            file=sys.stderr,
        )
        return 1
    url = base_url(sock)
    server = make_server(build_app([Plugin(poll_interval=args.poll_interval)]), args.log_level)

    def announce() -> None:
        if args.url_file is not None:
            write_url_file(args.url_file, url)
        print(f"orbit-globus-endpoint serving at {url}", flush=True)

    # uvicorn re-raises the stop signal after its own shutdown; these no-op handlers make
    # that a clean exit 0 instead of death by signal.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: None)
    asyncio.run(serve(server, sock, announce))
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
