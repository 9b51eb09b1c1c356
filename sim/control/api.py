"""The control API, written once: one row per operation names the Simulator method that
does it and the HTTP route that exposes it. The routes (`register`) and SimControl's
methods are generated from these rows, so the three can not drift apart.

A row's method is called with the route's path parameters and the JSON body's fields as
arguments (unknown fields are refused, naming the known ones); `reply` turns what the
method returns into the JSON answer, `result` turns that answer into what SimControl
returns. A method's ValueError is a 400 with its message; the method's docstring is the
route's description in the reference page.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orbit_sim.core.http import BadRequest, NotFound, Request, Router
from orbit_sim.core.simulator import Simulator

if TYPE_CHECKING:
    from orbit_sim.faults.base import Fault


def _same(sim: Simulator, value: Any) -> Any:
    return value


def _unchanged(doc: Any) -> Any:
    return doc


@dataclass(frozen=True)
class ControlCall:
    name: str  # the Simulator's method, and SimControl's
    method: str
    path: str
    reply: Callable[[Simulator, Any], Any] = _same
    result: Callable[[Any], Any] = _unchanged

    @property
    def signature(self) -> inspect.Signature:
        """The Simulator method's parameters, without `self`."""
        full = inspect.signature(getattr(Simulator, self.name))
        return full.replace(parameters=list(full.parameters.values())[1:])

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)

    @property
    def summary(self) -> str:
        doc = inspect.getdoc(getattr(Simulator, self.name)) or ""
        return " ".join(doc.split("\n\n")[0].split())


# -- replies --------------------------------------------------------------------------------


def _clock(sim: Simulator, now: float) -> dict[str, Any]:
    return {"now": now, "mode": sim.clock.mode}


def _found(what: str, key: str) -> Callable[[Simulator, bool], dict[str, bool]]:
    def reply(sim: Simulator, found: bool) -> dict[str, bool]:
        if not found:
            raise NotFound(f"No such {what}")
        return {key: True}

    return reply


def _fault(sim: Simulator, fault: Fault) -> dict[str, Any]:
    return fault.to_json()


def _faults(sim: Simulator, faults: list[Fault]) -> dict[str, Any]:
    return {"faults": [f.to_json() for f in faults]}


def _state(sim: Simulator, _: None) -> dict[str, Any]:
    return sim.state()


def _none(doc: Any) -> None:
    return None


CONTROL_API: list[ControlCall] = [
    ControlCall("state", "GET", "/state"),
    ControlCall("now", "GET", "/clock", _clock, lambda doc: float(doc["now"])),
    ControlCall("advance", "POST", "/clock/advance", _clock, lambda doc: float(doc["now"])),
    ControlCall("stop_tunnel", "POST", "/tunnels/{tunnel_id}/stop"),
    ControlCall("restart_tunnel", "POST", "/tunnels/{tunnel_id}/restart"),
    ControlCall("expire_tunnel", "POST", "/tunnels/{tunnel_id}/expire"),
    ControlCall(
        "revoke_secret",
        "POST",
        "/lan_secrets/{secret_id}/revoke",
        _found("LAN secret", "revoked"),
        lambda doc: bool(doc["revoked"]),
    ),
    ControlCall(
        "expire_tokens",
        "POST",
        "/tokens/expire",
        lambda sim, n: {"expired": n},
        lambda doc: int(doc["expired"]),
    ),
    ControlCall("issue_tokens", "POST", "/tokens"),
    ControlCall("create_client", "POST", "/clients"),
    ControlCall("put_file", "POST", "/transfer/collections/{collection_id}/files"),
    ControlCall("set_quota", "PUT", "/transfer/collections/{collection_id}/quota"),
    ControlCall("get_rates", "GET", "/transfer/rates"),
    ControlCall("set_rates", "PUT", "/transfer/rates"),
    ControlCall("list_faults", "GET", "/faults", _faults, lambda doc: list(doc["faults"])),
    ControlCall("add_fault", "POST", "/faults", _fault),
    ControlCall("remove_fault", "DELETE", "/faults/{fault_id}", _found("fault", "removed"), _none),
    ControlCall("clear_faults", "DELETE", "/faults", _faults, _none),
    ControlCall("reset", "POST", "/reset", _state),
]


# -- generated: the HTTP routes -------------------------------------------------------------


def _handler(call: ControlCall) -> Callable[[Simulator, Request], Any]:
    signature = call.signature

    def handler(sim: Simulator, request: Request) -> Any:
        body = request.json_object() if request.body else {}
        unknown = sorted(set(body) - set(signature.parameters) | set(body) & set(request.params))
        if unknown:
            known = [p for p in signature.parameters if p not in request.params]
            raise BadRequest(
                f"unknown field(s) {', '.join(map(repr, unknown))} for {call.name} "
                f"(known: {', '.join(known) or 'none'})"
            )
        try:
            bound = signature.bind(**request.params, **body)
        except TypeError as err:
            raise BadRequest(f"{call.name}: {err}") from None
        try:
            value = getattr(sim, call.name)(*bound.args, **bound.kwargs)
        except ValueError as err:
            raise BadRequest(str(err)) from None
        return call.reply(sim, value)

    handler.__name__ = f"control_{call.name}"
    return handler


def register(router: Router) -> None:
    for call in CONTROL_API:
        router.add(call.method, call.path, _handler(call), auth=False)


# -- generated: SimControl's methods --------------------------------------------------------


def _json_value(value: Any) -> Any:
    """Arguments as JSON: a fault object travels as its JSON document."""
    to_json = getattr(value, "to_json", None)
    return to_json() if callable(to_json) else value


def client_method(call: ControlCall) -> Callable[..., Any]:
    signature = call.signature

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        given = dict(signature.bind(*args, **kwargs).arguments)
        path = call.path.format(**{name: given.pop(name) for name in call.path_params})
        body = {key: _json_value(value) for key, value in given.items()}
        return call.result(self._call(call.method, path, body or None))

    method.__name__ = method.__qualname__ = call.name
    method.__doc__ = inspect.getdoc(getattr(Simulator, call.name))
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    method.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[self_param, *signature.parameters.values()]
    )
    return method
