"""Bearer tokens: HS256 with the shared secret in development, RS256 against a JWKS."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Annotated, Any

import httpx
import jwt
import pytest
from conveyor_kit.auth import VERIFIED_FOR_SECONDS, Principal, TokenVerifier, require_roles
from conveyor_kit.clock import ControllableClock
from conveyor_kit.problems import PROBLEM_MEDIA_TYPE, Problem
from conveyor_kit.settings import ServiceSettings
from conveyor_kit.tokens import mint_token
from conveyor_kit.whoami import whoami_router
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import APIRouter, Depends, FastAPI

pytestmark = pytest.mark.unit

Client = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def managers_only() -> APIRouter:
    router = APIRouter(prefix="/v1")

    @router.get("/approvals")
    async def approvals(
        principal: Annotated[Principal, Depends(require_roles("manager", "admin"))],
    ) -> dict[str, str]:
        return {"approver": principal.user_id}

    return router


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def clock() -> ControllableClock:
    return ControllableClock(NOW)


@pytest.fixture
async def api(make_app: Callable[..., FastAPI], client_for: Client, clock: ControllableClock) -> Any:
    app = make_app(routers=[whoami_router(), managers_only()], clock=clock)
    async with client_for(app) as client:
        yield client


Mint = Callable[..., str]


@pytest.fixture
def token(jwt_secret: str) -> Mint:
    """Mints a dev token for tenant-a/user-1 (a manager) issued at NOW; claims overridable."""

    def mint(**overrides: Any) -> str:
        claims: dict[str, Any] = {
            "tenant_id": "tenant-a",
            "user_id": "user-1",
            "roles": ["manager"],
            "secret": jwt_secret,
            "now": NOW,
        }
        return mint_token(**{**claims, **overrides})

    return mint


class TestHs256Tokens:
    async def test_a_valid_token_yields_the_principal(self, token: Mint, api: httpx.AsyncClient) -> None:
        response = await api.get("/v1/whoami", headers=bearer(token(roles=["admin", "manager"])))

        assert response.status_code == 200
        assert response.json() == {
            "tenant_id": "tenant-a",
            "user_id": "user-1",
            "roles": ["admin", "manager"],
        }

    async def test_no_token_is_401_with_a_bearer_challenge(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/v1/whoami")

        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["type"] == "https://conveyor.dev/problems/unauthorized"

    async def test_a_bad_signature_is_401(self, token: Mint, api: httpx.AsyncClient) -> None:
        forged = token(secret="another-secret-that-is-long-enough-for-hs256")

        response = await api.get("/v1/whoami", headers=bearer(forged))

        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")

    async def test_an_expired_token_is_401(self, token: Mint, api: httpx.AsyncClient) -> None:
        response = await api.get("/v1/whoami", headers=bearer(token(ttl_seconds=-60)))

        assert response.status_code == 401
        assert "expired" in response.json()["detail"]

    async def test_a_token_expires_when_the_clock_moves_past_it(
        self, token: Mint, api: httpx.AsyncClient, clock: ControllableClock
    ) -> None:
        short_lived = token(ttl_seconds=60)
        assert (await api.get("/v1/whoami", headers=bearer(short_lived))).status_code == 200

        clock.advance(3600)

        assert (await api.get("/v1/whoami", headers=bearer(short_lived))).status_code == 401

    async def test_times_follow_the_service_clock_whichever_side_of_the_wall_clock_it_is(
        self, token: Mint, api: httpx.AsyncClient, clock: ControllableClock
    ) -> None:
        wall = datetime.now(UTC)
        clock.set(wall + timedelta(days=365 * 5))  # a test clock moved years ahead
        issued_at_the_moved_clock = await api.get("/v1/whoami", headers=bearer(token(now=clock.now())))

        clock.set(wall - timedelta(days=30))  # a test clock left behind while the tests ran
        issued_at_the_wall_clock = await api.get("/v1/whoami", headers=bearer(token(now=wall, ttl_seconds=60)))

        assert issued_at_the_moved_clock.status_code == 200
        assert issued_at_the_wall_clock.status_code == 200

    async def test_a_token_without_tenant_is_401(self, jwt_secret: str, api: httpx.AsyncClient) -> None:
        claims = {"sub": "user-1", "roles": [], "exp": int(NOW.timestamp()) + 60}
        tenantless = jwt.encode(claims, jwt_secret, algorithm="HS256")

        response = await api.get("/v1/whoami", headers=bearer(tenantless))

        assert response.status_code == 401
        assert "tenant" in response.json()["detail"]

    async def test_a_token_of_tenant_b_yields_tenant_b(self, token: Mint, api: httpx.AsyncClient) -> None:
        response = await api.get("/v1/whoami", headers=bearer(token(tenant_id="tenant-b")))

        assert response.json()["tenant_id"] == "tenant-b"

    async def test_garbage_is_401(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/v1/whoami", headers=bearer("not.a.jwt"))

        assert response.status_code == 401


class TestRoles:
    async def test_a_holder_of_a_required_role_passes(self, token: Mint, api: httpx.AsyncClient) -> None:
        response = await api.get("/v1/approvals", headers=bearer(token(roles=["manager"])))

        assert response.status_code == 200
        assert response.json() == {"approver": "user-1"}

    async def test_a_caller_without_the_role_is_403(self, token: Mint, api: httpx.AsyncClient) -> None:
        response = await api.get("/v1/approvals", headers=bearer(token(roles=["clerk"])))

        assert response.status_code == 403
        assert response.json()["type"] == "https://conveyor.dev/problems/forbidden"


class JwksServer:
    """A JWKS endpoint on a loopback port, as an identity provider would serve it."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        body = json.dumps(jwks).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url(signing_key: rsa.RSAPrivateKey) -> Iterator[str]:
    public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key()))
    server = JwksServer({"keys": [{**public_jwk, "kid": "key-1", "use": "sig", "alg": "RS256"}]})
    server.thread.start()
    yield server.url
    server.server.shutdown()
    server.server.server_close()


