"""Settings of the reporting service: environment variables prefixed `REPORTING_`."""

from conveyor_kit.settings import DatabaseUrl, ServiceSettings
from pydantic_settings import SettingsConfigDict


class Settings(ServiceSettings):
    """The reporting service's settings; see docs/service-kit.md for every variable."""

    model_config = SettingsConfigDict(env_prefix="REPORTING_")

    port: int = 8005
    database_url: DatabaseUrl = "postgresql://conveyor@127.0.0.1:15432/conveyor_reporting"
