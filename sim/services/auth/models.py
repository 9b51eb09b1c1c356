"""Auth state: identities, OAuth2 clients, access and refresh tokens on the sim's clock."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from base64 import urlsafe_b64encode
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from orbit_sim.core.http import Request, Unauthorized
from orbit_sim.services.auth import scopes as scope_lib
from orbit_sim.services.auth.exceptions import InvalidClient, InvalidGrant, InvalidScope
from orbit_sim.services.auth.oidc import id_token_claims

if TYPE_CHECKING:
    from orbit_sim.core.simulator import Simulator

# Globus Auth's usual access token lifetime (48 hours).
ACCESS_TOKEN_LIFETIME = 172800
AUTHORIZATION_CODE_LIFETIME = 600
IDENTITY_PROVIDER = "41143743-f3c8-4d60-bbdb-eeecaba85bd9"
CLIENT_USERNAME_SUFFIX = "@clients.auth.globus.org"


@dataclass
class Identity:
    id: str
    username: str
    name: str
    email: str | None
    organization: str | None = "orbit-sim"
    identity_provider: str = IDENTITY_PROVIDER
    status: str = "used"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "name": self.name,
            "email": self.email,
            "organization": self.organization,
            "identity_provider": self.identity_provider,
            "identity_type": "login",
            "status": self.status,
        }


@dataclass
class Client:
    id: str
    name: str
    # Confidential clients authenticate with a secret and act as their own identity.
    secret: str | None = field(default=None, repr=False)
    identity_id: str | None = None

    @property
    def confidential(self) -> bool:
        return self.secret is not None

    def check_secret(self, secret: str) -> bool:
        return self.secret is not None and secrets.compare_digest(self.secret, secret)


@dataclass
class Token:
    value: str = field(repr=False)
    kind: str  # "access" or "refresh"
    identity_id: str
    client_id: str
    resource_server: str
    scopes: frozenset[str]
    # Scopes consented below the top-level ones (e.g. a collection's data_access).
    dependent_scopes: frozenset[str] = frozenset()
    issued_at: float = 0.0
    expires_at: float | None = None
    revoked: bool = False

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes or scope in self.dependent_scopes

    def is_valid(self, now: float) -> bool:
        return not self.revoked and (self.expires_at is None or now < self.expires_at)

    @property
    def scope_string(self) -> str:
        return " ".join(sorted(self.scopes))


@dataclass
class AuthorizationCode:
    code: str = field(repr=False)
    identity_id: str
    client_id: str
    requested_scopes: str
    redirect_uri: str
    code_challenge: str | None
    expires_at: float


@dataclass
class _ScopeGroup:
    scopes: set[str] = field(default_factory=set)
    dependent: set[str] = field(default_factory=set)


class AuthBackend:
    """Identities, clients and tokens. Token checks use the simulator's clock."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.identities: dict[str, Identity] = {}
        self.clients: dict[str, Client] = {}
        self.tokens: dict[str, Token] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.access_token_lifetime = ACCESS_TOKEN_LIFETIME

    # -- identities and clients -------------------------------------------------------------

    def create_identity(
        self,
        username: str,
        name: str | None = None,
        email: str | None = None,
        *,
        identity_id: str | None = None,
    ) -> Identity:
        identity = Identity(
            id=identity_id or str(uuid.uuid4()),
            username=username,
            name=name or username,
            email=email,
        )
        self.identities[identity.id] = identity
        return identity

    def create_confidential_client(
        self, name: str, *, client_id: str | None = None, secret: str | None = None
    ) -> tuple[Client, str]:
        """A client-credentials app (its own identity); returns it with its secret."""
        client_id = client_id or str(uuid.uuid4())
        secret = secret or secrets.token_urlsafe(32)
        identity = Identity(
            id=client_id,
            username=client_id + CLIENT_USERNAME_SUFFIX,
            name=name,
            email=None,
            organization=None,
        )
        self.identities[identity.id] = identity
        client = Client(id=client_id, name=name, secret=secret, identity_id=identity.id)
        self.clients[client.id] = client
        return client, secret

    def create_native_client(self, name: str, *, client_id: str | None = None) -> Client:
        """A native app (no secret): tokens come from authorization codes or refresh."""
        client = Client(id=client_id or str(uuid.uuid4()), name=name)
        self.clients[client.id] = client
        return client

    def client_for_credentials(self, client_id: str, secret: str | None) -> Client:
        client = self.clients.get(client_id)
        if client is None:
            raise InvalidClient("Unknown client")
        if client.confidential and (secret is None or not client.check_secret(secret)):
            raise InvalidClient()
        return client

    # -- tokens -----------------------------------------------------------------------------

    def issue_tokens(
        self,
        identity_id: str,
        client_id: str,
        requested_scopes: str | Iterable[str],
        *,
        refresh_tokens: bool = False,
    ) -> dict[str, Any]:
        """Mint tokens for each resource server the scopes name; the token response doc.

        The first resource server's token is the top-level one and the others are in
        `other_tokens`, as Globus Auth answers. With the `openid` scope the response also
        carries a signed `id_token` (a refresh does not).
        """
        groups = self._group_by_resource_server(requested_scopes)
        docs = [
            self._token_doc(identity_id, client_id, rs, group, refresh_tokens)
            for rs, group in groups.items()
        ]
        top = docs[0]
        top["other_tokens"] = docs[1:]
        auth_scopes = groups.get(scope_lib.AUTH_RS, _ScopeGroup()).scopes
        if "openid" in auth_scopes:
            top["id_token"] = self._id_token(identity_id, client_id, auth_scopes, top)
        return top

    def refresh(self, refresh_token: str, client: Client) -> dict[str, Any]:
        token = self.tokens.get(refresh_token)
        if token is None or token.kind != "refresh" or token.revoked:
            raise InvalidGrant("Invalid refresh token")
        if token.client_id != client.id:
            raise InvalidGrant("Refresh token was issued to another client")
        group = _ScopeGroup(set(token.scopes), set(token.dependent_scopes))
        access = self._mint("access", token.identity_id, client.id, token.resource_server, group)
        doc = self._access_doc(access)
        doc["refresh_token"] = token.value
        doc["other_tokens"] = []
        return doc

    def authorize(
        self,
        identity_id: str,
        client_id: str,
        requested_scopes: str,
        redirect_uri: str,
        code_challenge: str | None = None,
    ) -> str:
        """Record a consented login and return the authorization code it yields."""
        if identity_id not in self.identities:
            raise InvalidGrant("Unknown identity")
        if client_id not in self.clients:
            raise InvalidClient("Unknown client")
        self._group_by_resource_server(requested_scopes)  # validate now, not at exchange
        code = secrets.token_urlsafe(24)
        self.codes[code] = AuthorizationCode(
            code=code,
            identity_id=identity_id,
            client_id=client_id,
            requested_scopes=requested_scopes,
            redirect_uri=redirect_uri,
            code_challenge=code_challenge,
            expires_at=self.sim.clock.now() + AUTHORIZATION_CODE_LIFETIME,
        )
        return code

    def exchange_code(
        self, code: str, client: Client, redirect_uri: str, code_verifier: str | None
    ) -> dict[str, Any]:
        grant = self.codes.pop(code, None)
        if grant is None or self.sim.clock.now() >= grant.expires_at:
            raise InvalidGrant("Invalid or expired authorization code")
        if grant.client_id != client.id or grant.redirect_uri != redirect_uri:
            raise InvalidGrant("Authorization code was issued for another client or redirect")
        if grant.code_challenge is not None:
            digest = hashlib.sha256((code_verifier or "").encode()).digest()
            expected = urlsafe_b64encode(digest).rstrip(b"=").decode()
            if not secrets.compare_digest(expected, grant.code_challenge):
                raise InvalidGrant("PKCE code_verifier does not match")
        return self.issue_tokens(
            grant.identity_id, client.id, grant.requested_scopes, refresh_tokens=True
        )

    def lookup(self, value: str | None) -> Token | None:
        return self.tokens.get(value) if value else None

    def revoke(self, value: str) -> None:
        token = self.tokens.get(value)
        if token is not None:
            token.revoked = True

    def expire_tokens(self, identity_id: str | None = None) -> int:
        """Make access tokens (all, or one identity's) expire now; returns how many."""
        now = self.sim.clock.now()
        count = 0
        for token in self.tokens.values():
            if token.kind != "access" or (identity_id and token.identity_id != identity_id):
                continue
            if token.is_valid(now):
                token.expires_at = now
                count += 1
        return count

    def authenticate(self, request: Request) -> Token:
        """The request's valid bearer token for the service it addressed, or 401."""
        token = self.lookup(request.bearer_token)
        if token is None or token.kind != "access":
            raise Unauthorized("Bearer token is missing or not valid")
        if not token.is_valid(self.sim.clock.now()):
            raise Unauthorized("Bearer token has expired or was revoked")
        expected = self._resource_server_for(request)
        if expected is not None and token.resource_server != expected:
            raise Unauthorized(f"Token is not valid for resource server {expected}")
        return token

    # -- internals --------------------------------------------------------------------------

    @staticmethod
    def _resource_server_for(request: Request) -> str | None:
        if request.service == "transfer":
            return scope_lib.TRANSFER_RS
        if request.service == "gcs":
            return request.endpoint_id
        if request.service == "auth":
            return scope_lib.AUTH_RS
        return None

    def _group_by_resource_server(self, requested: str | Iterable[str]) -> dict[str, _ScopeGroup]:
        try:
            parsed = scope_lib.parse(requested)
        except ValueError as err:
            raise InvalidScope(str(err)) from None
        if not parsed:
            raise InvalidScope("No scopes were requested")
        groups: dict[str, _ScopeGroup] = {}
        for scope in parsed:
            resource_server = scope_lib.resource_server_of(scope.scope_string)
            if resource_server is None:
                raise InvalidScope(f"Unknown scope {scope.scope_string!r}")
            group = groups.setdefault(resource_server, _ScopeGroup())
            group.scopes.add(scope.scope_string)
            group.dependent |= scope_lib.flatten_dependencies(scope)
        return groups

    def _mint(
        self, kind: str, identity_id: str, client_id: str, resource_server: str, group: _ScopeGroup
    ) -> Token:
        now = self.sim.clock.now()
        token = Token(
            value=secrets.token_urlsafe(36),
            kind=kind,
            identity_id=identity_id,
            client_id=client_id,
            resource_server=resource_server,
            scopes=frozenset(group.scopes),
            dependent_scopes=frozenset(group.dependent),
            issued_at=now,
            expires_at=now + self.access_token_lifetime if kind == "access" else None,
        )
        self.tokens[token.value] = token
        return token

    def _access_doc(self, access: Token) -> dict[str, Any]:
        assert access.expires_at is not None
        return {
            "access_token": access.value,
            "expires_in": int(access.expires_at - access.issued_at),
            "resource_server": access.resource_server,
            "scope": access.scope_string,
            "token_type": "Bearer",
            "state": "_default",
        }

    def _id_token(
        self, identity_id: str, client_id: str, scopes: set[str], top: dict[str, Any]
    ) -> str:
        identity = self.identities.get(identity_id)
        if identity is None:
            raise InvalidGrant("Unknown identity")
        claims = id_token_claims(
            identity,
            client_id,
            scopes,
            access_token=top["access_token"],
            issued_at=self.sim.clock.now(),
            lifetime=self.access_token_lifetime,
        )
        return self.sim.auth_signing_key.sign(claims)

    def _token_doc(
        self,
        identity_id: str,
        client_id: str,
        resource_server: str,
        group: _ScopeGroup,
        refresh_tokens: bool,
    ) -> dict[str, Any]:
        access = self._mint("access", identity_id, client_id, resource_server, group)
        doc = self._access_doc(access)
        if refresh_tokens:
            refresh = self._mint("refresh", identity_id, client_id, resource_server, group)
            doc["refresh_token"] = refresh.value
        else:
            doc["refresh_token"] = None
        return doc