def rs256(key: rsa.RSAPrivateKey, kid: str = "key-1", **claims: Any) -> str:
    defaults = {"sub": "user-9", "tid": "tenant-p", "roles": ["admin"], "exp": 4102444800}
    return jwt.encode({**defaults, **claims}, key, algorithm="RS256", headers={"kid": kid})


class TestRs256WithJwks:
    @pytest.fixture
    async def production_api(self, make_app: Callable[..., FastAPI], client_for: Client, jwks_url: str) -> Any:
        app = make_app(routers=[whoami_router()], environment="production", jwt_jwks_url=jwks_url)
        async with client_for(app) as client:
            yield client

    async def test_a_token_signed_by_the_provider_is_accepted(
        self, production_api: httpx.AsyncClient, signing_key: rsa.RSAPrivateKey
    ) -> None:
        response = await production_api.get("/v1/whoami", headers=bearer(rs256(signing_key)))

        assert response.status_code == 200
        assert response.json() == {"tenant_id": "tenant-p", "user_id": "user-9", "roles": ["admin"]}

    async def test_a_token_signed_by_another_key_is_401(self, production_api: httpx.AsyncClient) -> None:
        impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)

        response = await production_api.get("/v1/whoami", headers=bearer(rs256(impostor)))

        assert response.status_code == 401

    async def test_an_unknown_key_id_is_401(
        self, production_api: httpx.AsyncClient, signing_key: rsa.RSAPrivateKey
    ) -> None:
        response = await production_api.get("/v1/whoami", headers=bearer(rs256(signing_key, kid="key-unknown")))

        assert response.status_code == 401

    async def test_a_dev_hs256_token_is_401(self, token: Mint, production_api: httpx.AsyncClient) -> None:
        response = await production_api.get("/v1/whoami", headers=bearer(token()))

        assert response.status_code == 401

    async def test_an_expired_token_is_401(
        self, production_api: httpx.AsyncClient, signing_key: rsa.RSAPrivateKey
    ) -> None:
        expired = rs256(signing_key, exp=int(datetime.now(UTC).timestamp()) - 3600)

        response = await production_api.get("/v1/whoami", headers=bearer(expired))

        assert response.status_code == 401

    async def test_an_unreachable_jwks_is_503_not_401(
        self, make_app: Callable[..., FastAPI], client_for: Client, signing_key: rsa.RSAPrivateKey
    ) -> None:
        app = make_app(routers=[whoami_router()], environment="production", jwt_jwks_url="http://127.0.0.1:1/jwks.json")
        async with client_for(app) as api:
            response = await api.get("/v1/whoami", headers=bearer(rs256(signing_key)))

        assert response.status_code == 503
        assert response.json()["type"] == "https://conveyor.dev/problems/identity-provider-unavailable"


class TestVerifiedTokensAreKept:
    """A token's signature is checked once a minute at most; its times, on every request."""

    @pytest.fixture
    def decodes(self, monkeypatch: pytest.MonkeyPatch) -> list[str]:
        seen: list[str] = []
        decode = jwt.decode

        def counting(token: str, *args: Any, **kwargs: Any) -> Any:
            seen.append(token)
            return decode(token, *args, **kwargs)

        monkeypatch.setattr(jwt, "decode", counting)
        return seen

    async def test_a_token_is_decoded_once_a_minute_and_its_times_checked_every_time(
        self, token: Mint, jwt_secret: str, decodes: list[str]
    ) -> None:
        monotonic = [0.0]
        verifier = TokenVerifier(ServiceSettings(jwt_secret=jwt_secret), monotonic=lambda: monotonic[0])
        sent = token(ttl_seconds=600)

        first = await verifier.verify(sent, NOW)
        again = await verifier.verify(sent, NOW + timedelta(seconds=30))
        with pytest.raises(Problem) as expired:
            await verifier.verify(sent, NOW + timedelta(hours=1))
        monotonic[0] += VERIFIED_FOR_SECONDS + 1
        later = await verifier.verify(sent, NOW)

        assert first == again == later and first.user_id == "user-1"
        assert expired.value.status_code == 401
        assert decodes == [sent, sent]

    async def test_a_changed_token_is_checked_whatever_was_kept(
        self, token: Mint, jwt_secret: str, decodes: list[str]
    ) -> None:
        verifier = TokenVerifier(ServiceSettings(jwt_secret=jwt_secret))
        sent = token()
        await verifier.verify(sent, NOW)
        head, payload, signature = sent.split(".")
        forged = ".".join([head, payload, signature[::-1]])
        other_claims = token(user_id="user-2", secret="another-secret-that-is-long-enough-for-hs256")

        with pytest.raises(Problem) as forged_refused:
            await verifier.verify(forged, NOW)
        with pytest.raises(Problem) as other_refused:
            await verifier.verify(other_claims, NOW)

        assert forged_refused.value.status_code == other_refused.value.status_code == 401
