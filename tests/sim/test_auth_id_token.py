"""OpenID Connect: id_tokens that unmodified globus-sdk decodes and verifies (in-process and
over loopback), as it does against Globus Auth."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import globus_sdk
import jwt
import pytest
import requests

from orbit_sim import Simulator
from orbit_sim.services.auth.scopes import TRANSFER_ALL

from .conftest import Globus

LOGIN_SCOPES = [TRANSFER_ALL, "openid", "profile", "email"]


def native_login(globus: Globus, scopes: list[str]) -> globus_sdk.OAuthTokenResponse:
    """A native-app login: the authorize URL (the simulator consents at once), then the
    code exchange, all through globus-sdk's own flow manager (PKCE)."""
    client = globus_sdk.NativeAppAuthClient(globus.sim.world.native_client_id)
    client.oauth2_start_flow(requested_scopes=scopes, refresh_tokens=True)
    consent = requests.get(client.oauth2_get_authorize_url(), allow_redirects=False, timeout=10)
    assert consent.status_code == 302
    code = parse_qs(urlsplit(consent.headers["Location"]).query)["code"][0]
    return client.oauth2_exchange_code_for_tokens(code)


def test_native_app_login_id_token_names_the_user(globus: Globus) -> None:
    world = globus.sim.world
    user = globus.sim.auth.identities[world.user_id]
    response = native_login(globus, LOGIN_SCOPES)

    claims = response.decode_id_token()

    assert claims["sub"] == world.user_id
    assert claims["aud"] == world.native_client_id
    assert claims["iss"] == "https://auth.globus.org"
    assert claims["preferred_username"] == user.username
    assert claims["email"] == "user@orbit-sim.example"
    assert [member["sub"] for member in claims["identity_set"]] == [world.user_id]
    assert claims["identity_set"][0]["username"] == user.username


def test_confidential_client_id_token_is_its_own_identity(globus: Globus) -> None:
    response = globus.auth_client().oauth2_client_credentials_tokens(
        ["openid", "profile", TRANSFER_ALL]
    )

    claims = response.decode_id_token()

    client_id = globus.default.client_id
    assert claims["sub"] == claims["aud"] == client_id
    assert claims["preferred_username"] == f"{client_id}@clients.auth.globus.org"
    assert "email" not in claims  # the email scope was not asked for


def test_without_openid_there_is_no_id_token(globus: Globus) -> None:
    response = globus.auth_client().oauth2_client_credentials_tokens(TRANSFER_ALL)
    assert "id_token" not in response.data


def test_a_refresh_answers_without_an_id_token(globus: Globus) -> None:
    login = native_login(globus, LOGIN_SCOPES)
    refresh_token = login.by_resource_server["auth.globus.org"]["refresh_token"]
    client = globus_sdk.NativeAppAuthClient(globus.sim.world.native_client_id)
    refreshed = client.oauth2_refresh_token(refresh_token)
    assert refreshed.by_resource_server["auth.globus.org"]["access_token"]
    assert "id_token" not in refreshed.data


def test_discovery_documents_point_at_the_simulator(globus: Globus) -> None:
    client = globus.auth_client()
    config = client.get_openid_configuration()
    assert config["id_token_signing_alg_values_supported"] == ["RS512"]
    assert config["jwks_uri"].startswith(client.base_url.rstrip("/"))
    keys = client.get_jwk(config)["keys"]
    assert [(key["kty"], key["alg"], key["use"]) for key in keys] == [("RSA", "RS512", "sig")]
    assert "d" not in keys[0]  # the public half only


def test_the_sdk_checks_the_audience(globus: Globus) -> None:
    id_token = globus.auth_client().oauth2_client_credentials_tokens("openid")["id_token"]
    other = globus.auth_client(globus.new_identity())
    with pytest.raises(jwt.InvalidAudienceError):
        globus_sdk.IDTokenDecoder(other).decode(id_token)


def test_the_sdk_checks_the_signature(globus: Globus) -> None:
    client = globus.auth_client()
    genuine = client.oauth2_client_credentials_tokens("openid")["id_token"]
    decoder = globus_sdk.IDTokenDecoder(client)
    assert decoder.decode(genuine)["sub"] == client.client_id
    claims = jwt.decode(genuine, options={"verify_signature": False})
    with Simulator(world=False) as stranger:
        forged = stranger.auth_signing_key.sign(claims)  # same claims, another key
    with pytest.raises(jwt.InvalidSignatureError):
        decoder.decode(forged)


def test_a_reset_keeps_the_signing_key(globus: Globus) -> None:
    client = globus.auth_client()
    decoder = globus_sdk.IDTokenDecoder(client)  # caches the JWK on first use
    before = client.oauth2_client_credentials_tokens("openid")["id_token"]
    assert decoder.decode(before)["sub"] == client.client_id

    globus.sim.reset()

    after = client.oauth2_client_credentials_tokens("openid")["id_token"]
    assert decoder.decode(after)["sub"] == client.client_id
