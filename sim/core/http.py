"""Transport-neutral request handling shared by every simulated service.

Adapters (the in-process `responses` callbacks and the loopback server) turn their native
request into a `Request`, hand it to `Simulator.handle`, and write the returned `Response`
back. Service modules register handlers on a `Router`; a handler raises `ApiError` for a
Globus-style error reply.
"""

from __future__ import annotations

import json as jsonlib
import random
import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

from requests.structures import CaseInsensitiveDict

if TYPE_CHECKING:
    from orbit_sim.services.auth.models import Token

JSON_TYPE = "application/json"
_REQUEST_ID_CHARS = string.ascii_letters + string.digits
_random = random.Random()


def new_request_id() -> str:
    """A short random id like the `request_id` Globus services put in every reply."""
    # Not a secret: a fast non-cryptographic choice keeps the per-call cost down.
    return "".join(_random.choices(_REQUEST_ID_CHARS, k=9))


@dataclass
class Request:
    """One API call as the simulator sees it, whatever adapter it came through."""

    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: CaseInsensitiveDict[str] = field(default_factory=CaseInsensitiveDict)
    body: bytes = b""
    # The service the adapter routed this call to ("auth", "transfer", "gcs", "control").
    service: str = ""
    # For GCS: the simulated endpoint whose manager was addressed (set by the adapter).
    endpoint_id: str | None = None
    # Filled by the router / the simulator while dispatching.
    params: dict[str, str] = field(default_factory=dict)
    token: Token | None = None
    request_id: str = field(default_factory=new_request_id)

    @classmethod
    def from_url_parts(
        cls,
        method: str,
        path: str,
        query_string: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        body: bytes | str | None,
        **extra: Any,
    ) -> Request:
        if isinstance(body, str):
            body = body.encode()
        return cls(
            method=method.upper(),
            path=path or "/",
            query=parse_qs(query_string, keep_blank_values=True),
            headers=CaseInsensitiveDict(headers),
            body=body or b"",
            **extra,
        )

    # -- reading the request ---------------------------------------------------------------

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The last value of query parameter `name` (Globus APIs take single values)."""
        values = self.query.get(name)
        return values[-1] if values else default

    def int_arg(
        self, name: str, default: int, *, minimum: int = 0, maximum: int | None = None
    ) -> int:
        raw = self.arg(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ApiError(400, "BadRequest", f"Invalid value for {name!r}: {raw!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            bound = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
            raise ApiError(400, "BadRequest", f"{name!r} must be {bound}")
        return value

    def json(self) -> Any:
        """The body parsed as JSON; a malformed body is a 400 like the real services give."""
        if not self.body:
            raise ApiError(400, "BadRequest", "Request body is empty; expected JSON")
        try:
            return jsonlib.loads(self.body)
        except ValueError:
            raise ApiError(400, "BadRequest", "Request body is not valid JSON") from None

    def json_object(self) -> dict[str, Any]:
        doc = self.json()
        if not isinstance(doc, dict):
            raise ApiError(400, "BadRequest", "Request body must be a JSON object")
        return doc

    def form(self) -> dict[str, str]:
        """An application/x-www-form-urlencoded body (OAuth2 token requests)."""
        parsed = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {key: values[-1] for key, values in parsed.items()}

    @property
    def bearer_token(self) -> str | None:
        """The access token of an `Authorization: Bearer ...` header, if any."""
        auth = self.headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None
        return value.strip()

    def __repr__(self) -> str:
        # Never show headers or body: they may carry tokens and secrets.
        return f"Request({self.method} {self.path} service={self.service!r})"


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    # A plain dict: `responses` callbacks recognise a dict's Content-Type.
    headers: dict[str, str] = field(default_factory=dict)
    # Set by the dropped-connection fault: the adapter closes without replying.
    drop_connection: bool = False

    @classmethod
    def json(
        cls, doc: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Response:
        all_headers = {"Content-Type": JSON_TYPE}
        all_headers.update(headers or {})
        return cls(status=status, body=jsonlib.dumps(doc).encode(), headers=all_headers)

    @classmethod
    def empty(cls, status: int = 204) -> Response:
        return cls(status=status)

    @property
    def content_type(self) -> str:
        return str(CaseInsensitiveDict(self.headers).get("Content-Type", ""))

    def __repr__(self) -> str:
        return f"Response(status={self.status}, {len(self.body)} bytes)"


class ApiError(Exception):
    """A Globus-style error reply: `{code, message, request_id, resource}` plus extras."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def to_response(self, request: Request, *, jsonapi: bool = False) -> Response:
        """The error document; `jsonapi` adds the JSON:API `errors` array (Transfer /v2)."""
        doc: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "request_id": request.request_id,
            "resource": request.path,
        }
        if jsonapi:
            doc["errors"] = [
                {
                    "status": str(self.status),
                    "code": _jsonapi_code(self.code),
                    "title": self.code,
                    "detail": self.message,
                }
            ]
        doc.update(self.extra)
        return Response.json(doc, status=self.status, headers=self.headers)


