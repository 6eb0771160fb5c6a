"""Fixtures of the security suite: the five services running once for the session, every log line
they write, a loopback SMTP server that refuses the services' login, and users' headers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from conveyor_kit.logging import configure_logging
from conveyor_testing.services import free_port
from security_stack import RECEIVER_HOST, SMTP_PASSWORD, SMTP_USERNAME, LogTap, Receiver, ServiceStack


class _RefusingMailbox:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


def _refuse_login(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    # A failing login makes every e-mail a failed delivery, the path most likely to log details.
    return AuthResult(success=False, handled=False)


@pytest.fixture(scope="session")
def smtp_port() -> Iterator[int]:
    port = free_port()
    controller = Controller(
        _RefusingMailbox(),
        hostname="127.0.0.1",
        port=port,
        authenticator=_refuse_login,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    found = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            found.calls.append((self.path, dict(self.headers.items()), body))
            if self.path.startswith("/redirect"):
                self.send_response(302)
                self.send_header("Location", parse_qs(urlsplit(self.path).query)["to"][0])
            else:
                self.send_response(500 if self.path.startswith("/fail") else 204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer((RECEIVER_HOST, 0), Handler)
    found.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def log_tap() -> Iterator[LogTap]:
    """Installed before the services start, so it sees their whole life, startup included.

    Logging is configured here first (the services' apps then keep it), so the tap formats lines
    with the services' own formatter, redaction included.
    """
    configure_logging("INFO")
    root = logging.getLogger()
    tap = LogTap()
    tap.setFormatter(root.handlers[0].formatter)
    root.addHandler(tap)
    try:
        yield tap
    finally:
        root.removeHandler(tap)


@pytest.fixture(scope="session")
def stack(infra: Any, smtp_port: int, log_tap: LogTap, receiver: Receiver) -> Iterator[ServiceStack]:
    """The five services for the whole session (real uvicorn, real PostgreSQL and Kafka)."""
    services = ServiceStack(
        postgres_dsn=infra.postgres_dsn,
        kafka_bootstrap=infra.kafka_bootstrap,
        overrides={
            "notifications": {
                "smtp_port": smtp_port,
                "smtp_username": SMTP_USERNAME,
                "smtp_password": SMTP_PASSWORD,
                "smtp_timeout_seconds": 2.0,
                "email_max_attempts": 1,
                "webhook_timeout_seconds": 2.0,
                "webhook_max_attempts": 2,
                "webhook_backoff_seconds": 0.2,
                "webhook_allow_hosts": [RECEIVER_HOST],
            }
        },
    )
    services.start()
    try:
        yield services
    finally:
        services.stop()
