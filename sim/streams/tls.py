"""TLS for the WAN leg (arrow 2): every access point holds a certificate from one trustme CA.

The listener access point requires a client certificate from the same CA, and the
initiator checks that the server's certificate names the listener access point it meant
to reach, so both ends are authenticated.

TLS 1.2 with ECDHE-ECDSA-AES128-GCM, and the initiator resumes its last session with the
same listener access point. TLS 1.2 rather than 1.3, for two measured reasons: a resumed
TLS 1.3 handshake costs 1.5-2.6 ms of CPU for both ends (OpenSSL 3.0 still runs ECDHE and
issues a new ticket), a resumed TLS 1.2 one 0.7 ms (`benchmarks`-style loop of 500
handshakes over memory BIOs), and both ends' handshakes run on one thread, so TLS 1.3
alone would push the set-up median (2.4 ms) past its 3 ms target; and Python's ssl cannot
choose TLS 1.3 cipher suites, so 1.3 would run AES-256-GCM, ~12% slower than AES-128-GCM
here (`openssl speed -evp`). The code does not depend on the version: a connection that did
a full handshake waits for its session ticket (`wan.receive_ticket`, at once under 1.2,
where the ticket is part of the handshake), so switching is the one line in `_context`.
Renegotiation is off.

A half-close travels as an end-of-stream frame inside the TLS stream (`tlsio.py`), so a
cleanly ended connection can carry the next tunnel connection. When the TCP connection
itself ends (a spare that expired, an access point that went away), it ends without
close_notify: Python's ssl module cannot send close_notify and keep reading, so both sides
accept an EOF without it (an OpenSSL 3 peer otherwise answers it with a decode_error alert,
which breaks the other direction). The leg is mutually authenticated loopback between our
own access points.
"""

from __future__ import annotations

import ssl
import threading

import trustme


def access_point_hostname(access_point_id: str) -> str:
    """The DNS name in an access point's certificate."""
    return f"{access_point_id}.access-point.orbit-sim.invalid"


class WanTls:
    """Builds and caches the TLS contexts of each access point."""

    def __init__(self, ca: trustme.CA | None = None) -> None:
        self.ca = ca if ca is not None else trustme.CA(organization_name="orbit-sim streams")
        self._lock = threading.Lock()
        self._servers: dict[str, ssl.SSLContext] = {}
        self._clients: dict[str, ssl.SSLContext] = {}
        self._rogue: ssl.SSLContext | None = None
        self._sessions: dict[tuple[str, str], ssl.SSLSession] = {}

    def server_context(self, access_point_id: str) -> ssl.SSLContext:
        with self._lock:
            ctx = self._servers.get(access_point_id)
            if ctx is None:
                ctx = self._context(ssl.PROTOCOL_TLS_SERVER)
                ctx.verify_mode = ssl.CERT_REQUIRED
                ctx.num_tickets = 1  # TLS 1.3 only: one ticket per handshake is enough
                self.ca.configure_trust(ctx)
                self._issue(access_point_id).configure_cert(ctx)
                self._servers[access_point_id] = ctx
            return ctx

    def client_context(self, access_point_id: str) -> ssl.SSLContext:
        with self._lock:
            ctx = self._clients.get(access_point_id)
            if ctx is None:
                ctx = self._context(ssl.PROTOCOL_TLS_CLIENT)
                self.ca.configure_trust(ctx)
                self._issue(access_point_id).configure_cert(ctx)
                self._clients[access_point_id] = ctx
            return ctx

    def rogue_client_context(self) -> ssl.SSLContext:
        """A client whose certificate comes from another CA: its handshake is refused."""
        with self._lock:
            if self._rogue is None:
                ctx = self._context(ssl.PROTOCOL_TLS_CLIENT)
                self.ca.configure_trust(ctx)
                trustme.CA().issue_cert(access_point_hostname("rogue")).configure_cert(ctx)
                self._rogue = ctx
            return self._rogue

    def session(self, initiator: str, listener: str) -> ssl.SSLSession | None:
        """The session to resume from `initiator`'s client context towards `listener`."""
        return self._sessions.get((initiator, listener))

    def remember(self, initiator: str, listener: str, session: ssl.SSLSession | None) -> None:
        if session is not None and session.has_ticket:
            self._sessions[(initiator, listener)] = session

    def _issue(self, access_point_id: str) -> trustme.LeafCert:
        return self.ca.issue_cert(access_point_hostname(access_point_id))

    @staticmethod
    def _context(protocol: int) -> ssl.SSLContext:
        # Trust only our CA: no system store (loading it costs ~50 ms per context).
        ctx = ssl.SSLContext(protocol)
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")
        ctx.options |= ssl.OP_IGNORE_UNEXPECTED_EOF | ssl.OP_NO_RENEGOTIATION
        return ctx
