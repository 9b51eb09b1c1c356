"""The options every relay socket gets (speed: see sim/streams/sockopts.py)."""

from __future__ import annotations

import socket

from orbit_sim.streams.sockopts import CONGESTION_CONTROL, tune_relay_socket


def test_relay_socket_uses_reno_without_delay() -> None:
    with socket.socket() as sock:
        tune_relay_socket(sock)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        algorithm = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16)
        assert algorithm.rstrip(b"\0") == CONGESTION_CONTROL


def test_reno_is_allowed_without_privileges() -> None:
    # The tests may run as root, which may pick any algorithm; the gateway must not need to.
    with open("/proc/sys/net/ipv4/tcp_allowed_congestion_control") as allowed:
        assert CONGESTION_CONTROL.decode() in allowed.read().split()
