"""Fault injection: the explicit registry of fault kinds and the spec parser.

A spec is `kind:key=value,key=value`, e.g. `http:route=get_task,status=503,count=2` or
`latency:leg=2,direction=downstream,ms=80,jitter_ms=20`. Each fault kind lives in its own
file, carries its own behaviour (`api.py`: answers to requests; `network.py`: answers to
the stream gateway's questions) and is registered here with one line.
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
from orbit_sim.faults.limit_data import LimitData
from orbit_sim.faults.refuse import Refuse
from orbit_sim.faults.reset_after import ResetAfter
from orbit_sim.faults.slicer import Slicer
from orbit_sim.faults.slow_close import SlowClose
from orbit_sim.faults.stall_handshake import StallHandshake
from orbit_sim.faults.timeout import Timeout

FAULT_KINDS: dict[str, type[Fault]] = {}


def register(fault_class: type[Fault]) -> type[Fault]:
    if not fault_class.kind:
        raise ValueError(f"{fault_class.__name__} has no kind")
    FAULT_KINDS[fault_class.kind] = fault_class
    return fault_class


# API faults: answers to requests.
register(HttpStatusFault)
register(DropConnectionFault)
# Network faults: on a leg's bytes ...
register(Latency)
register(Bandwidth)
register(Slicer)
register(ResetAfter)
register(LimitData)
register(SlowClose)
register(Timeout)
register(Blackhole)
# ... on a leg's handshake, and on listening ports.
register(StallHandshake)
register(CorruptHandshake)
register(Refuse)
register(CloseListener)


def fault_class(kind: object) -> type[Fault]:
    found = FAULT_KINDS.get(str(kind))
    if found is None:
        known = ", ".join(FAULT_KINDS)
        raise ValueError(f"unknown fault kind {kind!r} (known: {known})")
    return found


def parse_fault_spec(spec: str) -> Fault:
    """`kind:key=value,...` -> a Fault; ValueError with a one-line reason otherwise."""
    kind, _, rest = spec.strip().partition(":")
    settings: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key:
            raise ValueError(f"fault setting {part!r} is not key=value")
        settings[key.strip()] = value.strip()
    return fault_class(kind).from_strings(settings)


def fault_from_json(doc: dict[str, Any]) -> Fault:
    return fault_class(doc.get("kind")).from_json(doc)


__all__ = [
    "FAULT_KINDS",
    "DropConnectionFault",
    "Fault",
    "FaultSet",
    "HttpStatusFault",
    "fault_class",
    "fault_from_json",
    "parse_fault_spec",
    "register",
]
