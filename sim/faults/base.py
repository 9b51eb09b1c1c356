"""Fault base class and the per-simulator set of active faults.

A fault is a small object with JSON-able settings (dataclass fields), a `kind` naming it in
specs and in the control API, and an optional `probability`. API faults act on a request
before it reaches its handler (`intercept`); network faults (`network.py`) answer the stream
gateway's questions about handshakes, bytes and listening ports.
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


def setting(
    default: Any,
    help: str,
    *,
    choices: tuple[Any, ...] | None = None,
    minimum: float | None = None,
    above: float | None = None,
    maximum: float | None = None,
) -> Any:
    """A fault's setting: its default, the line the reference page shows for it, and the
    values it accepts (checked when the fault is made, whichever way it is made)."""
    bounds = {"choices": choices, "minimum": minimum, "above": above, "maximum": maximum}
    metadata = {"help": help, **{k: v for k, v in bounds.items() if v is not None}}
    return dataclasses.field(default=default, metadata=metadata)


_TYPES: dict[str, tuple[type, ...]] = {"int": (int,), "float": (int, float), "str": (str,)}


def _check(name: str, value: Any, field: dataclasses.Field[Any]) -> None:
    """Refuse a value of the wrong type or outside the setting's bounds, saying which."""
    options = str(field.type).replace(" ", "").split("|")
    if value is None and "None" in options:
        return
    wanted = _TYPES.get(options[0])
    if wanted and (isinstance(value, bool) or not isinstance(value, wanted)):
        raise ValueError(f"{name} must be of type {options[0]}, not {value!r}")
    meta = field.metadata
    if "choices" in meta and value not in meta["choices"]:
        raise ValueError(f"{name} must be one of {', '.join(map(str, meta['choices']))}")
    if "minimum" in meta and value < meta["minimum"]:
        raise ValueError(f"{name} must be >= {meta['minimum']}, not {value}")
    if "above" in meta and value <= meta["above"]:
        raise ValueError(f"{name} must be > {meta['above']}, not {value}")
    if "maximum" in meta and value > meta["maximum"]:
        raise ValueError(f"{name} must be <= {meta['maximum']}, not {value}")


@dataclasses.dataclass
class Fault:
    """Base of every fault. Subclasses are dataclasses whose fields are their settings."""

    kind: ClassVar[str] = ""
    probability: float = setting(
        1.0,
        "chance the fault applies, rolled per call (API) or per connection (network), "
        "as toxiproxy's toxicity; 1 = always",
        minimum=0,
        maximum=1,
    )
    id: str = dataclasses.field(
        default_factory=lambda: uuid.uuid4().hex[:12],
        metadata={"help": "the fault's name (default: a new random one); remove it by this"},
    )

    def __post_init__(self) -> None:
        for field in self.setting_fields():
            _check(field.name, getattr(self, field.name), field)

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

    def to_spec(self) -> str:
        """The spec that makes this fault again: `kind:key=value,...` (settings that are
        not their default, and not the id)."""
        given = [
            f"{f.name}={getattr(self, f.name)}"
            for f in self.setting_fields()
            if f.name != "id" and getattr(self, f.name) != f.default
        ]
        return f"{self.kind}:{','.join(given)}"

    @classmethod
    def setting_fields(cls) -> list[dataclasses.Field[Any]]:
        """The settings a spec may give (state such as `fired` is not one)."""
        return [f for f in dataclasses.fields(cls) if not f.metadata.get("state")]

    @classmethod
    def _unknown(cls, given: Any) -> ValueError | None:
        names = [f.name for f in cls.setting_fields()]
        unknown = sorted(set(given) - set(names))
        if not unknown:
            return None
        which = ", ".join(repr(k) for k in unknown)
        return ValueError(
            f"unknown setting {which} for fault {cls.kind!r} (known: {', '.join(names)})"
        )

    @classmethod
    def from_json(cls: type[F], doc: dict[str, Any]) -> F:
        settings = {k: v for k, v in doc.items() if k != "kind"}
        state = {f.name for f in dataclasses.fields(cls)} - {f.name for f in cls.setting_fields()}
        error = cls._unknown(set(settings) - state)
        if error:
            raise error
        return cls(**settings)

    @classmethod
    def from_strings(cls: type[F], settings: dict[str, str]) -> F:
        """Build from spec strings (`key=value`), converting to each field's type."""
        error = cls._unknown(settings)
        if error:
            raise error
        fields = {f.name: f for f in cls.setting_fields()}
        converted = {k: _convert(k, raw, fields[k].type) for k, raw in settings.items()}
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
    """The faults active in one simulator: add/remove/clear/list, and API interception."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self._faults: dict[str, Fault] = {}
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            if fault.id in self._faults:
                raise ValueError(f"a fault with id {fault.id!r} exists already; remove it first")
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
