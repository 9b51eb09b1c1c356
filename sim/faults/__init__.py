"""Fault injection: the explicit registry of fault kinds and the spec parser.

A spec is `kind:key=value,key=value`, e.g. `http:route=get_task,status=503,count=2` or
`drop:route=/v2/tunnels/*`. Each fault kind lives in its own file and is registered here
with one line.
"""

from __future__ import annotations

from typing import Any

from orbit_sim.faults.api import DropConnectionFault, HttpStatusFault
from orbit_sim.faults.bandwidth import Bandwidth
from orbit_sim.faults.base import Fault, FaultSet
from orbit_sim.faults.blackhole import Blackhole
from orbit_sim.faults.close_listener import CloseListener
from orbit_sim.faults.corrupt_handshake import CorruptHandshake
from orbit_sim.faults.latency import Latency
from orbit_sim.faults.refuse import Refuse
from orbit_sim.faults.reset_after import ResetAfter
from orbit_sim.faults.stall_handshake import StallHandshake

FAULT_KINDS: dict[str, type[Fault]] = {}


def register(fault_class: type[Fault]) -> type[Fault]:
    if not fault_class.kind:
        raise ValueError(f"{fault_class.__name__} has no kind")
    FAULT_KINDS[fault_class.kind] = fault_class
    return fault_class


register(HttpStatusFault)
register(DropConnectionFault)
# Network faults (orbit_sim.streams) register here too, one line each.
register(Latency)
register(Bandwidth)
register(ResetAfter)
register(Blackhole)
register(StallHandshake)
register(CorruptHandshake)
register(Refuse)
register(CloseListener)


def parse_fault_spec(spec: str) -> Fault:
    """`kind:key=value,...` -> a Fault; ValueError with a one-line reason otherwise."""
    kind, _, rest = spec.strip().partition(":")
    fault_class = FAULT_KINDS.get(kind)
    if fault_class is None:
        known = ", ".join(sorted(FAULT_KINDS))
        raise ValueError(f"unknown fault kind {kind!r} (known: {known})")
    settings: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key:
            raise ValueError(f"fault setting {part!r} is not key=value")
        settings[key.strip()] = value.strip()
    return fault_class.from_strings(settings)


def fault_from_json(doc: dict[str, Any]) -> Fault:
    fault_class = FAULT_KINDS.get(str(doc.get("kind")))
    if fault_class is None:
        raise ValueError(f"unknown fault kind {doc.get('kind')!r}")
    return fault_class.from_json(doc)


__all__ = [
    "FAULT_KINDS",
    "DropConnectionFault",
    "Fault",
    "FaultSet",
    "HttpStatusFault",
    "fault_from_json",
    "parse_fault_spec",
    "register",
]
