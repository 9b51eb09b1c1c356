"""OpenID Connect for the simulated Globus Auth: the signing key, its JWK and id_tokens.

globus-sdk decodes an id_token the way it does against Globus Auth: it fetches
`/.well-known/openid-configuration`, then the key set at its `jwks_uri`, and checks the
signature (one of `id_token_signing_alg_values_supported`), the audience (its client id)
and `iat`/`exp` with five minutes of leeway against its own clock. Times here come from
the simulator's clock, so an id_token issued after advancing a virtual clock far ahead
looks issued in the future to a client, as it would from a real server with that clock.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    from orbit_sim.services.auth.models import Identity

ISSUER = "https://auth.globus.org"
ALGORITHM = "RS512"
KEY_SIZE = 2048
IDENTITY_PROVIDER_DISPLAY_NAME = "Globus ID"


class SigningKey:
    """The RSA key that signs id_tokens: made on first use, then kept for the Simulator's
    life (a reset keeps it, so clients that cached the JWK still verify new tokens)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: RSAPrivateKey | None = None

    def _private_key(self) -> RSAPrivateKey:
        with self._lock:
            if self._key is None:
                # Imported here: the simulator starts without paying for cryptography/jwt.
                from cryptography.hazmat.primitives.asymmetric import rsa

                self._key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
            return self._key

    def jwk_set(self) -> dict[str, Any]:
        """The public key as Globus Auth publishes it at /jwk.json."""
        from jwt.algorithms import RSAAlgorithm

        public = RSAAlgorithm.to_jwk(self._private_key().public_key(), as_dict=True)
        return {
            "keys": [
                {"alg": ALGORITHM, "e": public["e"], "kty": "RSA", "n": public["n"], "use": "sig"}
            ]
        }

    def sign(self, claims: dict[str, Any]) -> str:
        import jwt

        return jwt.encode(claims, self._private_key(), algorithm=ALGORITHM)

    def __repr__(self) -> str:
        return f"SigningKey(generated={self._key is not None})"


def openid_configuration(auth_url: str) -> dict[str, Any]:
    """Globus Auth's discovery document; endpoint URLs under `auth_url` (where the caller
    reaches Auth), the issuer always Globus Auth's own name."""
    return {
        "issuer": ISSUER,
        "authorization_endpoint": f"{auth_url}/v2/oauth2/authorize",
        "userinfo_endpoint": f"{auth_url}/v2/oauth2/userinfo",
        "token_endpoint": f"{auth_url}/v2/oauth2/token",
        "revocation_endpoint": f"{auth_url}/v2/oauth2/token/revoke",
        "jwks_uri": f"{auth_url}/jwk.json",
        "response_types_supported": ["code", "token", "token id_token", "id_token"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "claims_supported": [
            "at_hash",
            "aud",
            "email",
            "exp",
            "name",
            "nonce",
            "preferred_username",
            "iat",
            "iss",
            "sub",
        ],
        "subject_types_supported": ["public"],
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
    }


def id_token_claims(
    identity: Identity,
    client_id: str,
    scopes: Iterable[str],
    access_token: str,
    issued_at: float,
    lifetime: float,
) -> dict[str, Any]:
    """The claims of an id_token for `identity` logged in to `client_id`: profile claims
    with `profile`, the email with `email`, and the identity set (one identity here)."""
    granted = frozenset(scopes)
    iat = int(issued_at)
    profile = {
        "name": identity.name,
        "organization": identity.organization,
        "identity_provider": identity.identity_provider,
        "identity_provider_display_name": IDENTITY_PROVIDER_DISPLAY_NAME,
    }
    digest = hashlib.sha512(access_token.encode()).digest()
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": identity.id,
        "aud": client_id,
        "iat": iat,
        "exp": iat + int(lifetime),
        # OIDC: the left half of the access token's hash with the signing algorithm's SHA.
        "at_hash": base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode(),
        "last_authentication": iat,
    }
    if "profile" in granted:
        claims |= profile | {"preferred_username": identity.username}
    if "email" in granted:
        claims["email"] = identity.email
    member = {"sub": identity.id, "username": identity.username, "email": identity.email}
    claims["identity_set"] = [member | profile | {"last_authentication": iat}]
    return claims
