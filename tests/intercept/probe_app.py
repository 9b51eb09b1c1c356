"""A client application for robustness tests, run under LD_PRELOAD; prints one JSON line.

    python probe_app.py NAME PORT PLAIN_PORT [--break ACTION CONF] [--nonblocking]
                        [--threads N] [--fork] [--repeat N]

Resolves NAME, optionally breaks the conf (delete | chmod644 | garble), connects, sends a
payload and reads the answer. Independently it talks to PLAIN_PORT (a HashServer without
any tunnel) to show unrelated sockets are untouched. Results: "resolve" (ok or the gai
errno), "connect" (ok or the errno name), "after_failure" (the socket's state after a
failed connect), "reply_ok", "plain_ok", "nonblocking_kept".
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import hashlib
import json
import os
import socket
import threading

PAYLOAD = b"probe payload " * 1000


def exchange(sock: socket.socket) -> bytes:
    sock.sendall(PAYLOAD)
    sock.shutdown(socket.SHUT_WR)
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def reply_ok(reply: bytes) -> bool:
    return reply.endswith(hashlib.sha256(PAYLOAD).hexdigest().encode())


def break_conf(action: str, conf: str) -> None:
    if action == "delete":
        os.unlink(conf)
    elif action == "chmod644":
        os.chmod(conf, 0o644)
    elif action == "garble":
        with open(conf, "w") as out:
            out.write("this is not\x01 a conf\n")


def tunnel_call(address: tuple, family: int, nonblocking: bool) -> dict:  # type: ignore[type-arg]
    result: dict = {}  # type: ignore[type-arg]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if nonblocking:
            sock.setblocking(False)
            code = sock.connect_ex(address)
            flags = fcntl.fcntl(sock.fileno(), fcntl.F_GETFL)
            result["nonblocking_kept"] = bool(flags & os.O_NONBLOCK)
            if code:
                raise OSError(code, os.strerror(code))
            sock.setblocking(True)
        else:
            sock.settimeout(30)
            sock.connect(address)
        result["connect"] = "ok"
        result["reply_ok"] = reply_ok(exchange(sock))
    except OSError as exc:
        result["connect"] = errno.errorcode.get(exc.errno or 0, str(exc))
        try:
            sock.getpeername()
            result["after_failure"] = "connected"
        except OSError as after:
            result["after_failure"] = errno.errorcode.get(after.errno or 0, str(after))
    finally:
        sock.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    parser.add_argument("port", type=int)
    parser.add_argument("plain_port", type=int)
    parser.add_argument("--break", dest="breaking", nargs=2, metavar=("ACTION", "CONF"))
    parser.add_argument("--nonblocking", action="store_true")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--fork", action="store_true")
    parser.add_argument("--family", choices=["4", "6"], default="4")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    family = socket.AF_INET6 if args.family == "6" else socket.AF_INET
    result: dict = {}  # type: ignore[type-arg]
    try:
        info = socket.getaddrinfo(args.name, args.port, family, socket.SOCK_STREAM)
        address = info[0][4]
        result["resolve"] = "ok"
    except socket.gaierror as exc:
        result["resolve"] = exc.errno
        address = None
    if args.breaking:
        break_conf(*args.breaking)
    if address is not None:
        if args.threads:
            outcomes: list[dict] = []  # type: ignore[type-arg]

            def work() -> None:
                outcomes.append(tunnel_call(address, family, args.nonblocking))

            threads = [threading.Thread(target=work) for _ in range(args.threads)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            result["threads_ok"] = sum(o == {"connect": "ok", "reply_ok": True} for o in outcomes)
        elif args.fork:
            pid = os.fork()
            if pid == 0:
                ok = tunnel_call(address, family, False) == {"connect": "ok", "reply_ok": True}
                os._exit(0 if ok else 1)
            result["child_ok"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
            result.update(tunnel_call(address, family, False))
        else:
            for _ in range(args.repeat):
                result.update(tunnel_call(address, family, args.nonblocking))
    plain = socket.create_connection(("127.0.0.1", args.plain_port), timeout=10)
    with plain:
        result["plain_ok"] = reply_ok(exchange(plain))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
