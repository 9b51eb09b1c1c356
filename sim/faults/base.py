"""Fault base class and the per-simulator set of active faults.

A fault is a small object with JSON-able settings (dataclass fields), a `kind` naming it in
specs and in the control API, and an optional `probability`. API faults act on a request
before it reaches its handler (`intercept`); network faults (orbit_sim.streams) are looked
up by the stream gateway with `FaultSet.find`.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import uuid
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

if TYPE_CHECKING:
    from orbit_sim.core.http import Request, Response, Route
    from orbit_sim.core.simulator import Simulator

F = TypeVar("F", bound="Fault")


@dataclasses.dataclass
class Fault:
    """Base of every fault. Subclasses are dataclasses whose fields are their settings."""

    kind: ClassVar[str] = ""
    # Chance that the fault applies each time it could (1.0 = always).
    probability: float = 1.0
    id: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex[:12])

    def roll(self) -> bool:
        return self.probability >= 1.0 or random.random() < self.probability

    def intercept(self, sim: Simulator, request: Request, route: Route) -> Response | None:
        """API faults answer (or drop) a request here; others return None."""
        return None

    @property
    def exhausted(self) -> bool:
        """True once the fault has done all it was asked to (it is then removed)."""
        return False

    def to_json(self) -> dict[str, Any]:
        doc = {"kind": self.kind}
        doc.update(dataclasses.asdict(self))
        return doc

    @classmethod
    def from_json(cls: type[F], doc: dict[str, Any]) -> F:
        names = {f.name for f in dataclasses.fields(cls)}
        settings = {k: v for k, v in doc.items() if k != "kind"}
        unknown = sorted(set(settings) - names)
        if unknown:
            raise ValueError(f"unknown setting(s) for fault {cls.kind!r}: {', '.join(unknown)}")
        return cls(**settings)

    @classmethod
    def from_strings(cls: type[F], settings: dict[str, str]) -> F:
        """Build from spec strings (`key=value`), converting to each field's type."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        converted: dict[str, Any] = {}
        for key, raw in settings.items():
            if key not in fields:
                raise ValueError(f"unknown setting {key!r} for fault {cls.kind!r}")
            converted[key] = _convert(key, raw, fields[key].type)
        return cls(**converted)


def _convert(key: str, raw: str, annotation: Any) -> Any:
    """Convert one spec value to its field's type (annotations are strings here)."""
    options = str(annotation).replace(" ", "").split("|")
    if "None" in options and raw.lower() in ("", "none"):
        return None
    base = options[0]
    try:
        if base == "int":
            return int(raw)
        if base == "float":
            return float(raw)
        if base == "bool":
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
    except ValueError:
        raise ValueError(f"invalid value for {key!r}: {raw!r}") from None
    return raw


class FaultSet:
    """The faults active in one simulator: add/remove/clear/find, and API interception."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self._faults: dict[str, Fault] = {}
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults[fault.id] = fault
        return fault

    def remove(self, fault_id: str) -> bool:
        with self._lock:
            return self._faults.pop(fault_id, None) is not None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults.values())

    def find(self, kind: str | type[Fault] | None = None, **settings: Any) -> list[Fault]:
        """Active faults of a kind whose settings equal the given ones."""
        wanted = kind.kind if isinstance(kind, type) else kind
        return [
            fault
            for fault in self.list()
            if (wanted is None or fault.kind == wanted)
            and all(getattr(fault, k, None) == v for k, v in settings.items())
        ]

    def intercept(self, request: Request, route: Route) -> Response | None:
        """The first API fault's answer for this request, if any applies."""
        if not self._faults:
            return None
        for fault in self.list():
            response = fault.intercept(self.sim, request, route)
            if fault.exhausted:
                self.remove(fault.id)
            if response is not None:
                return response
        return None