def _jsonapi_code(code: str) -> str:
    # globus-sdk's TransferClientV2 recognises non-transient errors by the exact sub-error
    # codes "ExternalError" and "EndpointError"; the flat code keeps the detail.
    family = code.split(".", 1)[0]
    return family if family in ("ExternalError", "EndpointError") else code


class NotFound(ApiError):
    def __init__(self, message: str, code: str = "ClientError.NotFound") -> None:
        super().__init__(404, code, message)


class PermissionDenied(ApiError):
    def __init__(self, message: str, code: str = "PermissionDenied") -> None:
        super().__init__(403, code, message)


class BadRequest(ApiError):
    def __init__(self, message: str, code: str = "BadRequest") -> None:
        super().__init__(400, code, message)


class Unauthorized(ApiError):
    def __init__(self, message: str = "No valid access token was provided") -> None:
        super().__init__(
            401,
            "AuthenticationFailed",
            message,
            headers={"WWW-Authenticate": 'Bearer realm="globus", error="invalid_token"'},
        )


# A handler receives the simulator and the request and returns a Response or a JSON-able
# document (sent as 200 application/json).
Handler = Callable[[Any, Request], "Response | dict[str, Any] | list[Any]"]

_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    handler: Handler
    regex: re.Pattern[str]
    # False for calls that carry no bearer token (the OAuth2 token endpoint itself).
    auth: bool = True
    # The name faults match on (defaults to the handler's name, e.g. "get_tunnel").
    name: str = ""
    # Error replies also carry a JSON:API `errors` array (Transfer's /v2 routes).
    jsonapi: bool = False
    # The literal text before the first `{`: a cheap first filter when matching.
    prefix: str = ""


class Router:
    """Maps (method, path pattern) to handlers; patterns use `{name}` path parameters.

    A `{name}` matches one path segment. Prefixes let one handler serve both
    `/v0.10/...` and `/v2/...` (the SDK's TransferClient and TransferClientV2).
    """

    def __init__(self) -> None:
        self._routes: list[Route] = []
        self._static: dict[tuple[str, str], Route] = {}

    @property
    def routes(self) -> list[Route]:
        return list(self._routes)

    def add(
        self,
        method: str,
        pattern: str,
        handler: Handler,
        *,
        auth: bool = True,
        name: str | None = None,
        jsonapi: bool = False,
    ) -> None:
        regex = re.compile("^" + _PARAM.sub(r"(?P<\1>[^/]+)", _escape_braces(pattern)) + "/?$")
        route = Route(
            method=method.upper(),
            pattern=pattern,
            handler=handler,
            regex=regex,
            auth=auth,
            name=name or getattr(handler, "__name__", pattern),
            jsonapi=jsonapi,
            prefix=pattern.partition("{")[0],
        )
        self._routes.append(route)
        if "{" not in pattern:
            self._static[(route.method, pattern.rstrip("/"))] = route

    def route(
        self, method: str, *patterns: str, auth: bool = True, name: str | None = None
    ) -> Callable[[Handler], Handler]:
        """Decorator form of `add`; several patterns register the same handler."""

        def decorate(handler: Handler) -> Handler:
            for pattern in patterns:
                self.add(method, pattern, handler, auth=auth, name=name)
            return handler

        return decorate

    def include(self, other: Router) -> None:
        for route in other._routes:
            self._routes.append(route)
            if "{" not in route.pattern:
                self._static[(route.method, route.pattern.rstrip("/"))] = route

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route for this call and its path parameters, or a 404/405 ApiError."""
        method = method.upper()
        static = self._static.get((method, path.rstrip("/")))
        if static is not None:
            return static, {}
        allowed = False
        for route in self._routes:
            # The literal text before the first `{` rules most routes out cheaply.
            if not path.startswith(route.prefix):
                continue
            found = route.regex.match(path)
            if found is None:
                continue
            if route.method == method:
                return route, {k: unquote(v) for k, v in found.groupdict().items()}
            allowed = True
        if allowed:
            raise ApiError(405, "MethodNotAllowed", f"Method {method} not allowed for {path}")
        raise ApiError(404, "ClientError.NotFound", f"No such resource: {path}")


def _escape_braces(pattern: str) -> str:
    """re.escape everything except the `{name}` placeholders."""
    parts = _PARAM.split(pattern)
    # split() alternates literal text and parameter names.
    out = []
    for index, part in enumerate(parts):
        out.append(re.escape(part) if index % 2 == 0 else "{" + part + "}")
    return "".join(out)
