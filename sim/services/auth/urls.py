"""Auth API routes (paths as globus-sdk's AuthClient calls them)."""

from __future__ import annotations

from orbit_sim.core.http import Router
from orbit_sim.services.auth import responses


def build_router() -> Router:
    router = Router()
    # The token endpoints authenticate the client (Basic auth), not a bearer token.
    router.add("POST", "/v2/oauth2/token", responses.token, auth=False, name="oauth2_token")
    router.add("POST", "/v2/oauth2/token/introspect", responses.introspect, auth=False)
    router.add("POST", "/v2/oauth2/token/revoke", responses.revoke, auth=False)
    router.add("GET", "/v2/oauth2/userinfo", responses.userinfo)
    router.add("GET", "/v2/oauth2/authorize", responses.authorize, auth=False)
    router.add("GET", "/v2/web/auth-code", responses.auth_code_page, auth=False)
    router.add("GET", "/v2/api/identities", responses.get_identities, auth=False)
    router.add(
        "GET", "/.well-known/openid-configuration", responses.openid_configuration, auth=False
    )
    router.add("GET", "/jwk.json", responses.jwk_set, auth=False)
    return router
