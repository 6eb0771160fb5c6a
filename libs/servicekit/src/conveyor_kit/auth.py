"""Bearer-token authentication: who is calling, for which tenant, with which roles."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from conveyor_kit.clock import Clock, clock_from
from conveyor_kit.logging import bind_context, get_logger
from conveyor_kit.problems import Problem, forbidden, unauthorized
from conveyor_kit.settings import ServiceSettings

# Clocks of the token issuer and the service drift apart a little.
LEEWAY_SECONDS = 10
JWKS_FETCH_TIMEOUT_SECONDS = 5
# A client sends the same token with request after request: its signature and claims are checked once and
# kept (by the token's exact text) for this long, so a key withdrawn from the JWKS stops being honoured within
# a minute; its times are checked on every request. About 3 % of a service's CPU under load (bench/README.md).
VERIFIED_FOR_SECONDS = 60.0
VERIFIED_TOKENS = 4096

log = get_logger(__name__)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a user acting within one tenant."""

    tenant_id: str
    user_id: str
    roles: frozenset[str]
    claims: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False, repr=False)

    def has_any_role(self, *roles: str) -> bool:
        return not roles or bool(self.roles.intersection(roles))


class TokenVerifier:
    """Checks a bearer token: HS256 with the shared secret, or RS256 against a JWKS."""

    def __init__(self, settings: ServiceSettings, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._monotonic = monotonic
        self._verified: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        # PyJWKClient caches keys and refetches on an unknown `kid`; it fetches nothing yet.
        self._jwks = (
            jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True, timeout=JWKS_FETCH_TIMEOUT_SECONDS)
            if settings.jwt_jwks_url
            else None
        )

    async def verify(self, token: str, now: datetime) -> Principal:
        """The principal the token speaks for; `Problem` 401 when it speaks for no one."""
        claims = self._recently_verified(token) or await self._decode(token)
        _check_times(claims, now)
        return _principal(claims)

    def _recently_verified(self, token: str) -> dict[str, Any] | None:
        kept = self._verified.get(token)
        if kept is None:
            return None
        verified_at, claims = kept
        if self._monotonic() - verified_at > VERIFIED_FOR_SECONDS:
            del self._verified[token]
            return None
        self._verified.move_to_end(token)
        return claims

    async def _decode(self, token: str) -> dict[str, Any]:
        """Check the signature, audience and issuer; the claims (kept: ``VERIFIED_FOR_SECONDS``)."""
        try:
            key, algorithm = await self._key_for(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._settings.jwt_audience,
                issuer=self._settings.jwt_issuer,
                # Times are checked below against the injectable clock, not time.time().
                options={
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": self._settings.jwt_audience is not None,
                    "require": ["exp", "sub"],
                },
            )
        except jwt.PyJWKClientConnectionError as exc:
            # The token may well be valid; it is the provider that cannot be asked.
            log.warning("jwks_unreachable", error=str(exc))
            raise Problem(503, "Identity provider unavailable", slug="identity-provider-unavailable") from exc
        except (jwt.PyJWTError, ValueError) as exc:
            log.info("token_rejected", reason=type(exc).__name__)
            raise unauthorized("the bearer token is invalid") from exc
        self._verified[token] = (self._monotonic(), claims)
        if len(self._verified) > VERIFIED_TOKENS:
            self._verified.popitem(last=False)
        return claims

    async def _key_for(self, token: str) -> tuple[Any, str]:
        if self._jwks is None:
            return self._settings.jwt_secret.get_secret_value(), "HS256"
        # PyJWKClient fetches over blocking urllib; keep it off the event loop.
        signing_key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
        return signing_key.key, "RS256"


def _check_times(claims: Mapping[str, Any], now: datetime) -> None:
    instant = now.timestamp()
    if float(claims["exp"]) + LEEWAY_SECONDS <= instant:
        raise unauthorized("the bearer token has expired")
    if "nbf" in claims and float(claims["nbf"]) - LEEWAY_SECONDS > instant:
        raise unauthorized("the bearer token is not valid yet")
    # `iat` is informational (RFC 7519): with a test clock moved ahead of, or left behind, the wall
    # clock, either check would refuse good tokens; `exp` and `nbf` are what bound a token's life.


def _principal(claims: dict[str, Any]) -> Principal:
    tenant, user, roles = claims.get("tid"), claims.get("sub"), claims.get("roles", [])
    if not isinstance(tenant, str) or not tenant:
        raise unauthorized("the bearer token names no tenant (claim `tid`)")
    if not isinstance(user, str) or not user:
        raise unauthorized("the bearer token names no user (claim `sub`)")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise unauthorized("the bearer token's `roles` claim is not a list of strings")
    return Principal(tenant, user, frozenset(roles), MappingProxyType(claims))


_bearer = HTTPBearer(auto_error=False)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """FastAPI dependency: the caller, or 401 problem+json."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized()
    verifier: TokenVerifier = request.app.state.token_verifier
    clock: Clock = clock_from(request)
    principal = await verifier.verify(credentials.credentials, clock.now())
    bind_context(tenant_id=principal.tenant_id, user_id=principal.user_id)
    return principal


def require_roles(*roles: str) -> Callable[..., Any]:
    """FastAPI dependency: the caller if they hold any of `roles`, else 403 problem+json."""

    async def principal_with_role(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if not principal.has_any_role(*roles):
            raise forbidden(f"requires one of the roles: {', '.join(sorted(roles))}")
        return principal

    return principal_with_role
