"""One clock for every service of a machine: a file that any service moves and all of them read."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from conveyor_kit.shared_clock import FileClock, main
from conveyor_kit.tokens import main as mint
from fastapi import FastAPI

pytestmark = pytest.mark.unit

Client = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]
FEB_1 = datetime(2027, 2, 1, 8, 0, tzinfo=UTC)


class WallClock:
    """A wall clock the test moves, to see a ticking file clock run on with it."""

    def __init__(self, now: datetime) -> None:
        self.instant = now

    def __call__(self) -> datetime:
        return self.instant


class TestFileClock:
    def test_two_clocks_on_one_file_read_the_same_time_after_either_moves(self, tmp_path: Path) -> None:
        path = tmp_path / "clock.json"
        automation, notifications = FileClock(path), FileClock(path)

        automation.set(FEB_1)
        notifications.advance(3600)

        assert automation.now() == notifications.now() == FEB_1 + timedelta(hours=1)

    def test_a_new_file_stands_still_until_moved(self, tmp_path: Path) -> None:
        wall = WallClock(FEB_1)
        clock = FileClock(tmp_path / "clock.json", wall=wall)

        wall.instant += timedelta(minutes=5)

        assert clock.now() == FEB_1

    def test_a_ticking_clock_runs_on_with_the_wall_clock_from_where_it_was_set(self, tmp_path: Path) -> None:
        wall = WallClock(datetime(2026, 5, 4, 10, 0, tzinfo=UTC))
        clock = FileClock(tmp_path / "clock.json", wall=wall)
        clock.set(FEB_1, ticking=True)

        wall.instant += timedelta(minutes=5)
        later = clock.now()
        clock.advance(86400)

        assert later == FEB_1 + timedelta(minutes=5)
        assert clock.now() == FEB_1 + timedelta(days=1, minutes=5)

    def test_a_clock_is_read_again_only_after_the_file_was_replaced(self, tmp_path: Path) -> None:
        path = tmp_path / "clock.json"
        clock = FileClock(path)
        clock.set(FEB_1)
        first = clock.read()

        again = clock.read()
        FileClock(path).advance(60)

        assert again is first
        assert clock.read() is not first and clock.now() == FEB_1 + timedelta(seconds=60)

    def test_moving_backward_by_seconds_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match="only moves forward"):
            FileClock(tmp_path / "clock.json").advance(-1)

    def test_the_command_sets_advances_and_prints_the_time(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = tmp_path / "clock.json"

        main([str(path), "--set", "2027-02-01T08:00:00+00:00", "--frozen"])
        main([str(path), "--advance", "90"])

        assert capsys.readouterr().out.split() == ["2027-02-01T08:00:00+00:00", "2027-02-01T08:01:30+00:00"]
        assert json.loads(path.read_text())["ticking"] is False


class TestSharedClockEndpoint:
    @pytest.fixture
    async def two_services(
        self, make_app: Callable[..., FastAPI], client_for: Client, tmp_path: Path
    ) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
        path = tmp_path / "clock.json"
        async with client_for(make_app(test_clock_file=path)) as one, client_for(make_app(test_clock_file=path)) as two:
            yield one, two

    async def test_a_move_through_one_service_is_the_time_of_the_other(
        self, two_services: tuple[httpx.AsyncClient, httpx.AsyncClient]
    ) -> None:
        one, two = two_services

        await one.post("/v1/test/clock", json={"set_to": "2027-02-01T08:00:00Z"})
        moved = await two.post("/v1/test/clock", json={"advance_seconds": 86400})
        read = await one.get("/v1/test/clock")

        assert moved.json() == {"now": "2027-02-02T08:00:00Z", "shared": True}
        assert read.json() == moved.json()

    async def test_a_shared_clock_can_be_set_running(
        self, two_services: tuple[httpx.AsyncClient, httpx.AsyncClient]
    ) -> None:
        one, _ = two_services

        response = await one.post("/v1/test/clock", json={"set_to": "2027-02-01T08:00:00Z", "ticking": True})

        assert response.status_code == 200
        assert response.json()["now"] >= "2027-02-01T08:00:00"

    async def test_a_services_own_clock_cannot_run_on(
        self, make_app: Callable[..., FastAPI], client_for: Client
    ) -> None:
        async with client_for(make_app(test_clock_enabled=True)) as api:
            response = await api.post("/v1/test/clock", json={"ticking": True})

        assert response.status_code == 422
        assert "shared clock" in response.json()["detail"]

    def test_a_clock_file_is_refused_in_production(self, make_settings: Callable[..., object], tmp_path: Path) -> None:
        with pytest.raises(ValueError, match="test clock"):
            make_settings(
                environment="production", jwt_jwks_url="https://idp.test/jwks", test_clock_file=tmp_path / "c"
            )


class TestTokensOnAMovedClock:
    def test_a_minted_token_lives_its_ttl_past_the_moved_clock(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("CONVEYOR_ENVIRONMENT", raising=False)
        path = tmp_path / "clock.json"
        FileClock(path).advance(30 * 86400)
        secret = "cli-test-secret-that-is-long-enough-for-hs256"

        mint(["--tenant", "t1", "--user", "u1", "--ttl", "60", "--secret", secret, "--clock-file", str(path)])

        claims = jwt.decode(
            capsys.readouterr().out.strip(), secret, algorithms=["HS256"], options={"verify_exp": False}
        )
        assert claims["exp"] >= FileClock(path).now().timestamp() + 59
        assert claims["iat"] <= datetime.now(UTC).timestamp()
