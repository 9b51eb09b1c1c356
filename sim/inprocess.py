"""In-process adapter: globus-sdk's HTTP calls answered by a Simulator via `responses`.

    with orbit_sim.mock_globus() as sim:      # or mock_globus(my_sim), or as a decorator
        tc = globus_sdk.TransferClient(authorizer=...)

Globus' own hosts are intercepted: auth.globus.org, transfer.api.globus.org and each
simulated endpoint's GCS Manager (`<id>.<id>.data.globus.org`). Loopback URLs pass
through, so a loopback server can run beside it.

With `keep_calls=True` each call is also recorded in `responses.calls`, the list that
`globus_sdk.testing.get_last_request()` reads; `record_loopback_calls()` does the same for
calls that go to a loopback server (the pytest plugin's server mode).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from contextlib import ContextDecorator
from typing import Any
from urllib.parse import urlsplit

import requests
import responses

from orbit_sim.core.http import Request
from orbit_sim.core.simulator import Simulator

AUTH_URL = re.compile(r"https://auth\.globus\.org(:443)?/.*")
TRANSFER_URL = re.compile(r"https://transfer\.api\.globus\.org(:443)?/.*")
GCS_URL = re.compile(r"https://[^/]+\.data\.globus\.org(:443)?/.*")
LOOPBACK_URL = re.compile(r"https?://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?/")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")


class mock_globus(ContextDecorator):  # noqa: N801 - named like moto's mock_aws
    """Route globus-sdk's requests to `sim` (a new default Simulator if none is given).

    `keep_calls`: record every call in `responses.calls` (the default mock's list, which
    `globus_sdk.testing.get_last_request()` reads); it is cleared on entry and kept after
    exit. Off by default: a long simulated session would grow the list without bound.
    """

    def __init__(
        self, sim: Simulator | None = None, *, keep_calls: bool = False, **simulator_options: Any
    ) -> None:
        self._given = sim
        self._keep_calls = keep_calls
        self._options = simulator_options
        self.sim: Simulator | None = sim
        self._mock: responses.RequestsMock | None = None

    def __enter__(self) -> Simulator:
        sim = self._given if self._given is not None else Simulator(**self._options)
        self.sim = sim
        mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        for service, pattern in (("auth", AUTH_URL), ("transfer", TRANSFER_URL), ("gcs", GCS_URL)):
            for method in METHODS:
                mock.add_callback(method, pattern, callback=_callback(sim, service))
        mock.add_passthru(LOOPBACK_URL)
        _forget_calls(mock)
        if self._keep_calls:
            _record_into_default_calls(mock)
        mock.start()
        self._mock = mock
        return sim

    def __exit__(self, *exc: Any) -> None:
        if self._mock is not None:
            self._mock.stop()
            _forget_calls(self._mock)  # reset() must not clear the shared `responses.calls`
            self._mock.reset()
            self._mock = None
        if self._given is None and self.sim is not None:
            self.sim.close()
            self.sim = None


class _CallsNotKept(responses.CallList):
    """responses records every call for assertions; a long simulated session would grow
    without bound, and nobody can assert on this private mock anyway."""

    def add(self, request: Any, response: Any) -> None:
        return None

    def add_call(self, call: Any) -> None:
        return None


def _forget_calls(mock: responses.RequestsMock) -> None:
    # `_calls` is responses' own attribute (mock-wide and per registered response); if a
    # future responses renames it, calls are simply kept again.
    for holder in [mock, *mock.registered()]:
        if isinstance(getattr(holder, "_calls", None), responses.CallList):
            holder._calls = _CallsNotKept()


def _record_into_default_calls(mock: responses.RequestsMock) -> None:
    # `responses.calls` is the default mock's CallList object, bound at import and only
    # ever reset in place, so calls added to it here are what get_last_request() sees.
    responses.calls.reset()
    mock._calls = responses.calls


@contextlib.contextmanager
def record_loopback_calls() -> Iterator[responses.RequestsMock]:
    """Let every request through unchanged, recording those to loopback servers in
    `responses.calls` (for `get_last_request()` when the simulator runs on loopback)."""
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)
    for method in METHODS:
        # A registered passthrough response is recorded; a passthru prefix is not.
        mock.add(responses.PassthroughResponse(method, LOOPBACK_URL))
    mock.add_passthru(re.compile(r".*"))
    _forget_calls(mock)
    _record_into_default_calls(mock)
    mock.start()
    try:
        yield mock
    finally:
        mock.stop()
        _forget_calls(mock)


def _callback(sim: Simulator, service: str) -> Callable[[requests.PreparedRequest], Any]:
    """The `responses` callback for one service: the reply, or the exception to raise."""

    def answer(prepared: requests.PreparedRequest) -> Any:
        url = urlsplit(prepared.url or "")
        endpoint_id = None
        if service == "gcs":
            endpoint = sim.gcs.endpoint_for_host(url.hostname or "")
            endpoint_id = endpoint.id if endpoint is not None else None
        request = Request.from_url_parts(
            prepared.method or "GET",
            url.path,
            url.query,
            prepared.headers.items(),
            prepared.body,
            service=service,
            endpoint_id=endpoint_id,
        )
        response = sim.handle(request)
        if response.drop_connection:
            return requests.ConnectionError("Connection aborted: the simulator dropped it")
        return response.status, response.headers, response.body

    return answer
