"""Auth handlers: /v2/oauth2/token (grants), introspect, revoke, userinfo, identities."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlencode

from orbit_sim.core.http import Request, Response
from orbit_sim.services.auth import oidc
from orbit_sim.services.auth.exceptions import InvalidClient, InvalidRequest, UnsupportedGrantType
from orbit_sim.services.auth.models import Client

if TYPE_CHECKING:
    from orbit_sim.core.simulator import Simulator

AUTH_HOST = "auth.globus.org"


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient("Malformed Basic authorization header") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise InvalidClient("Malformed Basic authorization header")
    return unquote(client_id), unquote(secret)


def _calling_client(sim: Simulator, request: Request, form: dict[str, str]) -> Client:
    """The client from Basic auth (confidential) or the form's client_id (native app)."""
    basic = _basic_credentials(request)
    if basic is not None:
        return sim.auth.client_for_credentials(*basic)
    client_id = form.get("client_id")
    if not client_id:
        raise InvalidClient("Client authentication is required")
    client = sim.auth.client_for_credentials(client_id, form.get("client_secret"))
    return client


def _confidential_client(sim: Simulator, request: Request) -> Client:
    basic = _basic_credentials(request)
    if basic is None:
        raise InvalidClient("Client authentication is required")
    client = sim.auth.client_for_credentials(*basic)
    if not client.confidential:
        raise InvalidClient("Only confidential clients may call this")
    return client


def token(sim: Simulator, request: Request) -> dict[str, Any]:
    form = request.form()
    grant_type = form.get("grant_type", "")
    client = _calling_client(sim, request, form)
    if grant_type == "client_credentials":
        if not client.confidential or client.identity_id is None:
            raise InvalidClient("client_credentials needs a confidential client")
        return sim.auth.issue_tokens(client.identity_id, client.id, form.get("scope", ""))
    if grant_type == "refresh_token":
        if not form.get("refresh_token"):
            raise InvalidRequest("refresh_token is required")
        return sim.auth.refresh(form["refresh_token"], client)
    if grant_type == "authorization_code":
        if not form.get("code"):
            raise InvalidRequest("code is required")
        return sim.auth.exchange_code(
            form["code"], client, form.get("redirect_uri", ""), form.get("code_verifier")
        )
    raise UnsupportedGrantType(grant_type)


def introspect(sim: Simulator, request: Request) -> dict[str, Any]:
    _confidential_client(sim, request)
    value = request.form().get("token", "")
    found = sim.auth.lookup(value)
    if found is None or not found.is_valid(sim.clock.now()):
        return {"active": False}
    identity = sim.auth.identities.get(found.identity_id)
    doc: dict[str, Any] = {
        "active": True,
        "scope": found.scope_string,
        "client_id": found.client_id,
        "sub": found.identity_id,
        "username": identity.username if identity else None,
        "name": identity.name if identity else None,
        "email": identity.email if identity else None,
        "aud": [found.resource_server, found.client_id],
        "iss": "https://auth.globus.org",
        "iat": int(found.issued_at),
        "nbf": int(found.issued_at),
        "exp": int(found.expires_at) if found.expires_at is not None else None,
        "token_type": "Bearer",
        "identity_set": [found.identity_id],
    }
    return doc


def revoke(sim: Simulator, request: Request) -> dict[str, Any]:
    form = request.form()
    _calling_client(sim, request, form)
    sim.auth.revoke(form.get("token", ""))
    return {"active": False}


def userinfo(sim: Simulator, request: Request) -> dict[str, Any]:
    assert request.token is not None
    identity = sim.auth.identities[request.token.identity_id]
    return {
        "sub": identity.id,
        "preferred_username": identity.username,
        "name": identity.name,
        "email": identity.email,
        "organization": identity.organization,
        "identity_provider": identity.identity_provider,
        "identity_set": [identity.to_json() | {"sub": identity.id}],
    }


def get_identities(sim: Simulator, request: Request) -> dict[str, Any]:
    # Either a bearer token for Auth or a confidential client's Basic credentials.
    if _basic_credentials(request) is not None:
        _confidential_client(sim, request)
    else:
        request.token = sim.auth.authenticate(request)
    ids = _split(request.query.get("ids", []))
    usernames = _split(request.query.get("usernames", []))
    found = [
        identity.to_json()
        for identity in sim.auth.identities.values()
        if identity.id in ids or identity.username in usernames
    ]
    return {"identities": found}


def authorize(sim: Simulator, request: Request) -> Response:
    """The browser step of a login, consented at once: redirect with `code` and `state`.

    The identity is the one named by `login_hint` (a username), else the default user.
    """
    client_id = request.arg("client_id") or ""
    redirect_uri = request.arg("redirect_uri") or ""
    if request.arg("response_type", "code") != "code" or not redirect_uri:
        raise InvalidRequest("response_type=code and redirect_uri are required")
    hint = request.arg("login_hint")
    identity_id = next(
        (i.id for i in sim.auth.identities.values() if hint and i.username == hint),
        sim.world.user_id if sim.world else None,
    )
    if identity_id is None:
        raise InvalidRequest("No identity to log in as")
    code = sim.auth.authorize(
        identity_id,
        client_id,
        request.arg("scope") or "",
        redirect_uri,
        request.arg("code_challenge"),
    )
    query = {"code": code}
    if request.arg("state") is not None:
        query["state"] = request.arg("state") or ""
    separator = "&" if "?" in redirect_uri else "?"
    location = f"{redirect_uri}{separator}{urlencode(query)}"
    return Response(status=302, headers={"Location": location})


def auth_code_page(sim: Simulator, request: Request) -> Response:
    """What Globus shows a native app user: the code to paste back into the app."""
    code = request.arg("code") or ""
    text = f"Native App Authorization Code\n\n{code}\n"
    return Response(status=200, body=text.encode(), headers={"Content-Type": "text/plain"})


def openid_configuration(sim: Simulator, request: Request) -> dict[str, Any]:
    return oidc.openid_configuration(_auth_url(request))


def jwk_set(sim: Simulator, request: Request) -> dict[str, Any]:
    return sim.auth_signing_key.jwk_set()


def _auth_url(request: Request) -> str:
    """Where the caller reaches Auth: Globus' own URL in-process (no Host header through
    `responses`), else the loopback server it connected to, under the server's prefix."""
    host = request.headers.get("host")
    if not host or host == AUTH_HOST:
        return oidc.ISSUER
    from orbit_sim.server import PREFIXES

    prefix = next(prefix for prefix, service in PREFIXES.items() if service == "auth")
    return f"http://{host}{prefix}"


def _split(values: list[str]) -> set[str]:
    return {part.strip() for value in values for part in value.split(",") if part.strip()}
