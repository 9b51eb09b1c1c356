"""Globus Auth: client credentials, refresh tokens, introspection, 401s (SPEC 5.1)."""

from __future__ import annotations

import time

import globus_sdk
import pytest
from globus_sdk import GlobusAppConfig

from orbit_sim.services.auth.scopes import TRANSFER_ALL

from .conftest import TRANSFER_RS, Globus


def test_client_credentials_give_tokens_per_resource_server(globus: Globus) -> None:
    endpoint = globus.sim.world.endpoints[0]
    gcs_scope = globus_sdk.GCSClient.get_gcs_endpoint_scopes(endpoint.id).manage_collections
    response = globus.auth_client().oauth2_client_credentials_tokens([TRANSFER_ALL, gcs_scope])

    by_rs = response.by_resource_server
    assert set(by_rs) == {TRANSFER_RS, endpoint.id}
    assert by_rs[TRANSFER_RS]["scope"] == TRANSFER_ALL
    assert by_rs[endpoint.id]["scope"] == str(gcs_scope)
    assert by_rs[TRANSFER_RS]["expires_at_seconds"] > 0
    assert len(response["other_tokens"]) == 1


def test_client_app_logs_in_with_client_credentials(globus: Globus) -> None:
    app = globus_sdk.ClientApp(
        "orbit-sim test",
        client_id=globus.default.client_id,
        client_secret=globus.default.client_secret,
        config=GlobusAppConfig(token_storage="memory"),
    )
    tc = globus_sdk.TransferClient(app=app)
    access_points = list(tc.get("/v2/stream_access_points")["data"])
    assert {ap["id"] for ap in access_points} == {
        globus.sim.world.initiator_ap_id,
        globus.sim.world.listener_ap_id,
    }


def test_wrong_client_secret_is_rejected(globus: Globus) -> None:
    client = globus_sdk.ConfidentialAppAuthClient(globus.default.client_id, "not-the-secret")
    with pytest.raises(globus_sdk.AuthAPIError) as caught:
        client.oauth2_client_credentials_tokens(TRANSFER_ALL)
    assert caught.value.http_status == 401
    assert caught.value.code == "invalid_client"


def test_unknown_scope_is_rejected(globus: Globus) -> None:
    with pytest.raises(globus_sdk.AuthAPIError) as caught:
        globus.auth_client().oauth2_client_credentials_tokens("not-a-scope")
    assert caught.value.http_status == 400


@pytest.mark.parametrize("token", [None, "no-such-token"])
def test_missing_or_unknown_token_gets_401(globus: Globus, token: str | None) -> None:
    authorizer = globus_sdk.AccessTokenAuthorizer(token) if token else None
    tc = globus_sdk.TransferClient(authorizer=authorizer)
    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        tc.list_tunnels()
    assert caught.value.http_status == 401
    assert caught.value.code == "AuthenticationFailed"
    assert caught.value.request_id


def test_expired_token_gets_401_on_the_virtual_clock(globus: Globus) -> None:
    token = globus.tokens([TRANSFER_ALL])[TRANSFER_RS]
    tc = globus_sdk.TransferClient(
        authorizer=globus_sdk.AccessTokenAuthorizer(token["access_token"])
    )
    assert tc.list_tunnels()["data"] == []
    globus.sim.advance(globus.sim.auth.access_token_lifetime + 1)
    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        tc.list_tunnels()
    assert caught.value.http_status == 401


def test_token_for_another_resource_server_gets_401(globus: Globus) -> None:
    endpoint = globus.sim.world.endpoints[0]
    scope = globus_sdk.GCSClient.get_gcs_endpoint_scopes(endpoint.id).manage_collections
    gcs_token = globus.tokens([scope])[endpoint.id]["access_token"]
    tc = globus_sdk.TransferClient(authorizer=globus_sdk.AccessTokenAuthorizer(gcs_token))
    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        tc.list_tunnels()
    assert caught.value.http_status == 401


def _native_login(globus: Globus) -> tuple[globus_sdk.NativeAppAuthClient, dict]:
    world = globus.sim.world
    tokens = globus.sim.issue_tokens(TRANSFER_ALL)
    return globus_sdk.NativeAppAuthClient(world.native_client_id), tokens


