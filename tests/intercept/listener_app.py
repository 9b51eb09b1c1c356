"""A listening application for the listener-side tests, run under LD_PRELOAD.

    python listener_app.py PORT FAMILY(4|6) MODE CONNECTIONS

Serves CONNECTIONS connections: reads each until EOF, answers the hex SHA-256 of what it
read, and prints "conn <sha256>" per connection (and "again" for each EAGAIN seen by a
non-blocking accept). MODE says how the listening socket is handled before accepting:
blocking, nonblocking, dup (accept on a dup, original closed), fork (a child accepts),
exec (an exec'd program accepts on the inherited descriptor). Prints "listening" once
ready.
"""

from __future__ import annotations

import hashlib
import os
import select
import socket
import sys


def serve(conn: socket.socket) -> None:
    with conn:
        conn.setblocking(True)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
        digest = hashlib.sha256(b"".join(chunks)).hexdigest()
        conn.sendall(digest.encode())
    print("conn", digest, flush=True)


def accept_blocking(listener: socket.socket, count: int) -> None:
    for _ in range(count):
        conn, _ = listener.accept()
        serve(conn)


def accept_nonblocking(listener: socket.socket, count: int) -> None:
    listener.setblocking(False)
    served = 0
    while served < count:
        select.select([listener], [], [], 30)
        try:
            conn, _ = listener.accept()
        except BlockingIOError:
            print("again", flush=True)
            continue
        serve(conn)
        served += 1


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--inherited":
        # exec mode, second program: accept on the descriptor number we were given
        listener = socket.socket(fileno=int(sys.argv[2]))
        accept_blocking(listener, int(os.environ["LISTENER_APP_COUNT"]))
        return
    port, family, mode, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    fam = socket.AF_INET6 if family == "6" else socket.AF_INET
    listener = socket.socket(fam, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("::1" if fam == socket.AF_INET6 else "127.0.0.1", port))
    listener.listen(8)
    if mode == "dup":
        copy = listener.dup()
        listener.close()
        listener = copy
    print("listening", flush=True)
    if mode == "nonblocking":
        accept_nonblocking(listener, count)
    elif mode == "fork":
        pid = os.fork()
        if pid == 0:
            try:
                accept_blocking(listener, count)
            finally:
                os._exit(0)
        listener.close()
        os.waitpid(pid, 0)
    elif mode == "exec":
        os.set_inheritable(listener.fileno(), True)
        os.environ["LISTENER_APP_COUNT"] = str(count)
        argv = [sys.executable, __file__, "--inherited", str(listener.fileno())]
        os.execv(sys.executable, argv)
    else:
        accept_blocking(listener, count)


if __name__ == "__main__":
    main()
