"""EndpointClient: an application's connection to an endpoint host.

It registers as a client on first use (``POST /clients``) and sends the token it gets
back as a bearer credential on every call; plugins tie the client's sessions to it.
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Any

import requests

from orbit_globus.transfer.errors import CLIENT_CLOSED, PluginError, error_from_json

if TYPE_CHECKING:
    from orbit_globus.transfer.client import GlobusClient

DEFAULT_TIMEOUT = 60.0


class EndpointClient:
    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"endpoint URL must start with http:// or https://: {url!r}")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._token: str | None = None
        self._closed = False
        self.client_id: str | None = None
        self._register_lock = threading.Lock()
        self._local = threading.local()  # one HTTP session per thread (requests is not
        # documented as thread-safe, and the notification pump runs in its own thread)
        self._https: list[requests.Session] = []

    def __repr__(self) -> str:
        return f"EndpointClient({self.url!r}, client_id={self.client_id!r})"

    def __enter__(self) -> EndpointClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _http(self) -> requests.Session:
        http = getattr(self._local, "http", None)
        if http is None:
            http = self._local.http = requests.Session()
            self._https.append(http)
        return http

    def _send(
        self, method: str, path: str, *, token: str | None, timeout: float | None, **kwargs: Any
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            reply = self._http().request(
                method,
                self.url + path,
                headers=headers,
                timeout=timeout or self.timeout,
                **kwargs,
            )
        except requests.RequestException as err:
            raise PluginError(
                f"endpoint {self.url} unreachable: {type(err).__name__}",
                code="EndpointUnreachable",
                status=503,
            ) from None
        if reply.status_code == 204:
            return None
        try:
            body = reply.json()
        except ValueError:
            body = reply.text
        if reply.status_code >= 400:
            raise error_from_json(reply.status_code, body)
        return body

    def _ensure_registered(self) -> str:
        with self._register_lock:
            if self._closed:
                raise PluginError("this EndpointClient is closed", code=CLIENT_CLOSED)
            if self._token is None:
                reply = self._send("POST", "/clients", token=None, timeout=None)
                self.client_id, self._token = reply["client_id"], reply["token"]
            return self._token

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        timeout: float | None = None,
    ) -> Any:
        """Call the host as this client; a JSON reply, or the PluginError it sent."""
        token = self._ensure_registered()
        return self._send(method, path, token=token, timeout=timeout, json=json, params=params)

    def plugins(self) -> list[str]:
        return list(self._send("GET", "/plugins", token=None, timeout=None)["plugins"])

    def get_plugin(self, name: str) -> GlobusClient:
        if name != "globus":
            raise ValueError(f"unknown plugin {name!r}; this package offers: globus")
        if name not in self.plugins():
            raise PluginError(f"the endpoint at {self.url} does not serve the {name} plugin")
        from orbit_globus.transfer.client import GlobusClient

        return GlobusClient(self)

    def close(self) -> None:
        """Unregister (the host closes this client's sessions) and drop connections."""
        with self._register_lock:
            self._closed = True
        if self._token is not None:
            # If the host is gone there is nothing left to close there.
            with contextlib.suppress(PluginError):
                self._send("DELETE", "/clients/me", token=self._token, timeout=10.0)
            self._token = None
        for http in self._https:
            http.close()
        self._https.clear()
