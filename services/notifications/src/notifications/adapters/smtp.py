"""Sends e-mail through the configured SMTP server (STARTTLS and auth when configured)."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urlencode

import aiosmtplib

from notifications.config import Settings


def message(
    settings: Settings,
    *,
    email_id: str,
    to: list[str],
    subject: str,
    text: str,
    html: str | None,
    now: datetime,
    notifies_of: str | None = None,
) -> EmailMessage:
    """A plain-text message, with an HTML alternative when there is one. Its Message-ID is the queued e-mail's
    id, so a retried send is recognisably the same message; a notification (``notifies_of`` its kind) links
    to the user's notification settings as List-Unsubscribe (RFC 2369)."""
    mail = EmailMessage()
    mail["From"] = settings.mail_from
    mail["To"] = ", ".join(to)
    mail["Subject"] = subject
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = f"<{email_id}@{settings.message_id_domain()}>"
    if notifies_of is not None:
        mail["List-Unsubscribe"] = f"<{settings.preferences_page()}?{urlencode({'kind': notifies_of})}>"
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
