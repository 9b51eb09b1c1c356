"""Relay placement: which event loop (or native worker) runs each relay, and who owns it.

Two loops. Every connection's set-up (both access points' handshakes) and both of its
relays start on the first, so a short connection never waits for a thread switch (on this
2-core VM a GIL hand-over costs more than the work it hands over: with the listener side's
relays started on the second loop the simulator spent 5.4-5.9 ms of CPU per sequential
connection, with all on the first 4.9-5.0 ms). With a TLS WAN leg, a relay of either
access point that has carried `HEAVY_BYTES` goes to the native relay loop
(`native_relays.py`) as soon as it holds nothing in flight and no fault applies: the two
relays of a bulk stream then encrypt and decrypt in C on two cores, like the two endpoints'
gateways of a real tunnel, and come back here when C returns. Without the native library
(or with every native worker busy) a heavy listener-side relay moves to the second loop
instead, where OpenSSL and the socket calls also run without the GIL. With a plain WAN leg
both relays stay on the first loop: splicing needs little CPU, and the second thread only
added thread switches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from .backend import TunnelSides
from .faults import DOWNSTREAM, UPSTREAM, ConnectionFaults
from .listener import Listener
from .loop import LoopThread
from .native_relays import NativeRelay, NativeRelays
from .pipes import PipePool
from .pump import READ_SIZE, ChainSource
from .relay import Relay, close_socket
from .tlsio import RAW_READ, TlsChannel
from .wan import Stream

# The fault legs each relay's pumps apply (upstream pump, downstream pump). Upstream,
# leg 1 at the initiator and legs 2 and 3 at the listener access point; downstream,
# leg 3 at the listener access point and legs 2 and 1 at the initiator.
INITIATOR_LEGS = ((1,), (2, 1))
LISTENER_LEGS = ((2, 3), (3,))

# Bytes a listener-side relay carries on the first loop before it moves to the second
# (TLS WAN leg only): about 5 ms of a single stream, far more than a handshake-sized
# exchange.
HEAVY_BYTES = 4 << 20

Chains = tuple[ChainSource, ChainSource]
# Takes a WAN connection for the next tunnel connection (called on the relay's loop).
Reuse = Callable[[TlsChannel], None]


def chains_for(faults: ConnectionFaults, legs: tuple[tuple[int, ...], tuple[int, ...]]) -> Chains:
    """The upstream and downstream pumps' fault chains for a relay on `legs`."""
    return faults.chain_source(legs[0], UPSTREAM), faults.chain_source(legs[1], DOWNSTREAM)


class Members:
    """Set-up tasks and relays that end with their tunnel or access point (one loop's)."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[None]] = set()
        self.relays: set[Relay | NativeRelay] = set()

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
        chains: Chains,
        owners: tuple[Members, ...],
        on_heavy: Callable[[Relay], None] | None = None,
        on_reusable: Reuse | None = None,
        pending: bytes = b"",
    ) -> None:
        """On this loop: relay between `a` (upstream side) and `b`; `pending`: bytes read
        from the TLS side that the other side has not been given yet."""

        def forget(relay: Relay) -> None:
            for owner in owners:
                owner.relays.discard(relay)

        relay = Relay(
            self.loop,
            a,
            b,
            pool=self.pool,
            buffer=self.buffer,
            a_to_b=chains[0],
            b_to_a=chains[1],
            on_closed=forget,
            on_heavy=on_heavy,
            heavy_bytes=HEAVY_BYTES if on_heavy is not None else 0,
            on_reusable=on_reusable,
        )
        for owner in owners:
            owner.relays.add(relay)
        relay.start(pending)

    def stop(self) -> None:
        self.thread.stop()
        self.pool.close()


class Placement:
    """The two loops: `near` (every set-up, every relay's start) and `far` (bulk
    listener-side relays with a TLS WAN leg when the native loop is missing or busy), and
    the native relays (`native_relays.py`: bulk TLS relays of both access points)."""

    def __init__(self, wan_tls: bool, native: bool = True) -> None:
        self.wan_tls = wan_tls
        self.near = LoopSide("orbit-sim-initiator-aps")
        self.far = LoopSide("orbit-sim-listener-aps")
        self.native = NativeRelays.load() if wan_tls and native else None

    def initiator_relay(
        self,
        point: TunnelPoint,
        app: Stream,
        wan: Stream,
        faults: ConnectionFaults,
        on_reusable: Reuse | None = None,
    ) -> None:
        """On the first loop, where the initiator's set-up ran."""
        chains = chains_for(faults, INITIATOR_LEGS)
        owners = (point,)
        on_heavy = None
        if self.native is not None:

            def on_heavy(relay: Relay) -> None:
                self._go_native(relay, owners, on_heavy)

        self.near.start_relay(app, wan, chains, owners, on_heavy, on_reusable)

    def listener_relay(
        self,
        point: TunnelPoint,
        wan_point: WanPoint,
        wan: Stream,
        lan_leg: Stream,
        faults: ConnectionFaults,
        on_reusable: Reuse | None = None,
    ) -> None:
        """On the first loop, where the listener's set-up ran; with a TLS WAN leg it goes
        native once heavy, or else moves to the second loop (best single stream with TLS:
        0.85 GB/s on two loops, 0.71 on one; with a plain leg one loop is faster: 0.20
        instead of 0.25 relay CPU-seconds per GiB, 3.2-3.7 instead of 2.5-3.1 GB/s)."""
        owners = (point, wan_point)
        on_heavy = None
        if self.wan_tls:

            def on_heavy(relay: Relay) -> None:
                if not self._go_native(relay, owners, on_heavy):
                    self._move_far(relay, point, wan_point)

        chains = chains_for(faults, LISTENER_LEGS)
        self.near.start_relay(wan, lan_leg, chains, owners, on_heavy, on_reusable)

    def _go_native(
        self,
        relay: Relay,
        owners: tuple[Members, ...],
        on_heavy: Callable[[Relay], None] | None,
    ) -> bool:
        """On the first loop: hand a heavy relay to the native loop; when that returns, the
        relay continues on the first loop as it was (and may go native again once heavy)."""
        if self.native is None:
            return False
        chains, on_reusable = relay.chains, relay.on_reusable

        def resume(a: Stream, b: Stream, pending: bytes) -> None:
            self.near.start_relay(a, b, chains, owners, on_heavy, on_reusable, pending)

        return self.native.take(relay, self.near.loop, owners, resume)

    def _move_far(self, relay: Relay, point: TunnelPoint, wan_point: WanPoint) -> None:
        """On the first loop: hand a heavy relay's sockets (and its fault chains, which
        keep their state) to the second loop, unless bytes are in flight (then the next
        read asks again)."""
        if not relay.at_rest:
            return
        chains, on_reusable = relay.chains, relay.on_reusable
        wan, lan_leg = relay.release()
        if isinstance(wan, TlsChannel):
            wan.scratch = self.far.scratch  # from now on it reads on the second loop's thread

        def start() -> None:
            if point.closed or wan_point.listener.paused:
                close_socket(wan, reset=True)
                close_socket(lan_leg, reset=True)
                return
            owners = (point.far, wan_point.far)
            self.far.start_relay(wan, lan_leg, chains, owners, on_reusable=on_reusable)

        self.far.thread.call(start)

    def fault_set_changed(self) -> None:
        """Native relays come back to Python, where a new fault can apply to them."""
        if self.native is not None:
            self.native.stop_all()

    def stop(self) -> None:
        if self.native is not None:
            self.native.shutdown()
        for side in (self.near, self.far):
            side.stop()
        if self.native is not None:
            self.native.close_leftovers()
