"""Settings of the automation service: environment variables prefixed `AUTOMATION_`."""

from conveyor_kit.settings import DatabaseUrl, ServiceSettings
from pydantic_settings import SettingsConfigDict


class Settings(ServiceSettings):
    """The automation service's settings; see docs/service-kit.md for every variable."""

    model_config = SettingsConfigDict(env_prefix="AUTOMATION_")

    port: int = 8003
    database_url: DatabaseUrl = "postgresql://conveyor@127.0.0.1:15432/conveyor_automation"
