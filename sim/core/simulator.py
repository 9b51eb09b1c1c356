"""The Simulator: one stateful model of Globus Auth, Transfer and GCS behind every adapter."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from orbit_sim.core.clock import Clock, ClockMode
from orbit_sim.core.gateway import Gateway, PortOnlyGateway
from orbit_sim.core.http import ApiError, Request, Response, Router
from orbit_sim.services.auth.oidc import SigningKey

if TYPE_CHECKING:
    from orbit_sim.faults.base import Fault, FaultSet
    from orbit_sim.services.auth.models import AuthBackend
    from orbit_sim.services.gcs.models import GcsBackend
    from orbit_sim.services.transfer.models import TransferBackend
    from orbit_sim.world import World

# How often a real clock's due changes (expiry closing the gateway) are applied unprompted.
TICK_INTERVAL = 0.25


def build_routers() -> dict[str, Router]:
    """Every service's routes (the same for every simulator)."""
    # Imported here so that service modules may import the Simulator for type hints.
    from orbit_sim.control.urls import build_router as control_router
    from orbit_sim.services.auth.urls import build_router as auth_router
    from orbit_sim.services.gcs.urls import build_router as gcs_router
    from orbit_sim.services.transfer.urls import build_router as transfer_router

    return {
        "auth": auth_router(),
        "transfer": transfer_router(),
        "gcs": gcs_router(),
        "control": control_router(),
    }


