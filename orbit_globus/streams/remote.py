"""Transfer and GCS Manager calls of the environment operations, failures made one line.

globus-sdk is imported inside the functions: importing this module stays free.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from .errors import ExitCode, StreamsError
from .tunnel_doc import FINISHED_STATES, Tunnel, access_point_host_endpoint

if TYPE_CHECKING:
    from orbit_globus.login import Globus

# How long initialize and contact-lookup wait for a tunnel that is about to become ACTIVE.
ACTIVE_WAIT_SECONDS = 5.0
# Transfer has no push or long-poll for tunnels, so waiting is one paced loop: quick first
# looks (a state change often follows the command that caused it), then one request a
# second, the pace of globus-cli's `task wait`.
FIRST_POLL_PAUSES = (0.1, 0.25, 0.5)
POLL_PAUSE = 1.0
# The states a tunnel passes through, in order; it never goes back to an earlier one.
TUNNEL_STATES = ("AWAITING_LISTENER", "ACTIVE", "STOPPING", "STOPPED")
LAN_SECRET_TYPE = "lan_secret_create#1.0.0"


@contextlib.contextmanager
def tunnel_errors(tunnel_id: str) -> Iterator[None]:
    """Turn Transfer's 404/403 for one tunnel into a one-line `StreamsError`."""
    import globus_sdk

    try:
        yield
    except globus_sdk.GlobusAPIError as err:
        if err.http_status == 404:
            raise StreamsError(
                f"tunnel {tunnel_id} not found (deleted, unknown, or not yours)",
                exit_code=ExitCode.NOT_FOUND,
            ) from None
        if err.http_status == 403:
            raise StreamsError(
                f"tunnel {tunnel_id} belongs to another identity; access denied",
                exit_code=ExitCode.NOT_FOUND,
                kind="denied",
            ) from None
        raise


def create_tunnel(
    globus: Globus,
    initiator_ap_id: str,
    listener_ap_id: str,
    *,
    label: str | None = None,
    lifetime_mins: int | None = None,
    restartable: bool = False,
) -> dict:
    """A new tunnel between two stream access points; its JSON:API `data` document."""
    from globus_sdk import MISSING
    from globus_sdk.experimental import TunnelCreateDocument

    doc = TunnelCreateDocument(
        initiator_ap_id,
        listener_ap_id,
        label=label if label is not None else MISSING,
        lifetime_mins=lifetime_mins if lifetime_mins is not None else MISSING,
        restartable=True if restartable else MISSING,
    )
    return globus.transfer.create_tunnel(doc).data["data"]


def stop_tunnel(globus: Globus, tunnel_id: str) -> dict:
    """Ask Transfer to stop the tunnel (STOPPING now, STOPPED shortly after)."""
    from globus_sdk.experimental import TunnelUpdateDocument

    with tunnel_errors(tunnel_id):
        update = TunnelUpdateDocument(state="STOPPING")
        return globus.transfer.update_tunnel(tunnel_id, update).data["data"]


def get_tunnel_doc(globus: Globus, tunnel_id: str) -> dict:
    """The tunnel's JSON:API `data` document."""
    with tunnel_errors(tunnel_id):
        return globus.transfer.get_tunnel(tunnel_id).data["data"]


def fetch_tunnel(globus: Globus, tunnel_id: str) -> Tunnel:
    return Tunnel.from_doc(get_tunnel_doc(globus, tunnel_id))


def poll_pauses() -> Iterator[float]:
    return itertools.chain(FIRST_POLL_PAUSES, itertools.repeat(POLL_PAUSE))


