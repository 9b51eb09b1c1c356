"""Relay placement: which event loop runs each relay, and who owns it.

Two loops. Every connection's set-up (both access points' handshakes) runs on the
first, so set-up never waits for a thread switch. Once set up, the initiator side's relay
stays there and the listener side's relay moves to the second loop: on the TLS leg one
side encrypts while the other decrypts, and OpenSSL and the socket calls run without the
GIL, so the two relays use two cores like the two endpoints' gateways of a real tunnel.
With a plain WAN leg both relays stay on the first loop: splicing needs little CPU, and
the second thread only added thread switches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from .backend import TunnelSides
from .faults import DOWNSTREAM, UPSTREAM, ConnectionFaults
from .listener import Listener
from .loop import LoopThread
from .pipes import PipePool
from .pump import READ_SIZE
from .relay import Relay, close_socket
from .tlsio import RAW_READ, TlsChannel
from .wan import Stream

# The fault legs each relay's pumps apply (upstream pump, downstream pump). Upstream,
# leg 1 at the initiator and legs 2 and 3 at the listener access point; downstream,
# leg 3 at the listener access point and legs 2 and 1 at the initiator.
INITIATOR_LEGS = ((1,), (2, 1))
LISTENER_LEGS = ((2, 3), (3,))


class Members:
    """Set-up tasks and relays that end with their tunnel or access point (one loop's)."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[None]] = set()
        self.relays: set[Relay] = set()

    def adopt_current_task(self) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def close_all(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        for relay in list(self.relays):
            relay.close()


class TunnelPoint(Members):
    """One open tunnel: set-ups and relays on the first loop (initiator side; listener
    side too with a plain WAN leg), and `far`: its listener-side relays on the second."""

    def __init__(self, sides: TunnelSides, listener: Listener) -> None:
        super().__init__()
        self.sides = sides
        self.id = sides.id
        self.listener = listener
        self.far = Members()
        self.closed = False


class WanPoint(Members):
    """The WAN port of one listener access point: set-ups (first loop), `far` relays."""

    def __init__(self, access_point_id: str, listener: Listener) -> None:
        super().__init__()
        self.access_point_id = access_point_id
        self.listener = listener
        self.far = Members()


class LoopSide:
    """One event loop and what the pumps on it share (buffers are per thread)."""

    def __init__(self, name: str) -> None:
        self.thread = LoopThread(name)
        self.loop = self.thread.loop
        self.pool = PipePool()
        self.buffer = bytearray(READ_SIZE)  # plaintext on its way through
        self.scratch = bytearray(RAW_READ)  # ciphertext on its way into OpenSSL

    def spawn(self, owner: Members, coro: Coroutine[Any, Any, None]) -> None:
        task = self.loop.create_task(coro)
        owner.tasks.add(task)
        task.add_done_callback(owner.tasks.discard)

    def start_relay(
        self,
        a: Stream,
        b: Stream,
        faults: ConnectionFaults,
        legs: tuple[tuple[int, ...], tuple[int, ...]],
        owners: tuple[Members, ...],
    ) -> None:
        """On this loop: relay between `a` (upstream side) and `b`."""

        def forget(relay: Relay) -> None:
            for owner in owners:
                owner.relays.discard(relay)

        relay = Relay(
            self.loop,
            a,
            b,
            pool=self.pool,
            buffer=self.buffer,
            a_to_b=faults.chain_source(legs[0], UPSTREAM),
            b_to_a=faults.chain_source(legs[1], DOWNSTREAM),
            on_closed=forget,
        )
        for owner in owners:
            owner.relays.add(relay)
        relay.start()

    def stop(self) -> None:
        self.thread.stop()
        self.pool.close()


class Placement:
    """The two loops: `near` (every set-up, the initiator side's relays) and `far`."""

    def __init__(self, wan_tls: bool) -> None:
        self.wan_tls = wan_tls
        self.near = LoopSide("orbit-sim-initiator-aps")
        self.far = LoopSide("orbit-sim-listener-aps")

    def initiator_relay(
        self, point: TunnelPoint, app: Stream, wan: Stream, faults: ConnectionFaults
    ) -> None:
        """On the first loop, where the initiator's set-up ran."""
        self.near.start_relay(app, wan, faults, INITIATOR_LEGS, (point,))

    def listener_relay(
        self,
        point: TunnelPoint,
        wan_point: WanPoint,
        wan: Stream,
        lan_leg: Stream,
        faults: ConnectionFaults,
    ) -> None:
        """Start the listener side's relay: on the second loop with a TLS WAN leg, where
        the relay spends its time in OpenSSL; on this first loop with a plain one, where
        splicing costs little CPU and a second thread only adds thread switches (one loop:
        0.20 instead of 0.25 relay CPU-seconds per GiB, best single stream 3.2-3.7 instead
        of 2.5-3.1 GB/s; with TLS one loop is slower, 0.71 instead of 0.85 GB/s)."""
        if self.wan_tls:
            side, owners = self.far, (point.far, wan_point.far)
        else:
            side, owners = self.near, (point, wan_point)
        if isinstance(wan, TlsChannel):
            wan.scratch = side.scratch  # from now on it reads on the second loop's thread

        def start() -> None:
            if point.closed or wan_point.listener.paused:
                close_socket(wan, reset=True)
                close_socket(lan_leg, reset=True)
                return
            side.start_relay(wan, lan_leg, faults, LISTENER_LEGS, owners)

        side.thread.call(start)

    def stop(self) -> None:
        for side in (self.near, self.far):
            side.stop()
