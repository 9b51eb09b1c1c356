"""socat, telnet and Python's socket module on either end of a tunnel."""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import time
from pathlib import Path

from conformance.conftest import Output, need, sha256

ECHO = str(Path(__file__).parent / "apps" / "echo.py")
PIPE, DEVNULL = subprocess.PIPE, subprocess.DEVNULL


def test_socat_both_ends(streams_tunnel, payload, procs) -> None:
    need("socat")
    t = streams_tunnel
    server = t.listen(
        ["socat", "-u", f"TCP-LISTEN:{t.listener_port},bind=127.0.0.1", "STDOUT"],
        stdout=PIPE,
        stdin=DEVNULL,
    )
    received = Output(server)
    client = t.connect(
        ["socat", "-u", "STDIN", f"TCP:{t.contact_host}:{t.contact_port}"], stdin=PIPE
    )
    procs += [server, client]
    Output(client, payload).result()
    assert client.returncode == 0, t.debug_log("initiator")
    assert sha256(received.result()) == sha256(payload)


def test_telnet_initiator(streams_tunnel, procs) -> None:
    need("telnet")
    t = streams_tunnel
    server = t.listen([sys.executable, ECHO, "serve", str(t.listener_port), "1"])
    lines = b"".join(b"line %d of a telnet session\r\n" % i for i in range(200))
    # "-E": no escape character. telnet quits at the end of its input, so the input stays
    # open until the echo of the last line is back.
    client = t.connect(
        ["telnet", "-E", t.contact_host, str(t.contact_port)],
        stdin=PIPE,
        stdout=PIPE,
        stderr=DEVNULL,
    )
    procs += [server, client]
    client.stdin.write(lines)
    client.stdin.flush()
    seen = b""
    selector = selectors.DefaultSelector()
    selector.register(client.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + 30
    while not seen.endswith(b"line 199 of a telnet session\r\n") and time.monotonic() < deadline:
        if selector.select(timeout=1):
            chunk = os.read(client.stdout.fileno(), 65536)
            if not chunk:
                break
            seen += chunk
    client.stdin.close()
    client.wait(30)
    assert b"Connected to" in seen, t.debug_log("initiator")
    assert seen.endswith(lines), t.debug_log("listener")


def test_python_sockets_echo_both_ways(streams_tunnel, payload, procs) -> None:
    t = streams_tunnel
    server = t.listen([sys.executable, ECHO, "serve", str(t.listener_port), "2"])
    procs.append(server)
    for data in (payload, payload[::-1]):
        client = t.connect(
            [sys.executable, ECHO, "send", t.contact_host, str(t.contact_port)],
            stdin=PIPE,
            stdout=PIPE,
        )
        procs.append(client)
        assert sha256(Output(client, data).result()) == sha256(data), t.debug_log("listener")
    server.wait(30)
    assert server.returncode == 0
