"""Python socket-module peers: `echo.py serve PORT N` echoes N connections back;
`echo.py send HOST PORT` sends stdin, half-closes, and prints what came back."""

import socket
import sys


def serve(port: int, connections: int) -> None:
    with socket.create_server(("127.0.0.1", port)) as server:
        for _ in range(connections):
            conn, _ = server.accept()
            with conn:
                while chunk := conn.recv(65536):
                    conn.sendall(chunk)


def send(host: str, port: int) -> None:
    data = sys.stdin.buffer.read()
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        while chunk := sock.recv(65536):
            sys.stdout.buffer.write(chunk)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]), int(sys.argv[3]))
    else:
        send(sys.argv[2], int(sys.argv[3]))
