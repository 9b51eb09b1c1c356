"""The whole simulator in one call: model, stream gateway and loopback servers.

`orbit-sim serve`, the pytest fixtures and `orbit-sim demo` all start it this way, so the
wiring between the model and the access points lives in one place.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import trustme

from orbit_sim.core.simulator import Simulator
from orbit_sim.faults import Fault, parse_fault_spec
from orbit_sim.server import ServerHandle, serve


@contextlib.contextmanager
def running_simulator(
    *,
    clock: str = "virtual",
    lan_auth: bool = True,
    wan_tls: bool = True,
    faults: Sequence[str | Fault] = (),
    host: str = "127.0.0.1",
    port: int = 0,
) -> Iterator[ServerHandle]:
    """A simulator with real stream access points, served on `host`; stopped on exit.

    `faults` are specs (`kind:key=value,...`) or Fault objects, active from the start.
    Raises OSError when the port cannot be bound.
    """
    from orbit_sim.streams import StreamGateway

    # One CA for the GCS managers and the access points' WAN certificates ($ORBIT_SIM_CA).
    ca = trustme.CA(organization_name="orbit-sim")
    gateway = StreamGateway(wan_tls=wan_tls, host=host, ca=ca)
    sim = Simulator(clock, gateway=gateway, lan_auth=lan_auth)  # type: ignore[arg-type]
    gateway.bind(sim)
    try:
        for fault in faults:
            sim.add_fault(parse_fault_spec(fault) if isinstance(fault, str) else fault)
        handle = serve(sim, host=host, port=port, ca=ca)
        try:
            yield handle
        finally:
            handle.stop()
    finally:
        sim.close()
        gateway.shutdown()
