"""`SimControl(url)`: the Python client of the control API ($ORBIT_SIM_URL).

Its methods mirror the Simulator's control methods, so a test can drive an in-process
simulator or a `orbit-sim serve` subprocess the same way.
"""

from __future__ import annotations

from typing import Any

import requests


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

    # -- clock ------------------------------------------------------------------------------

    def now(self) -> float:
        return float(self._call("GET", "/clock")["now"])

    def advance(self, seconds: float) -> float:
        return float(self._call("POST", "/clock/advance", {"seconds": seconds})["now"])

    # -- tunnels, secrets, tokens -----------------------------------------------------------

    def stop_tunnel(self, tunnel_id: str) -> dict[str, Any]:
        return self._call("POST", f"/tunnels/{tunnel_id}/stop")

    def restart_tunnel(self, tunnel_id: str) -> dict[str, Any]:
        return self._call("POST", f"/tunnels/{tunnel_id}/restart")

    def expire_tunnel(self, tunnel_id: str) -> dict[str, Any]:
        return self._call("POST", f"/tunnels/{tunnel_id}/expire")

    def revoke_secret(self, secret_id: str) -> bool:
        return bool(self._call("POST", f"/lan_secrets/{secret_id}/revoke")["revoked"])

    def expire_tokens(self, identity_id: str | None = None) -> int:
        return int(self._call("POST", "/tokens/expire", {"identity_id": identity_id})["expired"])

    def issue_tokens(
        self, scopes: str | list[str], identity_id: str | None = None, client_id: str | None = None
    ) -> dict[str, Any]:
        """Tokens as after an interactive login (default user + native app, with refresh)."""
        body = {"scopes": scopes, "identity_id": identity_id, "client_id": client_id}
        return self._call("POST", "/tokens", body)

    def create_client(self, name: str = "orbit-sim extra client") -> dict[str, Any]:
        """A new confidential client: `{client_id, client_secret, identity_id}`."""
        return self._call("POST", "/clients", {"name": name})

    # -- transfer data ----------------------------------------------------------------------

    def put_file(
        self,
        collection_id: str,
        path: str,
        *,
        content: str | None = None,
        size: int | None = None,
        mtime: float | None = None,
    ) -> dict[str, Any]:
        """Create or replace a file in a collection: text `content`, or a synthetic file of
        `size` bytes (parents made as needed); `{path, size, checksum}`."""
        body = {"path": path, "content": content, "size": size, "mtime": mtime}
        return self._call("POST", f"/transfer/collections/{collection_id}/files", body)

    def set_quota(self, collection_id: str, quota_bytes: int | None) -> dict[str, Any]:
        """Limit the bytes a collection may hold (None: no limit)."""
        body = {"quota_bytes": quota_bytes}
        return self._call("PUT", f"/transfer/collections/{collection_id}/quota", body)

    def get_rates(self) -> dict[str, float]:
        return dict(self._call("GET", "/transfer/rates"))

    def set_rates(
        self,
        *,
        bytes_per_second: float | None = None,
        seconds_per_file: float | None = None,
        seconds_per_delete: float | None = None,
    ) -> dict[str, float]:
        """Change task rates (those given); tasks submitted afterwards use them."""
        given = {
            "bytes_per_second": bytes_per_second,
            "seconds_per_file": seconds_per_file,
            "seconds_per_delete": seconds_per_delete,
        }
        body = {key: value for key, value in given.items() if value is not None}
        return dict(self._call("PUT", "/transfer/rates", body))

    # -- faults -----------------------------------------------------------------------------

    def add_fault(self, spec: str | dict[str, Any]) -> dict[str, Any]:
        body = {"spec": spec} if isinstance(spec, str) else spec
        return self._call("POST", "/faults", body)

    def list_faults(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/faults")["faults"])

    def remove_fault(self, fault_id: str) -> None:
        self._call("DELETE", f"/faults/{fault_id}")

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    # -- whole simulator --------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return self._call("GET", "/state")

    def reset(self) -> dict[str, Any]:
        return self._call("POST", "/reset")

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> SimControl:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SimControl({self.url!r})"
