"""API faults: the next N calls to a route fail with an HTTP status, or lose the connection.

`route` selects calls by the handler's name (`get_tunnel`, `get_task`, `oauth2_token`), by a
path glob starting with `/` (`/v2/tunnels/*`), or `*` for every call; `service` and
`method` narrow it further. `count` is how many calls fail (0 = until removed).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
from typing import TYPE_CHECKING, ClassVar

from orbit_sim.core.http import ApiError, Response
from orbit_sim.faults.base import Fault, setting

if TYPE_CHECKING:
    from orbit_sim.core.http import Request, Route
    from orbit_sim.core.simulator import Simulator

# The codes the real services send with these statuses (globus-sdk decides on retries
# by status; 502 ExternalError.* is what Transfer sends when an endpoint is unreachable).
STATUS_CODES = {
    429: ("RequestLimitExceeded", "Rate limit exceeded; retry later"),
    500: ("ServiceUnavailable.InternalError", "An internal error occurred"),
    502: ("ExternalError.DirListingFailed.GCDisconnected", "The endpoint is not reachable"),
    503: ("ServiceUnavailable", "The service is temporarily unavailable"),
}


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@functools.cache
def route_names() -> dict[str, tuple[str, ...]]:
    """The names a fault's `route` may take, per faked service (the control API has none:
    faults never touch it)."""
    from orbit_sim.core.simulator import build_routers

    return {
        service: tuple(sorted({route.name for route in router.routes}))
        for service, router in build_routers().items()
        if service != "control"
    }


def _check_selection(route: str, service: str | None, method: str | None) -> None:
    """Refuse a selection that could never match, naming what would."""
    names = route_names()
    if service is not None and service not in names:
        raise ValueError(f"unknown service {service!r} (known: {', '.join(names)})")
    if method is not None and method.upper() not in METHODS:
        raise ValueError(f"unknown method {method!r} (known: {', '.join(METHODS)})")
    if route == "*" or route.startswith("/"):
        return
    known = names[service] if service else sorted({n for ns in names.values() for n in ns})
    if route not in known:
        raise ValueError(
            f"unknown route name {route!r}; use a path glob starting with '/', '*', "
            f"or one of: {', '.join(known)}"
        )


@dataclasses.dataclass
class _RouteFault(Fault):
    route: str = setting(
        "*", "a route name (see below), a path glob starting with '/', or '*' for every call"
    )
    service: str | None = setting(None, "only calls to this service: auth, transfer or gcs")
    method: str | None = setting(None, "only calls with this HTTP method")
    count: int = setting(
        1, "how many calls fail, then the fault is removed (0: until removed)", minimum=0
    )
    fired: int = dataclasses.field(default=0, metadata={"state": True})

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_selection(self.route, self.service, self.method)

    def matches(self, request: Request, route: Route) -> bool:
        if request.service == "control":
            return False
        if self.service and self.service != request.service:
            return False
        if self.method and self.method.upper() != request.method:
            return False
        if self.route == "*":
            return True
        if self.route.startswith("/"):
            return fnmatch.fnmatchcase(request.path, self.route)
        return self.route == route.name

    @property
    def exhausted(self) -> bool:
        return self.count > 0 and self.fired >= self.count

    def intercept(self, sim: Simulator, request: Request, route: Route) -> Response | None:
        if self.exhausted or not self.matches(request, route) or not self.roll():
            return None
        self.fired += 1
        return self.answer(request, route)

    def answer(self, request: Request, route: Route) -> Response:
        raise NotImplementedError


@dataclasses.dataclass
class HttpStatusFault(_RouteFault):
    """Answer with `status` (429, 500, 502, 503, ...) and, if set, a Retry-After header."""

    kind: ClassVar[str] = "http"
    status: int = setting(503, "the HTTP error status (429, 500, 502, 503, ...)")
    retry_after: int | None = setting(
        None, "seconds for a Retry-After header (429: 1 unless given)"
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 400 <= self.status <= 599:
            raise ValueError(f"status must be an HTTP error status, not {self.status}")
        if self.status == 429 and self.retry_after is None:
            self.retry_after = 1

    def answer(self, request: Request, route: Route) -> Response:
        code, message = STATUS_CODES.get(self.status, ("InjectedFault", "Injected failure"))
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        error = ApiError(self.status, code, message, headers=headers)
        return error.to_response(request, jsonapi=route.jsonapi)


@dataclasses.dataclass
class DropConnectionFault(_RouteFault):
    """Close the connection without any reply (in-process: a requests ConnectionError)."""

    kind: ClassVar[str] = "drop"

    def answer(self, request: Request, route: Route) -> Response:
        return Response(status=0, drop_connection=True)
