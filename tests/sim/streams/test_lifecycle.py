"""Tunnel lifecycle on the data path: stop and expiry close both ends; restart moves."""

from __future__ import annotations

import socket
import time

import pytest

from .apps import ListenerApp, gsla_connect, hold
from .conftest import StreamWorld, TunnelRig


def _ended(sock: socket.socket, timeout: float) -> bool:
    """True when the peer closed (EOF or reset) within `timeout`."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def _open_connection(rig: TunnelRig) -> socket.socket:
    sock = gsla_connect(rig.address, rig.id, rig.initiator)
    sock.sendall(b"ping")
    deadline = time.monotonic() + 5
    while rig.app.received < 4 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert rig.app.received == 4, "the connection never reached the listening application"
    return sock


@pytest.mark.parametrize("how", ["stop", "expire"])
def test_stop_and_expiry_close_both_ends(streams: StreamWorld, how: str) -> None:
    rig = streams.tunnel(ListenerApp(behaviour=hold), lifetime_mins=5)
    address = rig.address
    with _open_connection(rig) as sock:
        with streams.sim.lock:
            if how == "stop":
                streams.sim.transfer.stop_tunnel(rig.tunnel)
            else:
                streams.sim.advance(5 * 60)
        assert rig.tunnel.state in ("STOPPING", "STOPPED")
        assert _ended(sock, timeout=1.0), "the initiating application's end stayed open"
        assert rig.app.wait_closed(timeout=1.0), "the listening application's end stayed open"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(address, timeout=2).close()


def test_restarted_tunnel_serves_on_its_new_port(streams: StreamWorld) -> None:
    rig = streams.tunnel(restartable=True)
    old = rig.address
    with streams.sim.lock:
        streams.sim.transfer.restart_tunnel(rig.tunnel)
    new = rig.address
    assert rig.tunnel.state == "ACTIVE" and new != old
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(old, timeout=2).close()
    with gsla_connect(new, rig.id, rig.initiator) as sock:
        sock.sendall(b"after restart")
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(100) == b"after restart"