def poll_tunnel(
    globus: Globus,
    tunnel: Tunnel,
    done: Callable[[Tunnel], bool],
    timeout: float | None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Tunnel:
    """Fetch `tunnel` again until `done(tunnel)` or `timeout` seconds (None: no limit) pass.

    Returns the last document seen; the last look is at the deadline itself.
    """
    deadline = None if timeout is None else clock() + timeout
    for pause in poll_pauses():
        if done(tunnel):
            break
        if deadline is not None:
            remaining = deadline - clock()
            if remaining <= 0:
                break
            pause = min(pause, remaining)
        sleep(pause)
        tunnel = fetch_tunnel(globus, tunnel.id)
    return tunnel


def wait_for_active(globus: Globus, tunnel: Tunnel, timeout: float | None = None) -> Tunnel:
    """Poll until the tunnel has an initiator contact, is finished, or `timeout` passes."""
    return poll_tunnel(
        globus,
        tunnel,
        lambda t: t.initiator_contact is not None or t.finished,
        ACTIVE_WAIT_SECONDS if timeout is None else timeout,
    )


def state_reached(state: str, target: str) -> bool:
    # A STOPPED tunnel has been STOPPING: waiting for the latter is over too.
    return state == target or (target == "STOPPING" and state in FINISHED_STATES)


def state_unreachable(state: str, target: str) -> bool:
    """True when a tunnel in `state` can never reach `target` (it would have to go back)."""
    if state_reached(state, target):
        return False
    if state in TUNNEL_STATES and target in TUNNEL_STATES:
        return TUNNEL_STATES.index(state) > TUNNEL_STATES.index(target)
    return state in FINISHED_STATES and state not in ("STOPPING", target)


def wait_for_state(
    globus: Globus,
    tunnel_id: str,
    target: str,
    timeout: float | None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Tunnel:
    """Block until the tunnel is in `target`; a one-line error when it cannot be or times out."""
    tunnel = poll_tunnel(
        globus,
        fetch_tunnel(globus, tunnel_id),
        lambda t: state_reached(t.state, target) or state_unreachable(t.state, target),
        timeout,
        sleep=sleep,
        clock=clock,
    )
    if state_reached(tunnel.state, target):
        return tunnel
    if state_unreachable(tunnel.state, target):
        raise StreamsError(f"tunnel {tunnel_id} is {tunnel.state}; it will not become {target}")
    raise StreamsError(
        f"tunnel {tunnel_id} is still {tunnel.state} after {timeout:g} s (waiting for {target})",
        exit_code=ExitCode.TIMEOUT,
    )


def record_listener(globus: Globus, tunnel_id: str, host: str, port: int) -> Tunnel:
    """Store where the listening application is (`PATCH /v2/tunnels/{id}`)."""
    from globus_sdk.experimental import TunnelUpdateDocument

    doc = TunnelUpdateDocument(listener_ip_address=host, listener_port=port)
    with tunnel_errors(tunnel_id):
        return Tunnel.from_doc(globus.transfer.update_tunnel(tunnel_id, doc).data)


@contextlib.contextmanager
def access_point_errors(access_point_id: str) -> Iterator[None]:
    """Turn Transfer's 404 for a stream access point into a one-line `StreamsError`."""
    import globus_sdk

    try:
        yield
    except globus_sdk.GlobusAPIError as err:
        if err.http_status == 404:
            raise StreamsError(
                f"stream access point {access_point_id} not found", exit_code=ExitCode.NOT_FOUND
            ) from None
        raise


def get_access_point_doc(globus: Globus, access_point_id: str) -> dict:
    """The stream access point's JSON:API `data` document."""
    with access_point_errors(access_point_id):
        return globus.transfer.get_stream_access_point(access_point_id).data["data"]


def host_endpoint_of(globus: Globus, access_point_id: str) -> str:
    """The GCS endpoint that hosts a stream access point."""
    return access_point_host_endpoint(get_access_point_doc(globus, access_point_id))


def create_lan_secret(
    globus: Globus, endpoint_id: str, tunnel_id: str, access_point_id: str
) -> tuple[str, str]:
    """A new LAN secret for (tunnel, access point) from the endpoint's GCS Manager."""
    response = globus.gcs(endpoint_id).post(
        "/lan_secrets",
        data={
            "DATA_TYPE": LAN_SECRET_TYPE,
            "tunnel_id": tunnel_id,
            "stream_access_point_id": access_point_id,
        },
    )
    try:
        entry = response["data"][0]
        return str(entry.get("secret") or ""), str(entry["id"])
    except (KeyError, IndexError, TypeError):
        raise StreamsError(f"GCS Manager of {endpoint_id} sent no LAN secret") from None


def delete_lan_secret(
    globus: Globus, endpoint_id: str, secret_id: str, *, max_retries: int | None = None
) -> bool:
    """Delete a LAN secret; False when the GCS no longer knows it.

    `max_retries` lowers the client's retries for best-effort callers (cleanup).
    """
    import globus_sdk

    client = globus.gcs(endpoint_id)
    try:
        with client.retry_config.tune(max_retries=max_retries):
            client.delete(f"/lan_secrets/{secret_id}")
    except globus_sdk.GlobusAPIError as err:
        if err.http_status == 404:
            return False
        raise
    return True
