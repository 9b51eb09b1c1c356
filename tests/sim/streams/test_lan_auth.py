"""Wrong or revoked LAN secrets on either LAN leg are refused, and nothing crosses."""

from __future__ import annotations

import contextlib
import socket
import uuid

import pytest

from orbit_globus.lan import Credential, HandshakeError, RefusedByPeer, Status

from .apps import ListenerApp, gsla_connect, hold
from .conftest import StreamWorld, TunnelRig


def _closed_without_answer(sock: socket.socket, data: bytes) -> bool:
    """Send `data` (the tunnel may already be gone) and see the tunnel close unanswered."""
    with contextlib.suppress(ConnectionResetError, BrokenPipeError):
        sock.sendall(data)
    sock.settimeout(5)
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True


def _refusal_on_arrow_1(rig: TunnelRig, tunnel_id: str | None = None) -> Status:
    """Connect with the rig's initiator secret; the status the access point refused with."""
    with pytest.raises(RefusedByPeer) as refused:
        gsla_connect(rig.address, tunnel_id or rig.id, rig.initiator).close()
    assert rig.app.accepted == 0  # the listening application never heard of it
    return refused.value.status


def test_wrong_secret_on_arrow_1_is_refused(tls_streams: StreamWorld) -> None:
    rig = tls_streams.tunnel(ListenerApp(behaviour=hold))
    wrong = Credential("not-the-secret", rig.initiator.secret_id)
    # The client notices first: the access point's proof does not match its secret.
    with pytest.raises(HandshakeError) as refused:
        gsla_connect(rig.address, rig.id, wrong).close()
    assert refused.value.status is Status.AUTH_FAILED
    assert rig.app.accepted == 0  # the listening application never heard of it


def test_revoked_secret_on_arrow_1_is_refused_as_stale(tls_streams: StreamWorld) -> None:
    rig = tls_streams.tunnel(ListenerApp(behaviour=hold))
    tls_streams.new_secret(rig.tunnel, "initiator")  # replaces (revokes) the conf's secret
    assert _refusal_on_arrow_1(rig) is Status.STALE_SECRET


def test_secret_revoked_through_the_control_action_is_stale(tls_streams: StreamWorld) -> None:
    rig = tls_streams.tunnel(ListenerApp(behaviour=hold))
    with tls_streams.sim.lock:
        assert tls_streams.sim.gcs.revoke_lan_secret(str(rig.initiator.secret_id))
    assert _refusal_on_arrow_1(rig) is Status.STALE_SECRET


def test_unknown_tunnel_on_arrow_1_is_refused(tls_streams: StreamWorld) -> None:
    rig = tls_streams.tunnel(ListenerApp(behaviour=hold))
    assert _refusal_on_arrow_1(rig, tunnel_id=str(uuid.uuid4())) is Status.UNKNOWN_TUNNEL


def test_wrong_secret_on_arrow_3_is_refused_by_the_listener(streams: StreamWorld) -> None:
    rig = streams.tunnel(ListenerApp(behaviour=hold))
    app = rig.app
    app.credential = Credential("listener-expects-another", rig.listener.secret_id)
    with gsla_connect(rig.address, rig.id, rig.initiator) as sock:
        assert _closed_without_answer(sock, b"secret payload that must not arrive")
    assert app.wait_closed()
    # The access point sees the listener's proof fail and hangs up before any byte.
    assert app.accepted == 1 and Status.OK not in app.statuses
    assert app.received == 0


def test_revoked_listener_secret_on_arrow_3_is_refused_as_stale(streams: StreamWorld) -> None:
    rig = streams.tunnel(ListenerApp(behaviour=hold))
    # The listener side gets a new secret; the listening application still holds the old.
    streams.new_secret(rig.tunnel, "listener")
    with gsla_connect(rig.address, rig.id, rig.initiator) as sock:
        assert _closed_without_answer(sock, b"must not arrive")
    assert rig.app.wait_closed()
    assert rig.app.statuses == [Status.STALE_SECRET]
    assert rig.app.received == 0


def test_revoked_secret_leaves_the_access_point_without_credentials(
    streams: StreamWorld,
) -> None:
    rig = streams.tunnel(ListenerApp(behaviour=hold))
    with streams.sim.lock:
        assert streams.sim.gcs.revoke_lan_secret(str(rig.listener.secret_id))
    with gsla_connect(rig.address, rig.id, rig.initiator) as sock:
        assert _closed_without_answer(sock, b"must not arrive")
    assert rig.app.accepted == 0 and rig.app.received == 0
