"""Settings of the notifications service: environment variables prefixed `NOTIFICATIONS_`."""

from email.utils import parseaddr

from conveyor_kit.settings import DatabaseUrl, Origins, ServiceSettings
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

HostList = Origins  # the same `a,b` or JSON list reading


class Settings(ServiceSettings):
    """The notifications service's settings; see docs/service-kit.md and docs/notifications.md."""

    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_")

    port: int = 8004
    database_url: DatabaseUrl = "postgresql://conveyor@127.0.0.1:15432/conveyor_notifications"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "Conveyor <conveyor@localhost>"
    # The right-hand side of each e-mail's Message-ID; default: the domain of mail_from's address.
    mail_domain: str | None = None
    # Where a user chooses their notification channels (the console's page): notifications' List-Unsubscribe
    # points at it with `?kind=<kind>`; default: public_base_url + /settings/notifications.
    preferences_url: str | None = None
    email_max_attempts: int = 5

    # Webhook targets that resolve to private, loopback or link-local addresses are refused
    # unless a host name, an address or a network (CIDR) here names them.
    webhook_allow_hosts: HostList = Field(default_factory=list)
    webhook_timeout_seconds: float = 10.0
    webhook_max_attempts: int = 8
    webhook_backoff_seconds: float = 30.0  # first retry after this, then doubling
    webhook_disable_after_failures: int = 20  # consecutive failed attempts of one subscription

    # How often the reminder, e-mail and webhook workers look for due work.
    poll_interval_seconds: float = 0.1
    public_base_url: str = "http://127.0.0.1:8004"  # prefix of the iCalendar feed URLs

    def message_id_domain(self) -> str:
        return self.mail_domain or parseaddr(self.mail_from)[1].rpartition("@")[2] or "localhost"

    def preferences_page(self) -> str:
        return self.preferences_url or self.public_base_url.rstrip("/") + "/settings/notifications"
