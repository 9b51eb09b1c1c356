"""The listening application of bench_accept.py, run under LD_PRELOAD.

    python accept_listener.py PORT blocking|epoll

Accepts connections for ever (until killed) and writes one byte to each before closing it,
so the peer sees when its connection reached the application. `blocking`: a blocking
accept() loop. `epoll`: a non-blocking listener in an edge-triggered epoll loop that
accepts until EAGAIN, as event loops do. Prints "listening" once ready.
"""

from __future__ import annotations

import select
import socket
import sys


def answer(conn: socket.socket) -> None:
    with conn:
        conn.setblocking(True)
        conn.sendall(b"x")


def blocking(listener: socket.socket) -> None:
    while True:
        conn, _ = listener.accept()
        answer(conn)


def edge_triggered(listener: socket.socket) -> None:
    listener.setblocking(False)
    poller = select.epoll()
    poller.register(listener.fileno(), select.EPOLLIN | select.EPOLLET)
    while True:
        poller.poll()
        while True:
            try:
                conn, _ = listener.accept()
            except BlockingIOError:
                break
            answer(conn)


def main() -> None:
    port, mode = int(sys.argv[1]), sys.argv[2]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(512)
    print("listening", flush=True)
    (blocking if mode == "blocking" else edge_triggered)(listener)


if __name__ == "__main__":
    main()
