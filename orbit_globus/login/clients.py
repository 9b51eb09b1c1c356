"""globus-sdk clients for Transfer (tunnels, access points, endpoints) and a GCS Manager.

One `GlobusApp` feeds every client. A GCS endpoint's scope is added to the app only when a
command needs that endpoint, so a user login asks for GCS consent only then.
"""

from __future__ import annotations

import functools
import logging

import globus_sdk
from globus_sdk.experimental import TransferClientV2
from globus_sdk.token_storage import TokenValidationError

from orbit_globus.streams.errors import ExitCode, StreamsError

from .app import make_app, retry_config

log = logging.getLogger(__name__)


class Globus:
    """Lazily built SDK clients sharing one app (retries for 429/5xx come from the SDK)."""

    def __init__(self, *, interactive: bool = False, app: globus_sdk.GlobusApp | None = None):
        self._interactive = interactive
        self._app = app

    @property
    def app(self) -> globus_sdk.GlobusApp:
        if self._app is None:
            self._app = make_app(interactive=self._interactive)
        return self._app

    @functools.cached_property
    def transfer(self) -> TransferClientV2:
        """The `/v2` client: tunnels and stream access points."""
        return TransferClientV2(app=self.app, retry_config=retry_config())

    @functools.cached_property
    def transfer_v0(self) -> globus_sdk.TransferClient:
        """The `/v0.10` client: endpoint documents (for the GCS Manager address)."""
        return globus_sdk.TransferClient(app=self.app, retry_config=retry_config())

    def gcs_manager_url(self, endpoint_id: str) -> str:
        doc = self.transfer_v0.get_endpoint(endpoint_id)
        url = doc.get("gcs_manager_url")
        if not url:
            raise StreamsError(f"endpoint {endpoint_id} has no GCS Manager (gcs_manager_url)")
        return str(url)

    @functools.cache  # noqa: B019 - one Globus per process
    def gcs(self, endpoint_id: str) -> globus_sdk.GCSClient:
        """A client for `endpoint_id`'s GCS Manager, authorized for that endpoint."""
        url = self.gcs_manager_url(endpoint_id)
        scope = globus_sdk.GCSClient.get_gcs_endpoint_scopes(endpoint_id).manage_collections
        # The endpoint id is its GCS Manager's resource server; naming it here avoids the
        # unauthenticated /info round trip GCSClient(app=...) would make to learn it.
        self.app.add_scope_requirements({endpoint_id: [scope]})
        log.debug("GCS Manager for endpoint %s at %s", endpoint_id, url)
        try:
            authorizer = self.app.get_authorizer(endpoint_id)
        except TokenValidationError:
            raise StreamsError(
                f"this login has no consent to manage GCS endpoint {endpoint_id}; "
                f"run: globus-streams login --gcs {endpoint_id}",
                exit_code=ExitCode.LOGIN,
            ) from None
        return globus_sdk.GCSClient(url, authorizer=authorizer, retry_config=retry_config())

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
