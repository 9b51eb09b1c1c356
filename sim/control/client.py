"""`SimControl(url)`: the Python client of the control API ($ORBIT_SIM_URL).

Its methods are generated from the control API's table (`api.py`): the same names,
parameters and docstrings as the Simulator's control methods, so a test can drive an
in-process simulator or a `orbit-sim serve` subprocess the same way. Each returns the
route's JSON answer (a number, a flag or None where the table says so).
"""

from __future__ import annotations

from typing import Any

import requests

from orbit_sim.control.api import CONTROL_API, client_method


class SimControlError(RuntimeError):
    """The control API refused a request (bad input, unknown tunnel/secret/fault)."""


class SimControl:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._session.request(method, self.url + path, json=body, timeout=self.timeout)
        if response.status_code >= 400:
            try:
                message = response.json().get("message", response.text)
            except ValueError:
                message = response.text
            raise SimControlError(f"{method} {path}: {response.status_code} {message}")
        return response.json()

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> SimControl:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SimControl({self.url!r})"


for _call in CONTROL_API:
    setattr(SimControl, _call.name, client_method(_call))