def test_refresh_token_authorizer_renews_an_expired_token(globus: Globus) -> None:
    auth_client, tokens = _native_login(globus)
    authorizer = globus_sdk.RefreshTokenAuthorizer(
        tokens["refresh_token"],
        auth_client,
        access_token=tokens["access_token"],
        expires_at=int(time.time()) + tokens["expires_in"],
    )
    tc = globus_sdk.TransferClient(authorizer=authorizer)
    tc.list_tunnels()
    first = authorizer.access_token

    # The sim's clock passes the lifetime; the SDK's own clock does not know, so the
    # first call gets a 401 and the authorizer refreshes and retries transparently.
    globus.sim.advance(tokens["expires_in"] + 60)
    assert tc.list_tunnels()["data"] == []
    assert authorizer.access_token != first
    assert globus.sim.auth.lookup(first).is_valid(globus.sim.clock.now()) is False


def test_expire_tokens_control_action_forces_a_refresh(globus: Globus) -> None:
    auth_client, tokens = _native_login(globus)
    authorizer = globus_sdk.RefreshTokenAuthorizer(tokens["refresh_token"], auth_client)
    tc = globus_sdk.TransferClient(authorizer=authorizer)
    tc.list_tunnels()
    before = authorizer.access_token
    assert globus.sim.expire_tokens() >= 1
    tc.list_tunnels()
    assert authorizer.access_token != before


def test_refresh_token_of_another_client_is_refused(globus: Globus) -> None:
    _, tokens = _native_login(globus)
    other = globus.sim.auth.create_native_client("other app")
    with pytest.raises(globus_sdk.AuthAPIError) as caught:
        globus_sdk.NativeAppAuthClient(other.id).oauth2_refresh_token(tokens["refresh_token"])
    assert caught.value.code == "invalid_grant"


def test_introspection_reports_active_and_expired_tokens(globus: Globus) -> None:
    token = globus.tokens([TRANSFER_ALL])[TRANSFER_RS]
    client = globus.auth_client()
    info = client.oauth2_token_introspect(token["access_token"])
    assert info["active"] is True
    assert info["client_id"] == globus.default.client_id
    assert info["scope"] == TRANSFER_ALL
    assert info["exp"] > info["iat"]
    globus.sim.advance(globus.sim.auth.access_token_lifetime)
    assert client.oauth2_token_introspect(token["access_token"])["active"] is False


def test_identities_lookup_and_userinfo(globus: Globus) -> None:
    world = globus.sim.world
    scopes = ["openid", "profile", "email", "urn:globus:auth:scope:auth.globus.org:view_identities"]
    token = globus.tokens(scopes)["auth.globus.org"]["access_token"]
    auth = globus_sdk.AuthClient(authorizer=globus_sdk.AccessTokenAuthorizer(token))
    found = auth.get_identities(ids=[world.user_id, world.client_id])
    usernames = {i["username"] for i in found["identities"]}
    assert usernames == {"user@orbit-sim.example", f"{world.client_id}@clients.auth.globus.org"}
    assert auth.get_identities(usernames="user@orbit-sim.example")["identities"][0]["id"] == (
        world.user_id
    )
    assert auth.userinfo()["sub"] == world.client_id


def test_dependent_scopes_are_recorded_on_the_token(globus: Globus) -> None:
    collection = "1c8a2fd8-9f1e-4a4a-9c3b-2d4f0c3b1a77"
    scope = f"{TRANSFER_ALL}[*https://auth.globus.org/scopes/{collection}/data_access]"
    value = globus.tokens([scope])[TRANSFER_RS]["access_token"]
    token = globus.sim.auth.lookup(value)
    assert token is not None
    assert token.has_scope(f"https://auth.globus.org/scopes/{collection}/data_access")
    assert token.has_scope(TRANSFER_ALL)


def test_native_app_login_flow_with_pkce(globus: Globus) -> None:
    import re

    import requests

    world = globus.sim.world
    client = globus_sdk.NativeAppAuthClient(world.native_client_id)
    client.oauth2_start_flow(requested_scopes=TRANSFER_ALL, refresh_tokens=True)
    verify = str(globus.server.ca_path) if globus.server else True
    page = requests.get(client.oauth2_get_authorize_url(), timeout=10, verify=verify)
    assert page.status_code == 200
    code = re.search(r"\n\n(\S+)\n", page.text)
    assert code is not None
    tokens = client.oauth2_exchange_code_for_tokens(code.group(1))
    refresh = tokens.by_resource_server[TRANSFER_RS]["refresh_token"]
    tc = globus_sdk.TransferClient(authorizer=globus_sdk.RefreshTokenAuthorizer(refresh, client))
    assert tc.list_tunnels()["data"] == []
    token = globus.sim.auth.lookup(tc.authorizer.access_token)  # type: ignore[union-attr]
    assert token is not None and token.identity_id == world.user_id
    with pytest.raises(globus_sdk.AuthAPIError):
        client.oauth2_exchange_code_for_tokens(code.group(1))  # a code works once
