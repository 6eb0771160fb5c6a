"""`python -m conveyor_kit.tokens` mints dev tokens, and refuses to in production."""

from __future__ import annotations

import jwt
import pytest
from conveyor_kit.tokens import main

pytestmark = pytest.mark.unit


class TestMintingCommand:
    def test_it_prints_a_token_with_the_requested_claims(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("CONVEYOR_ENVIRONMENT", raising=False)
        secret = "cli-test-secret-that-is-long-enough-for-hs256"

        code = main(
            [
                "--tenant",
                "t1",
                "--user",
                "u1",
                "--roles",
                "admin,manager",
                "--ttl",
                "60",
                "--secret",
                secret,
            ]
        )

        claims = jwt.decode(capsys.readouterr().out.strip(), secret, algorithms=["HS256"])
        assert code == 0
        assert (claims["tid"], claims["sub"], claims["roles"]) == ("t1", "u1", ["admin", "manager"])
        assert claims["exp"] - claims["iat"] == 60

    def test_it_refuses_in_production(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("CONVEYOR_ENVIRONMENT", "production")

        code = main(["--tenant", "t1", "--user", "u1"])

        assert code == 2
        assert capsys.readouterr().out == ""
