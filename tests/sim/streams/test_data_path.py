"""Bytes through a tunnel: both directions, half-close, integrity (SPEC 5.2)."""

from __future__ import annotations

import hashlib
import socket

from .apps import ListenerApp, digest, gsla_connect, numbered_blocks, recv_all
from .conftest import StreamWorld


def test_echo_both_directions(streams: StreamWorld) -> None:
    rig = streams.tunnel()
    with gsla_connect(rig.address, rig.id, rig.initiator) as sock:
        payload = b"hello through the tunnel " * 4000
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        assert recv_all(sock) == payload
    assert rig.app.statuses == [rig.app.statuses[0]] and rig.app.statuses[0] == 0


def test_half_close_is_forwarded_and_the_answer_still_arrives(streams: StreamWorld) -> None:
    rig = streams.tunnel(ListenerApp(behaviour=digest))
    data = b"".join(numbered_blocks(4 << 20))
    with gsla_connect(rig.address, rig.id, rig.initiator) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)  # the app answers only once it sees our EOF
        assert recv_all(sock) == hashlib.sha256(data).digest()


def test_lan_auth_disabled_means_no_handshake_bytes(open_streams: StreamWorld) -> None:
    rig = open_streams.tunnel()
    with gsla_connect(rig.address, rig.id, None) as sock:
        sock.sendall(b"GSLA? no: raw bytes")
        sock.shutdown(socket.SHUT_WR)
        assert recv_all(sock) == b"GSLA? no: raw bytes"
    assert rig.app.statuses == []  # the listener app ran no handshake either


def test_lan_auth_disabled_on_the_listener_access_point_only(streams: StreamWorld) -> None:
    listener_ap = streams.world.listener_ap_id
    streams.sim.transfer.access_points[listener_ap].lan_auth = False
    rig = streams.tunnel()  # the listening application then runs no handshake
    with gsla_connect(rig.address, rig.id, rig.initiator) as sock:  # arrow 1 still does
        sock.sendall(b"mixed")
        sock.shutdown(socket.SHUT_WR)
        assert recv_all(sock) == b"mixed"
    assert rig.app.statuses == []


def test_listener_not_listening_closes_the_initiating_connection(streams: StreamWorld) -> None:
    rig = streams.tunnel()
    rig.app.__exit__(None, None, None)  # the listening application went away
    with gsla_connect(rig.address, rig.id, rig.initiator) as sock:
        sock.settimeout(10)
        try:
            sock.sendall(b"anyone?")
            assert sock.recv(100) == b""
        except (ConnectionResetError, BrokenPipeError):
            pass  # closed with a reset: just as good
