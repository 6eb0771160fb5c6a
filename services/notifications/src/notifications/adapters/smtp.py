"""Sends e-mail through the configured SMTP server (STARTTLS and auth when configured)."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from notifications.config import Settings


def message(settings: Settings, *, to: list[str], subject: str, text: str, html: str | None) -> EmailMessage:
    """A plain-text message, with an HTML alternative when there is one."""
    mail = EmailMessage()
    mail["From"] = settings.mail_from
    mail["To"] = ", ".join(to)
    mail["Subject"] = subject
    mail.set_content(text)
    if html:
        mail.add_alternative(html, subtype="html")
    return mail


async def send(settings: Settings, mail: EmailMessage) -> None:
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    await aiosmtplib.send(
        mail,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=password,
        start_tls=settings.smtp_starttls,
        use_tls=False,
        timeout=settings.smtp_timeout_seconds,
    )
