"""Settings of the notifications service: environment variables prefixed `NOTIFICATIONS_`."""

from conveyor_kit.settings import DatabaseUrl, ServiceSettings
from pydantic_settings import SettingsConfigDict


class Settings(ServiceSettings):
    """The notifications service's settings; see docs/service-kit.md for every variable."""

    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_")

    port: int = 8004
    database_url: DatabaseUrl = "postgresql://conveyor@127.0.0.1:15432/conveyor_notifications"
