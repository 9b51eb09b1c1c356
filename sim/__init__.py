"""orbit-sim: a stateful fake of Globus Auth, Transfer and GCS, with stream access points.

sim = orbit_sim.Simulator()             # virtual clock, default world
with orbit_sim.mock_globus(sim):        # in-process: globus-sdk talks to `sim`
    ...
server = orbit_sim.serve(sim)           # loopback server for subprocesses
server.env                              # GLOBUS_SDK_SERVICE_URL_* etc. (SPEC 5.3)
server.stop()
with orbit_sim.retry_sleeps_on(sim.clock):  # globus-sdk's retry sleeps on the virtual clock
    ...
"""

from orbit_sim.control import SimControl
from orbit_sim.core.clock import Clock
from orbit_sim.core.gateway import Gateway, PortOnlyGateway
from orbit_sim.core.simulator import Simulator
from orbit_sim.faults import parse_fault_spec
from orbit_sim.inprocess import mock_globus
from orbit_sim.sdk_retries import retry_sleeps_on
from orbit_sim.server import ServerHandle, serve

__all__ = [
    "Clock",
    "Gateway",
    "PortOnlyGateway",
    "ServerHandle",
    "SimControl",
    "Simulator",
    "mock_globus",
    "parse_fault_spec",
    "retry_sleeps_on",
    "serve",
]