class Simulator:
    """All simulated state and the one request entry point, `handle`.

    Sub-models: `clock`, `auth` (identities, clients, tokens), `transfer` (access points,
    tunnels, and `transfer.data`: collections, file systems, tasks), `gcs` (endpoints and
    their LAN secrets), `faults` (injected faults) and `gateway` (the stream gateway hook).
    `lock` serialises every state change; adapters may call `handle` from many threads.
    """

    def __init__(
        self,
        clock: ClockMode | Clock = "virtual",
        *,
        gateway: Gateway | None = None,
        lan_auth: bool = True,
        world: bool = True,
    ) -> None:
        self.lock = threading.RLock()
        self.clock: Clock = clock if isinstance(clock, Clock) else Clock(clock)
        self._owns_gateway = gateway is None
        self.gateway: Gateway = gateway if gateway is not None else PortOnlyGateway()
        self.lan_auth = lan_auth
        # Signs id_tokens; one per Simulator, so a reset keeps the JWK clients cached.
        self.auth_signing_key = SigningKey()
        self.routers: dict[str, Router] = build_routers()
        self._with_world = world
        # The default world (ids of its clients, endpoints, access points, collections).
        self.world: World | None = None
        self._last_tick: float | None = None
        self._build_state()
        self.clock.on_advance(lambda _now: self.tick())
        self._stop_ticking = threading.Event()
        if not self.clock.is_virtual:
            # A real clock moves by itself: apply expiry even when no request arrives.
            threading.Thread(
                target=self._tick_until_closed, name="orbit-sim-ticker", daemon=True
            ).start()

    def _build_state(self) -> None:
        from orbit_sim.faults.base import FaultSet
        from orbit_sim.services.auth.models import AuthBackend
        from orbit_sim.services.gcs.models import GcsBackend
        from orbit_sim.services.transfer.models import TransferBackend

        self.auth: AuthBackend = AuthBackend(self)
        self.gcs: GcsBackend = GcsBackend(self)
        self.transfer: TransferBackend = TransferBackend(self)
        self.faults: FaultSet = FaultSet(self)
        self._last_tick = None
        if self._with_world:
            from orbit_sim.world import build_default_world

            self.world = build_default_world(self, previous=self.world)

    # -- the one entry point of every adapter ----------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one API call: faults, then bearer-token check, then the route's handler."""
        router = self.routers.get(request.service)
        if router is None:
            return ApiError(404, "ClientError.NotFound", "Unknown service").to_response(request)
        with self.lock:
            route = None
            try:
                route, request.params = router.match(request.method, request.path)
                if request.service != "control":
                    self.tick()
                    injected = self.faults.intercept(request, route)
                    if injected is not None:
                        return injected
                if route.auth:
                    request.token = self.auth.authenticate(request)
                result = route.handler(self, request)
            except ApiError as err:
                return err.to_response(request, jsonapi=route is not None and route.jsonapi)
        return result if isinstance(result, Response) else Response.json(result)

    # -- time -------------------------------------------------------------------------------

    def tick(self) -> None:
        """Apply everything that is due at the clock's current time (tunnel expiry, ...)."""
        with self.lock:
            now = self.clock.now()
            # A virtual clock that has not moved since the last tick has nothing new due.
            if self.clock.is_virtual and now == self._last_tick:
                return
            self._last_tick = now
            self.transfer.tick(now)

    def _tick_until_closed(self) -> None:
        while not self._stop_ticking.wait(TICK_INTERVAL):
            self.tick()

    def now(self) -> float:
        """The clock's current time (seconds since the epoch)."""
        return self.clock.now()

    def advance(self, seconds: float) -> float:
        """Move the clock forward; due state changes happen before this returns."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ValueError("'seconds' must be a number >= 0")
        return self.clock.advance(float(seconds))

    # -- control actions: the control API's table (orbit_sim.control.api) exposes each ------

    def state(self) -> dict[str, Any]:
        """The clock, the tunnels, the faults and the default world's ids."""
        from orbit_sim.control.state import state_document

        with self.lock:
            return state_document(self)

    def reset(self) -> None:
        """Forget all state and faults; rebuild the default world with the same ids."""
        with self.lock:
            self.transfer.shutdown()
            self._build_state()

    def _tunnel_action(self, action: str, tunnel_id: str) -> dict[str, Any]:
        with self.lock:
            tunnel = self.transfer.get_tunnel(tunnel_id)
            getattr(self.transfer, f"{action}_tunnel")(tunnel)
            return {"id": tunnel.id, "state": tunnel.state, "initiator_port": tunnel.initiator_port}

    def stop_tunnel(self, tunnel_id: str) -> dict[str, Any]:
        """Stop a tunnel as its owner would: `{id, state, initiator_port}` afterwards."""
        return self._tunnel_action("stop", tunnel_id)

    def restart_tunnel(self, tunnel_id: str) -> dict[str, Any]:
        """Restart a tunnel (a new initiator port): `{id, state, initiator_port}`."""
        return self._tunnel_action("restart", tunnel_id)

    def expire_tunnel(self, tunnel_id: str) -> dict[str, Any]:
        """End a tunnel's lifetime now: `{id, state, initiator_port}` afterwards."""
        return self._tunnel_action("expire", tunnel_id)

    def revoke_secret(self, secret_id: str) -> bool:
        """Revoke a LAN secret; False when there is no such secret."""
        with self.lock:
            return self.gcs.revoke_lan_secret(secret_id)

    def expire_tokens(self, identity_id: str | None = None) -> int:
        """Expire the access tokens (of one identity, or all); how many expired."""
        with self.lock:
            return self.auth.expire_tokens(identity_id)

    def create_client(self, name: str = "orbit-sim extra client") -> dict[str, str]:
        """A new confidential client, i.e. another identity: `{client_id, client_secret,
        identity_id}` (pass the first two to ConfidentialAppAuthClient)."""
        with self.lock:
            client, secret = self.auth.create_confidential_client(name)
        return {"client_id": client.id, "client_secret": secret, "identity_id": client.id}

    def issue_tokens(
        self,
        scopes: str | list[str],
        identity_id: str | None = None,
        client_id: str | None = None,
    ) -> dict[str, Any]:
        """Tokens as after an interactive login (default user and native app), with
        refresh tokens: the Auth token response document."""
        if not scopes or not isinstance(scopes, str | list):
            raise ValueError("'scopes' is required")
        with self.lock:
            identity_id = identity_id or (self.world.user_id if self.world else None)
            client_id = client_id or (self.world.native_client_id if self.world else None)
            if not identity_id or not client_id:
                raise ValueError("identity_id and client_id are needed without a default world")
            return self.auth.issue_tokens(identity_id, client_id, scopes, refresh_tokens=True)

    # Transfer data (`sim.transfer.data`): the operations live in services/transfer/control.py.

    def put_file(
        self,
        collection_id: str,
        path: str,
        *,
        content: str | None = None,
        size: int | None = None,
        mtime: float | None = None,
    ) -> dict[str, Any]:
        """Create or replace a file in a collection: text `content`, or a synthetic file of
        `size` bytes (parents made as needed); `{path, size, checksum}`."""
        from orbit_sim.services.transfer import control

        with self.lock:
            return control.put_file(
                self, collection_id, path, content=content, size=size, mtime=mtime
            )

    def set_quota(self, collection_id: str, quota_bytes: int | None) -> dict[str, Any]:
        """Limit the bytes a collection may hold (None: no limit)."""
        from orbit_sim.services.transfer import control

        with self.lock:
            return control.set_quota(self, collection_id, quota_bytes)

    def get_rates(self) -> dict[str, float]:
        """How fast tasks move: `{bytes_per_second, seconds_per_file, seconds_per_delete}`."""
        from orbit_sim.services.transfer import control

        with self.lock:
            return control.get_rates(self)

    def set_rates(
        self,
        *,
        bytes_per_second: float | None = None,
        seconds_per_file: float | None = None,
        seconds_per_delete: float | None = None,
    ) -> dict[str, float]:
        """Change task rates (those given); tasks submitted afterwards use them."""
        from orbit_sim.services.transfer import control

        with self.lock:
            return control.set_rates(
                self,
                bytes_per_second=bytes_per_second,
                seconds_per_file=seconds_per_file,
                seconds_per_delete=seconds_per_delete,
            )

    def add_fault(self, fault: Fault | str | dict[str, Any]) -> Fault:
        """Add a fault: an object, a spec (`http:route=get_task,status=503`) or its JSON."""
        from orbit_sim.faults import fault_from_json, parse_fault_spec

        if isinstance(fault, str):
            fault = parse_fault_spec(fault)
        elif isinstance(fault, dict):
            fault = fault_from_json(fault)
        return self.faults.add(fault)

    def remove_fault(self, fault_id: str) -> bool:
        """Remove a fault by id; False when there is no such fault."""
        return self.faults.remove(fault_id)

    def list_faults(self) -> list[Fault]:
        """The active faults, oldest first."""
        return self.faults.list()

    def clear_faults(self) -> list[Fault]:
        """Remove every fault; the (empty) list of active faults."""
        self.faults.clear()
        return self.faults.list()

    def close(self) -> None:
        """Close every tunnel's gateway resources (and the default gateway itself)."""
        self._stop_ticking.set()
        with self.lock:
            self.transfer.shutdown()
            if self._owns_gateway and isinstance(self.gateway, PortOnlyGateway):
                self.gateway.shutdown()

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Simulator(clock={self.clock.mode!r})"
